"""Links in escalation messages (issue 17): created with the outbox rows, sent through the loopback SMS
gateway, used once on ``/l/<token>`` without a password, refused when reused, expired or edited."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from starlette.testclient import TestClient

from responder import engine as eng
from responder.notify.channels import build_channels
from responder.config import load
from responder.models import AuditEvent, Case, Clock, MessageLink, OutboxMessage, RecipientAck, Release
from responder.notify import dispatch_due
from responder.notify.render import Renderer
from responder.testing.engine import add_item, make_test_settings
from responder.testing.sms_gateway import GatewayStub
from responder.web import create_app

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 Beijing
PUBLIC = "https://zwgk.example.gov.cn/console"
FIRE = "石台县丁香镇一化工厂发生火灾 已致12人死亡"
LINK_RE = re.compile(r"(https://zwgk\.example\.gov\.cn/console/l/([A-Za-z0-9_-]{11}))")


def settings_for(tmp_path, stub=None, *, web: str = f'public_url = "{PUBLIC}"\n'):
    s = make_test_settings(tmp_path, extra_toml="[web]\n" + web)
    if stub is None:
        return s
    text = s.path.read_text(encoding="utf-8").replace("http://127.0.0.1:9/sms", stub.url + "send")
    text = text.replace('endpoint = "' + stub.url + 'send"',
                        'endpoint = "' + stub.url + 'send"\nsuccess_path = "code"\nsuccess_value = "0"\nid_path = "id"', 1)
    s.path.write_text(text, encoding="utf-8")
    return load(s.path, require_secrets=False)


def open_fire(engine, settings, now=NOW) -> int:
    add_item(engine, title=FIRE, text="丁香镇化工厂火灾，已造成12人死亡。", published_at=now - dt.timedelta(minutes=20),
             first_seen_at=now, link="https://news.example/fire")
    eng.open_cases(engine, settings, now)
    eng.advance(engine, settings, now)
    with Session(engine) as s:
        case = s.exec(select(Case)).one()
        assert case.clock_class == "5h"
        return case.id


def dispatch(engine, settings, now):
    async def go():
        chs = build_channels(settings)
        try:
            return await dispatch_due(engine, settings, chs, Renderer.from_dir(settings.data_paths["templates"]), now=now,
                                      owner="t")
        finally:
            for c in chs.values():
                await c.aclose()
    return asyncio.run(go())


def app_at(settings, engine, now):
    return TestClient(create_app(settings, engine, clock=lambda: now, key="k" * 40), follow_redirects=False)


def links(engine) -> list[MessageLink]:
    with Session(engine) as s:
        return list(s.exec(select(MessageLink).order_by(MessageLink.id)).all())


def audit_kinds(engine) -> list[str]:
    with Session(engine) as s:
        return [e.kind for e in s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def test_escalation_sms_carries_a_link_and_the_link_records_the_release(tmp_path, engine):
    """The case-opened SMS, delivered by the loopback gateway, ends with a short link; its page records the
    release without a password; the clock stops; the audit names the recipient; the link is then used up."""
    with GatewayStub() as stub:
        settings = settings_for(tmp_path, stub)
        case_id = open_fire(engine, settings)
        rep = dispatch(engine, settings, NOW)
        assert rep.sent >= 1 and stub.sent
        liaison = next(m for m in stub.sent if LINK_RE.search(m["text"]) and "记录发布请点" in m["text"])
    url, token = LINK_RE.search(liaison["text"]).groups()
    assert len(liaison["text"]) <= settings.file.notify.sms.text_max_len
    from responder.notify.links import token_hash

    [row] = [x for x in links(engine) if x.token_hash == token_hash(token)]
    assert row.purpose == "release" and row.case_id == case_id and row.recipient.endswith(":liaison")
    # the token is stored as a hash only
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(MessageLink).where(MessageLink.token_hash == token)).one() == 0

    later = NOW + dt.timedelta(hours=2)
    c = app_at(settings, engine, later)
    page = c.get(f"/l/{token}")
    assert page.status_code == 200 and "记录发布" in page.text and "set-cookie" not in page.headers
    assert "<script" not in page.text.split("</head>")[1]
    r = c.post(f"/l/{token}", data={"url": "https://www.shitai.gov.cn/xxgk/fire.html", "kind": "权威发布",
                                     "at": "2026-11-30T11:30"})
    assert r.status_code == 200 and "已记录权威发布" in r.text, r.text
    with Session(engine) as s:
        rel = s.exec(select(Release)).one()
        assert rel.case_id == case_id and row.recipient_name in rel.recorded_by and row.recipient in rel.recorded_by
    eng.advance(engine, settings, later)
    with Session(engine) as s:
        clocks = s.exec(select(Clock).where(Clock.case_id == case_id, Clock.obligation == "release_5h")).all()
        assert clocks and all(k.state in ("met", "met_late") for k in clocks)
        used = s.exec(select(AuditEvent).where(AuditEvent.kind == "link.used")).one()
        assert used.data["recipient"] == row.recipient and row.recipient_name in used.actor
    assert "link.opened" in audit_kinds(engine)
    # Used once: the same link again, GET or POST, is refused with a clear page and changes nothing.
    again = c.get(f"/l/{token}")
    assert again.status_code == 410 and "已经使用过" in again.text
    r = c.post(f"/l/{token}", data={"url": "https://evil.example/x", "kind": "权威发布"})
    assert r.status_code == 410
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Release)).one() == 1


def test_ack_link_signs_for_that_person_and_stops_their_repeats_not_the_clock(tmp_path, engine):
    """A deputy's link signs (签收) once: the person's receipt is recorded, their repeat_overdue messages stop,
    the legal clock keeps running and the other recipients still get repeats."""
    settings = settings_for(tmp_path)
    case_id = open_fire(engine, settings)
    ack_links = [x for x in links(engine) if x.purpose == "ack"]
    assert ack_links, "deputies and principals get an ack link"
    # the raw token is only in the outbox row's context (the message): find it there
    with Session(engine) as s:
        msgs = s.exec(select(OutboxMessage).where(OutboxMessage.recipient == ack_links[0].recipient)).all()
    token = LINK_RE.search(msgs[0].context["link_url"]).group(2)
    who = ack_links[0].recipient
    c = app_at(settings, engine, NOW + dt.timedelta(minutes=30))
    r = c.post(f"/l/{token}", data={"note": "收到，正在核实"})
    assert r.status_code == 200 and "已签收" in r.text
    with Session(engine) as s:
        ack = s.exec(select(RecipientAck)).one()
        assert (ack.case_id, ack.recipient, ack.via) == (case_id, who, "link")
    # Far past the deadline: the clock is overdue (not stopped) and repeats skip only the person who signed.
    late = NOW + dt.timedelta(hours=12)
    for h in range(1, 13):
        eng.advance(engine, settings, NOW + dt.timedelta(hours=h))
    with Session(engine) as s:
        clock = s.exec(select(Clock).where(Clock.case_id == case_id, Clock.obligation == "release_5h")).one()
        assert clock.state == "overdue"
        repeats = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "repeat_overdue")).all()
        assert repeats, "others still get repeats"
        assert who not in {m.recipient for m in repeats}
        assert late > clock.deadline_at


def test_edited_expired_and_closed_links_are_refused_with_a_clear_page(tmp_path, engine):
    """An edited token, one past ``link_hours``, and one whose case closed are refused (nothing changes)."""
    settings = settings_for(tmp_path, web=f'public_url = "{PUBLIC}"\nlink_hours = 1\n')
    case_id = open_fire(engine, settings)
    with Session(engine) as s:
        ctxs = [m.context for m in s.exec(select(OutboxMessage).where(OutboxMessage.channel == "sms")).all()]
    tokens = [LINK_RE.search(x["link_url"]).group(2) for x in ctxs if x.get("link_url")]
    assert len(tokens) >= 2
    c = app_at(settings, engine, NOW + dt.timedelta(minutes=10))
    edited = tokens[0][:-1] + ("A" if tokens[0][-1] != "A" else "B")
    for bad in (edited, tokens[0] + "x", "short", "AAAAAAAAAA~"):
        r = c.get(f"/l/{bad}")
        assert r.status_code == 404 and "链接无效" in r.text, bad
    assert c.post(f"/l/{edited}", data={"note": "x"}).status_code == 404
    late = app_at(settings, engine, NOW + dt.timedelta(hours=1, minutes=1))
    r = late.get(f"/l/{tokens[0]}")
    assert r.status_code == 410 and "已过期" in r.text
    eng.close_case(engine, case_id, kind="resolved", reason="测试", now=NOW + dt.timedelta(minutes=20))
    r = c.get(f"/l/{tokens[1]}")
    assert r.status_code == 410 and "案件已关闭" in r.text
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(RecipientAck)).one() == 0
        assert s.exec(select(func.count()).select_from(Release)).one() == 0
    assert audit_kinds(engine).count("link.refused") == 2


def test_no_public_url_or_role_switched_off_means_no_link(tmp_path, engine):
    """Without ``[web] public_url`` no message carries a link; ``links = {deputy = "off"}`` silences one role."""
    settings = make_test_settings(tmp_path / "a")
    open_fire(engine, settings)
    with Session(engine) as s:
        assert not any("link_url" in m.context for m in s.exec(select(OutboxMessage)).all())
    assert links(engine) == []


@pytest.mark.parametrize("role", ["deputy"])
def test_role_switch(tmp_path, engine, role):
    """``[web] links`` per contact role: an ``off`` role gets messages without a link, the others with one."""
    settings = settings_for(tmp_path, web=f'public_url = "{PUBLIC}"\nlinks = {{ liaison = "release", {role} = "off", principal = "ack" }}\n')
    open_fire(engine, settings)
    with Session(engine) as s:
        msgs = s.exec(select(OutboxMessage).where(OutboxMessage.recipient != "group")).all()
    assert any(m.context.get("recipient_role") == role for m in msgs)
    for m in msgs:
        assert ("link_url" in m.context) == (m.context.get("recipient_role") != role), m.recipient
    roles = {x.recipient.split(":")[1] for x in links(engine)}
    assert role not in roles and "liaison" in roles
