"""SMS channels against loopback servers that implement each provider's API and verify its signature."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from responder.notify.channels.aliyun import AliyunSmsChannel
from responder.notify.channels.base import ChannelError, OutgoingMessage
from responder.notify.channels.http_gateway import HttpGatewayChannel
from responder.notify.channels.tencent import TencentSmsChannel
from responder.testing.sms_gateway import AliyunFake, GatewayStub, TencentFake

MSG = OutgoingMessage(key="clock:1|g1:s1|sms|fgw:liaison", address="13800000001", kind="reminder",
                      text="【石台县政务公开】舆情“停水 a+b/c=d *”须于07-17 10:00前回应。", template_code="SMS_1",
                      params={"title": "停水 a+b/c=d *~", "deadline": "07月17日10:00"})
NOW = dt.datetime.now(dt.timezone.utc)


def run(coro):
    return asyncio.run(coro)


async def _send(ch, msg=MSG):
    try:
        return await ch.send(msg)
    finally:
        await ch.aclose()


async def _query(ch, msg, since):
    try:
        return await ch.query(msg, since=since)
    finally:
        await ch.aclose()


def aliyun(fake, sig="v3", secret="testsecret", timeout=5.0):
    return AliyunSmsChannel(access_key_id="testid", access_key_secret=secret, sign_name="石台县政务公开",
                            endpoint=fake.url, signature=sig, timeout=timeout)


def tencent(fake, secret="SECRETEXAMPLE", timeout=5.0):
    return TencentSmsChannel(secret_id="AKIDEXAMPLE", secret_key=secret, sdk_app_id="1400006666",
                             sign_name="石台县政务公开", endpoint=fake.url, timeout=timeout)


def gateway(stub, **kw):
    return HttpGatewayChannel(url=stub.url + "send", success_path="code", success_value="0", id_path="id",
                              throttle_codes=["THROTTLED"], permanent_codes=["INVALID_NUMBER"], **kw)


@pytest.mark.parametrize("sig", ["v3", "v1"])
def test_aliyun_send_accepted_with_verified_signature_and_out_id(sig):
    """Alibaba fake verifies the signature (V3 and v1) and receives template, params and our key as OutId."""
    with AliyunFake(templates={"SMS_1"}) as f:
        res = run(_send(aliyun(f, sig)))
        assert res.provider_id == f.sent[0]["biz_id"]
        assert f.signature_versions == [sig]
        assert f.sent[0]["params"] == MSG.params and f.sent[0]["out_id"] == MSG.provider_key
        assert f.sent[0]["sign"] == "石台县政务公开"


@pytest.mark.parametrize("sig", ["v3", "v1"])
def test_aliyun_wrong_secret_is_rejected_by_the_fake_as_permanent(sig):
    """A wrong secret gives SignatureDoesNotMatch, which is permanent (retrying cannot fix a key)."""
    with AliyunFake() as f:
        with pytest.raises(ChannelError) as e:
            run(_send(aliyun(f, sig, secret="wrong")))
        assert e.value.code == "SignatureDoesNotMatch" and e.value.permanent and not f.sent


def test_aliyun_invalid_number_is_permanent_and_throttling_is_retryable():
    """isv.MOBILE_NUMBER_ILLEGAL is permanent; Throttling.User is retryable with a pause."""
    with AliyunFake() as f:
        f.invalid_numbers.add(MSG.address)
        with pytest.raises(ChannelError) as e:
            run(_send(aliyun(f)))
        assert e.value.permanent and e.value.code == "isv.MOBILE_NUMBER_ILLEGAL"
        f.invalid_numbers.clear()
        f.throttle_next = 1
        with pytest.raises(ChannelError) as e:
            run(_send(aliyun(f)))
        assert not e.value.permanent and e.value.throttled and e.value.retry_after
        f.fail_next = 1
        with pytest.raises(ChannelError) as e:
            run(_send(aliyun(f)))
        assert not e.value.permanent and not e.value.throttled


def test_aliyun_timeout_is_unknown_and_query_finds_the_out_id():
    """A late answer is an unknown outcome; QuerySendDetails then finds our OutId (sent) — no resend needed."""
    with AliyunFake() as f:
        f.delay = 0.5
        with pytest.raises(ChannelError) as e:
            run(_send(aliyun(f, timeout=0.2)))
        assert e.value.unknown and not e.value.permanent
        f.delay = 0
        other = OutgoingMessage(key="another", address=MSG.address, kind="reminder", text="")
        assert run(_query(aliyun(f), MSG, NOW)) is True
        assert run(_query(aliyun(f), other, NOW)) is False


def test_tencent_send_accepted_with_verified_tc3_and_session_context():
    """Tencent fake verifies TC3; positional params in params.toml order; SessionContext carries our key."""
    with TencentFake(templates={"SMS_1"}) as f:
        res = run(_send(tencent(f)))
        assert res.provider_id == f.sent[0]["serial"]
        assert f.sent[0]["params"] == list(MSG.params.values()) and f.sent[0]["session"] == MSG.provider_key


def test_tencent_http_200_with_bad_number_is_permanent():
    """Tencent answers HTTP 200 for a bad number; the per-number Code is read and the failure is permanent."""
    with TencentFake() as f:
        f.invalid_numbers.add(MSG.address)
        with pytest.raises(ChannelError) as e:
            run(_send(tencent(f)))
        assert e.value.permanent and e.value.code == "InvalidParameterValue.IncorrectPhoneNumber"


def test_tencent_wrong_key_throttle_and_500_are_classified():
    """AuthFailure.SignatureFailure is permanent, RequestLimitExceeded throttled, HTTP 500 retryable."""
    with TencentFake() as f:
        with pytest.raises(ChannelError) as e:
            run(_send(tencent(f, secret="nope")))
        assert e.value.code == "AuthFailure.SignatureFailure" and e.value.permanent
        f.throttle_next = 1
        with pytest.raises(ChannelError) as e:
            run(_send(tencent(f)))
        assert e.value.throttled and not e.value.permanent
        f.fail_next = 1
        with pytest.raises(ChannelError) as e:
            run(_send(tencent(f)))
        assert not e.value.permanent and not e.value.throttled
        assert not f.sent


def test_tencent_pull_status_finds_session_context():
    """After a send, PullSmsSendStatusByPhoneNumber shows our SessionContext: the provider can tell."""
    with TencentFake() as f:
        run(_send(tencent(f)))
        assert run(_query(tencent(f), MSG, NOW - dt.timedelta(seconds=5))) is True


@pytest.mark.parametrize("body", ["json", "form"])
def test_gateway_sends_templated_fields(body):
    """The generic gateway receives phone, text and key from the configured field templates (JSON and form)."""
    with GatewayStub() as g:
        res = run(_send(gateway(g, body=body)))
        assert res.provider_id == "gw-1"
        assert g.sent[0]["text"] == MSG.text and g.sent[0]["key"] == MSG.provider_key


def test_gateway_codes_throttle_and_invalid_number():
    """Gateway answer codes map to throttled (retry later) and permanent (bad number); 500 retries."""
    with GatewayStub() as g:
        g.throttle_next = 1
        with pytest.raises(ChannelError) as e:
            run(_send(gateway(g)))
        assert e.value.throttled
        g.fail_next = 1
        with pytest.raises(ChannelError) as e:
            run(_send(gateway(g)))
        assert not e.value.permanent and e.value.code == "HTTP 500"
        g.invalid_numbers.add(MSG.address)
        with pytest.raises(ChannelError) as e:
            run(_send(gateway(g)))
        assert e.value.permanent and e.value.code == "INVALID_NUMBER"


def test_gateway_connection_refused_is_a_plain_retry():
    """Nothing listening: a connect error, retryable, and not 'unknown' (nothing reached the gateway)."""
    with GatewayStub() as g:
        url = g.url
    ch = HttpGatewayChannel(url=url + "send")
    with pytest.raises(ChannelError) as e:
        run(_send(ch))
    assert not e.value.permanent and not e.value.unknown and e.value.code == "connect"
