"""Alibaba SMS replies in pull mode (issue 17): SmsUp messages taken from Alibaba's MNS queue with a temporary
key, recorded in one transaction, deleted only after the commit; a crash between the two re-delivers and the
reply's key absorbs it. Against a loopback server that speaks the MNS XML API and checks its signature."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from responder.inbound import mns
from responder.inbound.pull import LEASE, build_queue, claim, pull_once, pull_state
from responder.models import OutboxMessage, RecipientAck, ReplyCode, SmsReply
from responder.testing.mns import AlicomMnsFake
from test_sms_template_links import CODES, provider_settings
from test_web_links import NOW, dispatch, open_fire

DATA = json.loads((Path(__file__).parent / "data" / "sms_replies.json").read_text(encoding="utf-8"))
UTC = dt.timezone.utc
QUEUE = "Alicom-Queue-1234567890-SmsUp"
LATER = NOW + dt.timedelta(minutes=5)


def test_published_smsup_and_receive_examples_parse():
    """The SmsUp field example (sequence_id a Double, send_time yyyyMMddHHmmss) inside a ReceiveMessage answer."""
    body = base64.b64encode(json.dumps(DATA["aliyun_mns"], ensure_ascii=False).encode()).decode()
    fields = dict(DATA["mns_receive"], MessageBody=body)
    xml = ('<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/">'
           + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</Message>").encode()
    msg = mns.parse_message(xml)
    assert (msg.message_id, msg.receipt_handle, msg.dequeue_count) == (
        "5F290C926D472878-2-14D9529A8FA-20000****", "1-ODU4OTkzNDU5My0xNDMyNzI3ODI3LTItOA==", 1)
    r = mns.sms_up_reply(msg)
    assert (r.provider, r.phone, r.text, r.key) == ("aliyun", "13000000000", "true", "aliyun:123456")
    assert r.sent_at == dt.datetime(2015, 1, 1, 4, 0, tzinfo=UTC)
    # 123456.0 (a Double) is the HTTP push's 123456: one reply whichever way it came
    doc = dict(DATA["aliyun_mns"], sequence_id=123456.0)
    assert mns.sms_up_reply(mns.QueueMessage("m", "h", json.dumps(doc), 1)).key == "aliyun:123456"
    with pytest.raises(ValueError):
        mns.sms_up_reply(mns.QueueMessage("m", "h", "not base64 !", 1))
    with pytest.raises(mns.MnsError):
        mns.parse_message(b'<!DOCTYPE x [<!ENTITY a "b">]><Message/>')
    err = mns.error_of(404, b'<Error xmlns="http://mns.aliyuncs.com/doc/v1/"><Code>MessageNotExist</Code>'
                            b'<Message>Message not exist.</Message></Error>')
    assert (err.code, err.status) == ("MessageNotExist", 404)


def test_signature_string_follows_the_documented_rule():
    """VERB, Content-MD5, Content-Type, Date, the x-mns-* headers (lower-case, sorted), the resource."""
    s = mns.string_to_sign("GET", "", "", "Thu, 07 Mar 2012 18:49:58 GMT",
                           {"X-MNS-Version": "2015-06-06", "Host": "h", "x-mns-a": "1"}, "/queues/q/messages?waitseconds=10")
    assert s == "GET\n\n\nThu, 07 Mar 2012 18:49:58 GMT\nx-mns-a:1\nx-mns-version:2015-06-06\n/queues/q/messages?waitseconds=10"
    assert mns.authorization("id", "key", s).startswith("MNS id:")


@pytest.fixture
def world(tmp_path, engine, monkeypatch):
    """SMS out through the loopback Alibaba (SendSms), replies back through its queue (same fake, one port)."""
    fake = AlicomMnsFake(queue=QUEUE, templates=set(CODES.values()) | {"SMS_999"}).start()
    s = provider_settings(tmp_path, monkeypatch, fake, "aliyun")
    text = s.path.read_text(encoding="utf-8").replace(
        "[notify.replies]\nenabled = true\n",
        f'[notify.replies]\nenabled = true\naliyun_queue = "{QUEUE}"\naliyun_mns_endpoint = "{fake.url}"\n'
        f'aliyun_token_endpoint = "{fake.url}"\npull_wait_seconds = 3\n', 1)
    s.path.write_text(text, encoding="utf-8")
    from responder.config import load

    settings = load(s.path)
    case_id = open_fire(engine, settings)
    dispatch(engine, settings, NOW)
    with Session(engine) as ses:
        deputy = ses.exec(select(OutboxMessage).where(OutboxMessage.channel == "sms",
                                                     OutboxMessage.recipient.like("%:deputy"))).first()
        code = ses.exec(select(ReplyCode).where(ReplyCode.case_id == case_id)).one().code
    yield settings, engine, fake, deputy, code
    fake.stop()


def run_pass(settings, engine, now, owner="w1"):
    async def go():
        q = build_queue(settings)
        try:
            return await pull_once(engine, settings, q, now, owner=owner)
        finally:
            await q.aclose()
    return asyncio.run(go())


def replies(engine) -> list[tuple[str, str]]:
    with Session(engine) as s:
        return [(r.dedupe_key, r.outcome) for r in s.exec(select(SmsReply).order_by(SmsReply.id)).all()]


def test_a_pulled_reply_signs_and_is_deleted_after_the_commit(world):
    """The reply "<code> 收到" from the deputy's number, taken from the queue: 签收 recorded, then deleted."""
    settings, engine, fake, deputy, code = world
    fake.put_sms_up(deputy.address, f"{code} 收到", sequence_id=777)
    rep = run_pass(settings, engine, LATER)
    assert (rep.received, rep.deleted, rep.outcomes, rep.error) == (1, 1, ["acked"], "")
    assert fake.waiting == 0 and fake.token_calls == 1 and fake.mns_rejects == ["MessageNotExist"]
    assert fake.waits[0] == 3  # the first receive long-polls; the next ones only drain
    assert replies(engine) == [("aliyun:777", "acked")]
    with Session(engine) as s:
        assert [(a.recipient, a.via) for a in s.exec(select(RecipientAck)).all()] == [(deputy.recipient, "sms")]
    assert run_pass(settings, engine, LATER).received == 0


def test_a_crash_between_commit_and_delete_redelivers_and_changes_nothing(world):
    """DeleteMessage fails (or the process dies) after the reply committed: the message comes back once its
    visibility ends, is recognised by its key, and is deleted then. The failed pass backs the next one off."""
    settings, engine, fake, deputy, code = world
    fake.put_sms_up(deputy.address, code, sequence_id=801)
    fake.fail_delete_next = 1
    rep = run_pass(settings, engine, LATER)
    assert rep.outcomes == ["acked"] and rep.deleted == 0 and "InternalError" in rep.error
    assert fake.waiting == 1
    st = pull_state(engine)
    assert st["failures"] == 1 and rep.next_at == LATER + dt.timedelta(seconds=30)
    assert run_pass(settings, engine, LATER + dt.timedelta(seconds=10)).skipped == "backoff"
    fake.end_visibility()
    rep = run_pass(settings, engine, rep.next_at)
    assert (rep.received, rep.deleted, rep.outcomes) == (1, 1, ["duplicate"]) and fake.waiting == 0
    assert pull_state(engine)["failures"] == 0
    # a process that died between commit and delete: a new one (new token) takes the message again
    fake.put_sms_up(deputy.address, code + " 再次", sequence_id=802)

    async def record_then_die():
        q = build_queue(settings)
        msg = await q.receive(wait=0)
        from responder.inbound import record_replies

        out = record_replies(engine, settings, [mns.sms_up_reply(msg)], LATER)
        await q.aclose()  # no delete: the crash
        return out
    assert asyncio.run(record_then_die()) == ["already"]
    fake.end_visibility()
    rep = run_pass(settings, engine, LATER + dt.timedelta(minutes=2))
    assert rep.outcomes == ["duplicate"] and fake.waiting == 0
    assert replies(engine) == [("aliyun:801", "acked"), ("aliyun:802", "already")]
    with Session(engine) as s:
        assert len(s.exec(select(RecipientAck)).all()) == 1


def test_one_worker_at_a_time_and_a_lease_that_runs_out(world):
    """Worker b skips while worker a holds the lease; after the lease ends, b takes the queue."""
    settings, engine, fake, deputy, code = world
    fake.put_sms_up(deputy.address, code, sequence_id=901)
    st, why = claim(engine, "a", LATER)
    assert st is not None and why == ""
    assert run_pass(settings, engine, LATER + dt.timedelta(minutes=1), owner="b").skipped == "leased"
    assert fake.waiting == 1
    rep = run_pass(settings, engine, LATER + LEASE + dt.timedelta(seconds=1), owner="b")
    assert rep.outcomes == ["acked"] and fake.waiting == 0


def test_a_message_that_is_not_a_reply_is_kept_for_the_office_and_let_go(world):
    """A body that is not an SmsUp message: stored as unparsed (never acted on), deleted so it cannot loop."""
    settings, engine, fake, _deputy, _code = world
    fake.put("<<not base64>>")
    rep = run_pass(settings, engine, LATER)
    assert rep.outcomes == ["unparsed"] and rep.deleted == 1 and fake.waiting == 0
    [(key, outcome)] = replies(engine)
    assert key.startswith("aliyun-mns:") and outcome == "unparsed"


def test_token_refused_expired_or_revoked(world, monkeypatch):
    """A wrong account key is refused by the token service (nothing taken, back off); a revoked temporary key
    gets one fresh token; a token about to expire is replaced before use."""
    settings, engine, fake, deputy, code = world
    fake.put_sms_up(deputy.address, code, sequence_id=1001)

    async def wrong_key():
        q = build_queue(settings)
        q.access_key_secret = "wrong"
        try:
            return await pull_once(engine, settings, q, LATER, owner="w1")
        finally:
            await q.aclose()
    rep = asyncio.run(wrong_key())
    assert rep.received == 0 and "SignatureDoesNotMatch" in rep.error and fake.waiting == 1
    assert pull_state(engine)["failures"] == 1

    async def two_passes():
        q = build_queue(settings)
        try:
            await q.receive(wait=0)  # takes a token (and the message, which goes back at once)
            fake.end_visibility()
            fake.revoke_tokens()
            return await pull_once(engine, settings, q, LATER + dt.timedelta(minutes=5), owner="w1")
        finally:
            await q.aclose()
    rep = asyncio.run(two_passes())
    assert rep.outcomes == ["acked"] and fake.token_calls == 2 and "InvalidAccessKeyId" in fake.mns_rejects
    fake.token_ttl = 60  # inside the 2-minute margin: every request fetches a new one
    fake.put_sms_up(deputy.address, code, sequence_id=1002)
    calls = fake.token_calls
    run_pass(settings, engine, LATER + dt.timedelta(minutes=10))
    assert fake.token_calls > calls + 1


def test_pull_mode_needs_replies_on_and_the_alibaba_account(world, tmp_path):
    """check-config accepts the pull configuration above; a queue without Alibaba's account is refused."""
    from responder.config import load
    from responder.service.checks import run_checks

    settings, *_ = world
    assert run_checks(settings) == []
    text = settings.path.read_text(encoding="utf-8").replace('provider = "aliyun"', 'provider = "http"', 1)
    settings.path.write_text(text, encoding="utf-8")
    problems = run_checks(load(settings.path))
    assert any("notify.replies.aliyun_queue" in p and 'provider = "aliyun"' in p for p in problems), problems
