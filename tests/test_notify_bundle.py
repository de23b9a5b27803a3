"""Bundles (issue 17): one SMS and one e-mail per person per moment, not one per case.

The pure decision (``notify.bundle.plan_bundles``) is driven by tables; the shell by the engine
and the loopback SMS gateway: two 5-hour cases falling overdue 30 seconds apart reach each person
as one SMS with one reply code, and a reply with that code signs for both; a crash between the
bundle's claim and its record neither loses nor doubles it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re

import pytest
from sqlmodel import Session, select

from responder import engine as eng
from responder.models import Case, OutboxMessage, RecipientAck, SmsReply
from responder.notify import reconcile_sending
from responder.notify.bundle import Waiting, bundle_context, plan_bundles
from responder.notify.channels import build_channels
from responder.notify.dispatch import dispatch_due
from responder.notify.render import Renderer
from responder.testing.engine import add_item
from responder.testing.sms_gateway import GatewayStub
from test_web_links import app_at, settings_for

UTC = dt.timezone.utc
T = dt.datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
W = dt.timedelta(seconds=60)
GAP = dt.timedelta(seconds=3600)
S = dt.timedelta(seconds=1)


def w(i, kind="overdue", at=0, *, addr="13800000001", ch="sms", nxt=None, case=None):
    due = T + at * S
    return Waiting(id=i, kind=kind, channel=ch, address=addr, case_id=case or i, due_at=due,
                   next_attempt_at=T + nxt * S if nxt is not None else due, first_alert=kind == "case_opened")


# (rows, now offset s, last bundle sent offset s or None) -> (bundles, alone, wait {id: offset s})
TABLE = [
    ("two steps 30 s apart wait for each other", [w(1, at=0), w(2, at=30)], 30, None, [], [], {1: 60, 2: 60}),
    ("…and go together when the first has waited the window", [w(1, at=0, nxt=60), w(2, at=30, nxt=60)], 60, None,
     [[1, 2]], [], {}),
    ("a lone step goes after the window", [w(1, at=0, nxt=60)], 60, None, [], [1], {}),
    ("a new 5-hour case's first alert never waits, and takes the others along",
     [w(1, at=0, nxt=60), w(2, "case_opened", at=20)], 20, None, [[1, 2]], [], {}),
    ("a lone first alert goes at once", [w(1, "case_opened", at=0)], 0, None, [], [1], {}),
    ("other addresses and channels are other bundles",
     [w(1, at=0, nxt=60), w(2, at=0, addr="13800000002", nxt=60), w(3, at=0, ch="email", addr="a@b", nxt=60)], 60, None,
     [], [3, 1, 2], {}),
    ("a row not yet due is left alone", [w(1, at=0, nxt=60), w(2, at=90)], 60, None, [], [1], {}),
    ("a repeat with no bundle sent lately waits only the window", [w(1, "repeat_overdue", at=0)], 0, None, [], [], {1: 60}),
    ("a repeat waits for the next bundle: the last one + bundle_repeat_s", [w(1, "repeat_overdue", at=0)], 0, -600,
     [], [], {1: 3000}),
    ("…but never longer than bundle_repeat_s after it fell due", [w(1, "repeat_overdue", at=0)], 0, -30,
     [], [], {1: 3570}),
    ("repeats of several cases go as one at the repeat time",
     [w(1, "repeat_overdue", at=0, nxt=3000), w(2, "repeat_overdue", at=1200, nxt=3000),
      w(3, "repeat_overdue", at=2400, nxt=3000)], 3000, -600, [[1, 2, 3]], [], {}),
    ("a fresh step brings the waiting repeats along within the window",
     [w(1, "repeat_overdue", at=0, nxt=3000), w(2, "final_warning", at=100)], 100, -600, [], [], {1: 160, 2: 160}),
    ("a row already told to wait until then is not rewritten", [w(1, at=0, nxt=60), w(2, at=30)], 30, None,
     [], [], {2: 60}),
]


@pytest.mark.parametrize("name,rows,now,last,bundles,alone,wait", TABLE, ids=[t[0] for t in TABLE])
def test_plan_bundles(name, rows, now, last, bundles, alone, wait):
    lasts = {} if last is None else {("sms", "13800000001"): T + last * S}
    plan = plan_bundles(rows, T + now * S, window=W, repeat_gap=GAP, last_sent=lasts)
    assert plan.bundles == bundles
    assert sorted(plan.alone) == sorted(alone)
    assert plan.wait == {i: T + s * S for i, s in wait.items()}


def test_window_zero_sends_what_is_due_together_at_once():
    plan = plan_bundles([w(1, at=0), w(2, at=0), w(3, "repeat_overdue", at=0)], T, window=dt.timedelta(0),
                        repeat_gap=dt.timedelta(0), last_sent={("sms", "13800000001"): T})
    assert plan.bundles == [[1, 2, 3]] and not plan.wait


def test_bundle_context_lists_each_case_once_most_urgent_first():
    """5-hour cases first, then the earliest deadline; a case's latest news (its repeat) stands for it."""
    c = lambda cid, cls, deadline, over=0, rep=0: {"case_id": cid, "clock_class": cls, "deadline_at": deadline,  # noqa: E731
                                                  "overdue_seconds": over, "repeat_no": rep, "case_title": f"t{cid}"}
    items = [("reminder", c(1, "48h", "2026-11-30T03:00:00Z")),
             ("overdue", c(2, "5h", "2026-11-30T05:00:00Z", 60)),
             ("repeat_overdue", c(2, "5h", "2026-11-30T05:00:00Z", 7260, 1)),
             ("case_opened", c(3, "5h", "2026-11-30T09:00:00Z")),
             ("overdue", c(4, "5h", "2026-11-30T01:00:00Z", 3600))]
    ctx = bundle_context(items, {"recipient_name": "王", "county": "石台县", "case_title": "x"}, reply_code="4821",
                         console_url="https://c")
    assert ctx["case_ids"] == [4, 2, 3, 1] and ctx["count"] == 4 and ctx["overdue_count"] == 2
    assert ctx["items"][1]["kind"] == "repeat_overdue" and ctx["reply_code"] == "4821"
    assert "case_title" not in ctx


# ---------------------------------------------------------------- the shell, end to end

BLAST = "石台县丁香镇一化工厂发生爆炸 已致12人死亡"
BUS = "矶滩乡客车侧翻事故死亡人数升至11人"
BUNDLE_CODE = re.compile(r"回复 (\d{4}) 签收以上(\d+)件$")
TOKEN = "reply-token-" + "r" * 20


def _dispatch(engine, settings, now, channels=None):
    async def go():
        chs = channels if channels is not None else build_channels(settings)
        try:
            return await dispatch_due(engine, settings, chs, Renderer.from_dir(settings.data_paths["templates"]), now=now,
                                      owner="t")
        finally:
            for ch in chs.values():
                await ch.aclose()
    return asyncio.run(go())


def _two_cases(engine, settings):
    """Two 5-hour cases opened 30 seconds apart: each first alert goes at once, on its own."""
    for i, (title, text) in enumerate(((BLAST, "丁香镇化工厂爆炸，已造成12人死亡。"), (BUS, "截至目前，事故已造成11人死亡。"))):
        at = T + i * 30 * S
        add_item(engine, title=title, text=text, published_at=at - dt.timedelta(minutes=5), first_seen_at=at,
                 guid=f"b{i}", role="incident", source="test-incident")
        eng.open_cases(engine, settings, at)
        eng.advance(engine, settings, at)
        rep = _dispatch(engine, settings, at)
        assert rep.bundles == 0 and rep.waiting == 0 and rep.sent >= 1, rep  # never held back
    with Session(engine) as s:
        cases = s.exec(select(Case).order_by(Case.id)).all()
        assert [c.clock_class for c in cases] == ["5h", "5h"]
        return [c.id for c in cases]


def _overdue(engine, settings, stub):
    """Both clocks fall overdue 30 s apart; the overdue notices to one person go as one bundle after the window."""
    start = T + dt.timedelta(hours=5)
    for at in (start, start + 30 * S):
        eng.advance(engine, settings, at)
        rep = _dispatch(engine, settings, at)
        assert rep.sent == 0 or rep.bundles == 0
    before = len(stub.sent)
    rep = _dispatch(engine, settings, start + 60 * S)
    return rep, stub.sent[before:]


def test_two_overdue_cases_one_sms_per_person_and_one_code_signs_both(tmp_path, engine, monkeypatch):
    monkeypatch.setenv("RESPONDER_SMS_REPLY_TOKEN", TOKEN)
    with GatewayStub() as stub:
        settings = settings_for(tmp_path, stub, web='[notify.replies]\nenabled = true\n')
        case_ids = _two_cases(engine, settings)
        rep, sent = _overdue(engine, settings, stub)
    assert rep.bundles >= 1 and rep.bundled >= 2 * rep.bundles
    bundles = [m for m in sent if BUNDLE_CODE.search(m["text"])]
    assert bundles, [m["text"] for m in sent]
    with Session(engine) as s:
        office = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "bundle", OutboxMessage.channel == "sms",
                                                    OutboxMessage.recipient == "office:deputy")).one()
        members = s.exec(select(OutboxMessage).where(OutboxMessage.digest_id == office.id)).all()
        assert office.status == "sent" and sorted(m.case_id for m in members) == sorted(case_ids)
        assert {m.status for m in members} == {"merged"} and all(m.sent_at is None for m in members)
        # one SMS per address in that moment: no overdue notice went on its own to anyone who got a bundle
        bundled_addresses = {b.address for b in s.exec(select(OutboxMessage).where(OutboxMessage.kind == "bundle")).all()}
        alone = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "overdue", OutboxMessage.status == "sent")).all()
        assert not bundled_addresses & {m.address for m in alone}
    text = next(m["text"] for m in bundles if m["phone"] == office.address)
    assert "您有2件舆情须立即处理" in text and "已超时" in text and len(text) <= settings.file.notify.sms.text_max_len
    code = BUNDLE_CODE.search(text).group(1)
    # the reply with the bundle's code from the office deputy's number signs for both cases
    c = app_at(settings, engine, T + dt.timedelta(hours=5, minutes=5))
    body = json.dumps([{"phone_number": "+86" + office.address, "content": code, "sequence_id": "b-1"}])
    assert c.post(f"/sms/replies/aliyun?token={TOKEN}", content=body.encode(),
                  headers={"Content-Type": "application/json"}).status_code == 200
    # from another number: recorded, never acted on
    other = json.dumps([{"phone_number": "13999999999", "content": code, "sequence_id": "b-2"}])
    c.post(f"/sms/replies/aliyun?token={TOKEN}", content=other.encode(), headers={"Content-Type": "application/json"})
    with Session(engine) as s:
        acks = s.exec(select(RecipientAck).where(RecipientAck.recipient == "office:deputy")).all()
        assert sorted(a.case_id for a in acks) == sorted(case_ids)
        assert [r.outcome for r in s.exec(select(SmsReply).order_by(SmsReply.id)).all()] == ["acked", "unmatched"]
    # the deputy's repeats stop; the clocks run on; the others' repeats come as one bundle per person
    for h in range(1, 5):
        eng.advance(engine, settings, T + dt.timedelta(hours=5 + h))
    with Session(engine) as s:
        reps = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "repeat_overdue")).all()
        assert reps and "office:deputy" not in {m.recipient for m in reps}


class _Killed(BaseException):
    """Stands for kill -9 during the provider call: nothing after it runs."""


class _Dies:
    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def send(self, msg):
        raise _Killed()


def test_a_crash_during_the_bundle_send_neither_loses_nor_doubles_it(tmp_path, engine):
    """Killed during the provider call: the bundle row is reconciled as "outcome unknown" and resent once,
    marked 【重发】 (the HTTP gateway can be neither asked nor deduplicate); its members are never sent alone."""
    with GatewayStub() as stub:
        settings = settings_for(tmp_path, stub)
        _two_cases(engine, settings)
        start = T + dt.timedelta(hours=5)
        for at in (start, start + 30 * S):
            eng.advance(engine, settings, at)
            _dispatch(engine, settings, at)
        before = len(stub.sent)

        async def crashing():
            chs = build_channels(settings)
            try:
                await dispatch_due(engine, settings, {"sms": _Dies(chs["sms"]), "email": chs["email"]},
                                   Renderer.from_dir(settings.data_paths["templates"]), now=start + 60 * S, owner="dead")
            finally:
                for ch in chs.values():
                    await ch.aclose()
        with pytest.raises(_Killed):
            asyncio.run(crashing())
        with Session(engine) as s:
            stuck = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "bundle", OutboxMessage.channel == "sms",
                                                       OutboxMessage.status == "sending")).all()
            assert stuck
        restart = start + dt.timedelta(minutes=2)
        reconcile_sending(engine, settings, build_channels(settings), now=restart)
        _dispatch(engine, settings, restart)
        _dispatch(engine, settings, restart + dt.timedelta(minutes=10))
        after = stub.sent[before:]
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "bundle", OutboxMessage.channel == "sms")).all()
        members = s.exec(select(OutboxMessage).where(OutboxMessage.digest_id.in_([r.id for r in rows]))).all()
    assert rows and {r.status for r in rows} == {"sent"}
    assert {m.status for m in members} == {"merged"}
    for r in rows:
        copies = [m for m in after if m["phone"] == r.address and "件舆情须立即处理" in m["text"]]
        assert len(copies) <= 1 or (len(copies) == 2 and copies[1]["text"].startswith("【重发】")), copies
        assert not [m for m in after if m["phone"] == r.address and "【已超时】" in m["text"]]  # no member alone
