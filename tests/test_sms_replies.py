"""Reply codes by SMS (issue 17): the code in the escalation SMS, the providers' reply pushes parsed from
their published examples, matched by code AND sender number; everything else recorded, never acted on."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from responder import engine as eng
from responder.inbound import formats
from responder.models import Clock, OutboxMessage, RecipientAck, SmsReply
from responder.testing.sms_gateway import GatewayStub
from test_web_links import NOW, app_at, dispatch, open_fire, settings_for

DATA = json.loads((Path(__file__).parent / "data" / "sms_replies.json").read_text(encoding="utf-8"))
TOKEN = "reply-token-" + "r" * 20
UTC = dt.timezone.utc
CODE_RE = re.compile(r"回复 (\d{4}) 签收$")


def test_alibaba_push_example_parses():
    """Alibaba's published SmsUp push example (sequence_id as string or number) gives one reply keyed by it."""
    for name in ("aliyun", "aliyun_numeric_sequence"):
        [r] = formats.aliyun(json.dumps(DATA[name], ensure_ascii=False).encode())
        assert (r.provider, r.phone, r.text, r.key) == ("aliyun", "1381111****", "内容", "aliyun:1234567890")
        assert r.sent_at == dt.datetime(2017, 8, 31, 16, 0, tzinfo=UTC)  # Beijing midnight
    with pytest.raises(ValueError):
        formats.aliyun(b'{"phone_number": "1"}')


def test_tencent_callback_example_parses():
    """Tencent's published reply callback example: mobile, text, Unix time; no id, so the key is a hash."""
    [r] = formats.tencent(json.dumps(DATA["tencent"]).encode())
    assert (r.provider, r.phone, r.text) == ("tencent", "13xxxxxxxxx", "User reply")
    assert r.sent_at == dt.datetime.fromtimestamp(1457336869, UTC)
    assert formats.tencent(json.dumps(DATA["tencent"]).encode())[0].key == r.key
    with pytest.raises(ValueError, match="境外"):
        formats.tencent(json.dumps(dict(DATA["tencent"], nationcode="1")).encode())


def test_gateway_form_and_json():
    """The generic gateway posts form fields or JSON (phone, text, id, time)."""
    [a] = formats.gateway(b"phone=13800000001&text=4821&id=g1", "application/x-www-form-urlencoded")
    [b] = formats.gateway(json.dumps({"phone": "13800000001", "text": "4821", "id": "g1"}).encode(), "application/json")
    assert a.key == b.key == "gateway:g1" and a.phone == "13800000001"


@pytest.fixture
def world(tmp_path, engine, monkeypatch):
    monkeypatch.setenv("RESPONDER_SMS_REPLY_TOKEN", TOKEN)
    with GatewayStub() as stub:
        settings = settings_for(tmp_path, stub, web='[notify.replies]\nenabled = true\nper_hour = 5\n')
        case_id = open_fire(engine, settings)
        dispatch(engine, settings, NOW)
        sent = list(stub.sent)
    return settings, engine, case_id, sent


def post(c, provider, payload, token=TOKEN):
    return c.post(f"/sms/replies/{provider}?token={token}", content=json.dumps(payload, ensure_ascii=False).encode(),
                  headers={"Content-Type": "application/json"})


def test_reply_code_from_the_right_number_signs_and_stops_repeats_not_the_clock(world):
    """The SMS ends "回复 NNNN 签收"; Alibaba's push of that code from a recipient's number (+86 form) signs for
    that person: their repeats stop, the clock runs on; the same from another number, a replay, an unknown code
    and a flood are recorded and change nothing."""
    settings, engine, case_id, sent = world
    texts = [m for m in sent if CODE_RE.search(m["text"])]
    assert texts, [m["text"] for m in sent]
    code = CODE_RE.search(texts[0]["text"]).group(1)
    with Session(engine) as s:
        deputy = s.exec(select(OutboxMessage).where(OutboxMessage.channel == "sms",
                                                   OutboxMessage.recipient.like("%:deputy"))).first()
    c = app_at(settings, engine, NOW + dt.timedelta(minutes=5))
    assert post(c, "aliyun", [{"phone_number": "13800000000", "content": code}], token="wrong").status_code == 401
    ok = post(c, "aliyun", [{"phone_number": "+86" + deputy.address, "content": f"{code} 收到",
                             "send_time": "2026-11-30 10:05:00", "dest_code": "1", "sequence_id": "s-1"}])
    assert ok.status_code == 200 and ok.json() == {"code": 0, "msg": "接收成功"}
    # replayed by the provider (same sequence_id): nothing new
    assert post(c, "aliyun", [{"phone_number": "+86" + deputy.address, "content": f"{code} 收到",
                               "sequence_id": "s-1"}]).status_code == 200
    # the right code from a number that did not receive it; an unknown code
    post(c, "tencent", {"mobile": "13999999999", "nationcode": "86", "text": code, "time": 1764468300, "sign": "x"})
    post(c, "tencent", {"mobile": "13999999999", "nationcode": "86", "text": "0000" if code != "0000" else "0001",
                        "time": 1764468301, "sign": "x"})
    with Session(engine) as s:
        acks = s.exec(select(RecipientAck)).all()
        assert [(a.recipient, a.via) for a in acks] == [(deputy.recipient, "sms")]
        outcomes = [r.outcome for r in s.exec(select(SmsReply).order_by(SmsReply.id)).all()]
    assert outcomes == ["acked", "wrong_number", "unmatched"]
    # a flood from one number: beyond per_hour, recorded as throttled and never acted on
    for i in range(6):
        post(c, "gateway", {"phone": "13777777777", "text": f"{code}", "id": f"f{i}"})
    with Session(engine) as s:
        flood = [r.outcome for r in s.exec(select(SmsReply).where(SmsReply.phone == "13777777777")).all()]
    assert flood.count("throttled") == 1 and len(flood) == 6
    for h in range(1, 13):
        eng.advance(engine, settings, NOW + dt.timedelta(hours=h))
    with Session(engine) as s:
        assert s.exec(select(Clock).where(Clock.case_id == case_id, Clock.obligation == "release_5h")).one().state == "overdue"
        repeats = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "repeat_overdue")).all()
        assert repeats and deputy.recipient not in {m.recipient for m in repeats}
        assert s.exec(select(func.count()).select_from(RecipientAck)).one() == 1


def test_office_sees_unmatched_replies(world):
    """The 短信回复 page lists replies that were not acted on, for operators only."""
    from responder.web.auth import add_user

    settings, engine, _case_id, _sent = world
    c = app_at(settings, engine, NOW + dt.timedelta(minutes=5))
    post(c, "tencent", {"mobile": "13999999999", "nationcode": "86", "text": "9999 <b>hi</b>", "time": 1, "sign": "x"})
    add_user(engine, settings, name="wang", role="operator", password="correct horse battery", now=NOW)
    t = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    c.post("/login", data={"name": "wang", "password": "correct horse battery", "csrf_token": t, "next": "/replies"})
    page = c.get("/replies")
    assert page.status_code == 200 and "13999999999" in page.text and "&lt;b&gt;hi&lt;/b&gt;" in page.text
    assert "回复码不存在" in page.text or "号码未收到该回复码" in page.text


def test_enabled_replies_need_their_secret(tmp_path, monkeypatch):
    """With replies enabled, a missing reply-URL secret is a configuration error naming the key."""
    from responder.config import ConfigError, load

    monkeypatch.delenv("RESPONDER_SMS_REPLY_TOKEN", raising=False)
    s = settings_for(tmp_path, web='[notify.replies]\nenabled = true\n')
    with pytest.raises(ConfigError, match="notify.replies.token_secret"):
        load(s.path)


def test_cmcc_mas_push_example_parses():
    """云MAS's reply push (unofficial shape: mobile, smsContent, sendTime in Beijing time, addSerial), JSON or form;
    no id, so a replay is known by number, time and text."""
    [r] = formats.cmcc_mas(json.dumps(DATA["cmcc_mas"]).encode(), "application/json")
    assert (r.provider, r.phone, r.text) == ("cmcc_mas", "13800000000", "d")
    assert r.sent_at == dt.datetime(2021, 1, 11, 7, 58, 36, tzinfo=UTC)
    [f] = formats.cmcc_mas(b"mobile=13800000000&smsContent=d&sendTime=2021-01-11+15%3A58%3A36&addSerial=106575297722",
                           "application/x-www-form-urlencoded")
    assert f.key == r.key and r.key.startswith("cmcc_mas:")
    with pytest.raises(ValueError, match="smsContent"):
        formats.cmcc_mas(b'{"mobile": "13800000000"}', "application/json")


def test_cmcc_mas_reply_signs_once(world):
    """A 云MAS reply with the code from a recipient's number signs for that person; the replay changes nothing."""
    settings, engine, _case_id, sent = world
    code = next(CODE_RE.search(m["text"]).group(1) for m in sent if CODE_RE.search(m["text"]))
    with Session(engine) as s:
        deputy = s.exec(select(OutboxMessage).where(OutboxMessage.channel == "sms",
                                                   OutboxMessage.recipient.like("%:deputy"))).first()
    c = app_at(settings, engine, NOW + dt.timedelta(minutes=5))
    body = {"mobile": deputy.address, "smsContent": f"{code}签收", "sendTime": "2026-11-30 10:04:00", "addSerial": "01"}
    for _ in range(2):
        r = post(c, "cmcc_mas", body)
        assert r.status_code == 200 and r.json() == {"rspcod": "success", "success": True}
    assert post(c, "cmcc_mas", {"mobile": deputy.address}).status_code == 400
    with Session(engine) as s:
        rows = s.exec(select(SmsReply)).all()
        assert [(r.provider, r.outcome) for r in rows] == [("cmcc_mas", "acked")]
        assert [a.recipient for a in s.exec(select(RecipientAck)).all()] == [deputy.recipient]
