"""The durable outbox end to end: real databases, real loopback servers, ``now`` moved instead of sleeping."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from responder.notify.channels import build_channels
from responder.config import FileConfig, Settings
from responder.data import load_units
from responder.db import transaction
from responder.models import AuditEvent, DeliveryAttempt, OutboxMessage
from responder.notify import (Candidate, backoff_seconds, dispatch_due, enqueue, next_due_at, plan_batch,
                              quiet_until, reconcile_sending)
from responder.notify.render import Renderer
from responder.testing.sms_gateway import AliyunFake, GatewayStub, TencentFake
from responder.testing.smtp import SmtpSink

warnings.filterwarnings("ignore", message="Session.login_data is deprecated")

REPO = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc
NOW = dt.datetime(2022, 7, 15, 2, 0, tzinfo=UTC)  # 10:00 Beijing
UNITS = load_units(REPO / "config" / "units.toml")
RENDERER = Renderer.from_dir(REPO / "templates")
TEMPLATE_CODES = {k: f"SMS_{i:03d}" for i, k in enumerate(sorted(RENDERER.params_spec))}


def make_settings(*, sms: dict[str, Any] | None = None, email: dict[str, Any] | None = None,
                  limits: dict[str, Any] | None = None, channels=("sms", "email"), quiet_hours="22:00-07:30",
                  secrets: dict[str, str] | None = None, bundle: bool = False) -> Settings:
    # bundle=False: these tests describe the per-row path; bundles (issue 17) are tests/test_notify_bundle.py.
    notify = {"channels": list(channels), "quiet_hours": quiet_hours, "bundle": bundle,
              "email": {"security": "plain", "port": 1, **(email or {})},
              "sms": {"provider": "none", **(sms or {})}, "limits": limits or {}}
    cfg = FileConfig.model_validate({"notify": notify})
    return Settings(path=REPO / "config" / "responder.toml", file=cfg, state_dir=REPO / "var", archive_dir=REPO / "var",
                    database_url="", data_paths={"templates": REPO / "templates"}, domains=(), units=UNITS,
                    secrets=secrets or {})


def aliyun_settings(fake, **kw) -> Settings:
    return make_settings(sms={"provider": "aliyun", "endpoint": fake.url, "sign_name": "石台县政务公开",
                              "access_key_id_secret": "ak", "access_key_secret_secret": "sk",
                              "templates": TEMPLATE_CODES, "timeout": 1.0},
                         secrets={"ak": "testid", "sk": "testsecret"}, channels=("sms",), **kw)


def tencent_settings(fake, **kw) -> Settings:
    return make_settings(sms={"provider": "tencent", "endpoint": fake.url, "sign_name": "石台县政务公开",
                              "access_key_id_secret": "ak", "access_key_secret_secret": "sk", "sdk_app_id": "1400006666",
                              "templates": TEMPLATE_CODES, "param_max_len": 20, "timeout": 1.0},
                         secrets={"ak": "AKIDEXAMPLE", "sk": "SECRETEXAMPLE"}, channels=("sms",), **kw)


def gateway_settings(stub, **kw) -> Settings:
    sms = {"provider": "http", "endpoint": stub.url + "send", "success_path": "code", "success_value": "0",
           "id_path": "id", "throttle_codes": ["THROTTLED"], "permanent_codes": ["INVALID_NUMBER"], "timeout": 1.0,
           **kw.pop("sms", {})}
    return make_settings(sms=sms, channels=("sms",), **kw)


def email_settings(sink, **kw) -> Settings:
    return make_settings(email={"port": sink.port, "security": sink.security, "ca_file": sink.ca_file, "timeout": 2.0},
                         channels=("email",), **kw)


def contact(unit="fgw", role="liaison"):
    return next(u for u in UNITS if u.id == unit).contact(role)


def case_ctx(title="仙寓镇停水引发关注", level=False, **kw) -> dict[str, Any]:
    from responder.notify.render import sample_contexts

    ctx = dict(sample_contexts("reminder")[0 if level else 1][1])
    ctx.update(case_title=title, **kw)
    return ctx


def put(engine, key, *, kind="reminder", urgent=False, unit="fgw", role="liaison", channels=("sms",), ctx=None,
        at=NOW) -> list[OutboxMessage]:
    with transaction(engine) as s:
        return enqueue(s, now=at, key=key, kind=kind, contact=contact(unit, role), context=ctx or case_ctx(level=urgent),
                       channels=list(channels), urgent=urgent, case_id=1)


def dispatch(engine, settings, *, now=NOW, owner="w1", channels=None):
    async def go():
        chs = channels if channels is not None else build_channels(settings)
        try:
            return await dispatch_due(engine, settings, chs, RENDERER, now=now, owner=owner)
        finally:
            for c in chs.values():
                await c.aclose()
    return asyncio.run(go())


def rows(engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def attempts(engine) -> list[DeliveryAttempt]:
    with Session(engine) as s:
        return list(s.exec(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all())


# ---------------------------------------------------------------- pure decisions


def cand(i, *, kind="reminder", urgent=False, recipient="fgw:liaison", channel="sms", at=NOW, attempts=0):
    return Candidate(id=i, kind=kind, channel=channel, recipient=recipient, urgent=urgent, next_attempt_at=at,
                     attempts=attempts, status="pending")


def plan(cands, now=NOW, **kw):
    args = dict(quiet_hours="22:00-07:30", quiet_channels=("sms",), digest_window=dt.timedelta(seconds=60),
                per_recipient=5, window=dt.timedelta(minutes=15), recent_sms={})
    args.update(kw)
    return plan_batch(cands, now, **args)


def test_quiet_hours_cross_midnight_in_beijing_time():
    """22:00–07:30 Beijing: 23:00 and 06:00 are quiet (until 07:30), 10:00 is not."""
    bj = lambda h, m=0, d=15: dt.datetime(2022, 7, d, h, m, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # noqa: E731
    assert quiet_until(bj(23), "22:00-07:30") == bj(7, 30, 16)
    assert quiet_until(bj(6), "22:00-07:30") == bj(7, 30)
    assert quiet_until(bj(10), "22:00-07:30") is None and quiet_until(bj(23), None) is None


def test_quiet_hours_hold_48h_reminders_but_never_urgent_or_overdue():
    """At 23:00 a 48-hour reminder waits until 07:30; a 5-hour case and an overdue notice go now."""
    night = dt.datetime(2022, 7, 15, 15, 0, tzinfo=UTC)  # 23:00 Beijing
    p = plan([cand(1, at=night), cand(2, urgent=True, at=night), cand(3, kind="overdue", at=night),
              cand(4, channel="email", at=night)], now=night)
    assert p.hold == {1: dt.datetime(2022, 7, 15, 23, 30, tzinfo=UTC)}
    assert sorted(p.send) == [2, 3, 4]


def test_digest_folds_non_urgent_per_person_and_keeps_urgent_apart():
    """Three reminders for one person become one digest; the urgent one and another person's go alone."""
    p = plan([cand(1), cand(2), cand(3, at=NOW + dt.timedelta(seconds=30)), cand(4, urgent=True),
              cand(5, recipient="x:liaison")])
    assert p.digests == [[1, 2, 3]] and sorted(p.send) == [4, 5]


def test_rate_limit_defers_beyond_five_in_fifteen_minutes_except_urgent():
    """With 5 SMS in 15 minutes a reminder waits; an overdue notice goes anyway (and counts in the window)."""
    recent = {"fgw:liaison": [NOW - dt.timedelta(minutes=m) for m in (1, 2, 3, 10)]}
    p = plan([cand(1, attempts=1), cand(2, kind="overdue")], recent_sms=recent)
    assert p.send == [2] and p.defer == {1: NOW + dt.timedelta(minutes=5)}  # when the 10-minute-old one leaves
    p = plan([cand(1, attempts=1)], recent_sms={"fgw:liaison": recent["fgw:liaison"][:3]})
    assert p.send == [1] and not p.defer


def test_backoff_grows_exponentially_with_bounded_jitter():
    """30 s, 60 s, 120 s … capped at an hour, each within ±20 %, the same for the same key and attempt."""
    vals = [backoff_seconds(n, base=30, cap=3600, jitter=0.2, key="k") for n in (1, 2, 3, 10)]
    for v, raw in zip(vals, (30, 60, 120, 3600)):
        assert 0.8 * raw <= v <= 1.2 * raw
    assert backoff_seconds(2, base=30, cap=3600, jitter=0.2, key="k") == vals[1]


# ---------------------------------------------------------------- dispatch on both databases


def test_sent_sms_records_attempt_and_provider_id(engine):
    """A due reminder goes through the Alibaba fake; the attempt has channel, times, response; the row is sent."""
    with AliyunFake(templates=set(TEMPLATE_CODES.values())) as f:
        put(engine, "clock:1|s1")
        rep = dispatch(engine, aliyun_settings(f))
        assert rep.sent == 1 and len(f.sent) == 1
        [row], [a] = rows(engine), attempts(engine)
        assert row.status == "sent" and row.provider_id == f.sent[0]["biz_id"] and row.sent_at == NOW
        assert a.outcome == "sent" and a.channel == "sms" and a.started_at == NOW and '"Code": "OK"' in a.provider_response
        from responder.notify.channels.base import provider_key

        assert f.sent[0]["template"] == TEMPLATE_CODES["reminder"] and f.sent[0]["out_id"] == provider_key(row.idem_key)


def test_one_official_many_items_gets_one_digest_sms(engine):
    """Three due reminders for one official: one SMS “您有3项舆情回应即将超时”, the rows merged into it."""
    with GatewayStub() as g:
        for i in range(3):
            put(engine, f"clock:{i}|s1", ctx=case_ctx(title=f"事项{i}"))
        rep = dispatch(engine, gateway_settings(g))
        assert rep.digests == 1 and rep.merged == 3 and rep.sent == 1
        [sms] = g.sent
        assert "您有3项舆情回应即将超时" in sms["text"] and "事项0" in sms["text"]
        st = sorted(r.status for r in rows(engine))
        assert st == ["merged", "merged", "merged", "sent"]


def test_urgent_is_never_folded_or_held(engine):
    """Urgent 5-hour messages at night go out one by one, not folded, not held."""
    night = dt.datetime(2022, 7, 15, 15, 0, tzinfo=UTC)
    with GatewayStub() as g:
        put(engine, "c:1", urgent=True, at=night)
        put(engine, "c:2", urgent=True, at=night)
        put(engine, "c:3", at=night)
        rep = dispatch(engine, gateway_settings(g), now=night)
        assert rep.sent == 2 and rep.held == 1 and len(g.sent) == 2
        held = [r for r in rows(engine) if r.status == "held"]
        assert held[0].next_attempt_at == dt.datetime(2022, 7, 15, 23, 30, tzinfo=UTC)
        assert next_due_at(engine) == held[0].next_attempt_at
        rep = dispatch(engine, gateway_settings(g), now=held[0].next_attempt_at)
        assert rep.sent == 1 and len(g.sent) == 3


def test_500_then_success_retries_with_backoff_and_sends_once(engine):
    """HTTP 500: attempt recorded as retry, row waits its backoff; at that time it is sent once."""
    with TencentFake(templates=set(TEMPLATE_CODES.values())) as f:
        f.fail_next = 1
        put(engine, "c:1", urgent=True)
        settings = tencent_settings(f)
        rep = dispatch(engine, settings)
        [row] = rows(engine)
        assert rep.retried == 1 and row.status == "failed" and row.attempts == 1
        assert NOW + dt.timedelta(seconds=24) <= row.next_attempt_at <= NOW + dt.timedelta(seconds=36)
        assert dispatch(engine, settings, now=row.next_attempt_at - dt.timedelta(seconds=1)).claimed == 0
        rep = dispatch(engine, settings, now=row.next_attempt_at)
        assert rep.sent == 1 and len(f.sent) == 1
        assert [a.outcome for a in attempts(engine)] == ["retry", "sent"]


def test_throttling_code_backs_off_the_whole_provider_without_spending_attempts(engine):
    """Throttled: that row waits ≥ the provider's pause; the rest of the batch is given back, untouched."""
    with GatewayStub() as g:
        g.throttle_next = 1
        put(engine, "c:1", urgent=True, unit="fgw")
        put(engine, "c:2", urgent=True, unit="ggzy")
        settings = gateway_settings(g, limits={"concurrency": 1})
        rep = dispatch(engine, settings)
        assert rep.retried == 1 and rep.deferred == 1 and not g.sent
        r1, r2 = rows(engine)
        assert r1.next_attempt_at >= NOW + dt.timedelta(seconds=60) and r2.attempts == 0 and r2.status == "pending"
        rep = dispatch(engine, settings, now=NOW + dt.timedelta(seconds=90))
        assert rep.sent == 2 and len(g.sent) == 2


def test_invalid_number_is_not_retried_and_escalated_to_the_office(engine):
    """A bad number: one attempt, row dead, a delivery_failure to the office (liaison and deputy), audited."""
    with AliyunFake() as f:
        f.invalid_numbers.add(contact().phone)
        put(engine, "c:1", urgent=True)
        rep = dispatch(engine, aliyun_settings(f))
        assert rep.dead == 1
        all_rows = rows(engine)
        assert all_rows[0].status == "dead" and all_rows[0].attempts == 1
        fails = [r for r in all_rows if r.kind == "delivery_failure"]
        assert {r.recipient for r in fails} == {"office:liaison", "office:deputy"} and all(r.urgent for r in fails)
        assert fails[0].context["failed_recipient"] == "fgw:liaison" and "MOBILE_NUMBER_ILLEGAL" in fails[0].context["error"]
        rep = dispatch(engine, aliyun_settings(f))
        assert rep.sent == 2 and len(f.sent) == 2
        with Session(engine) as s:
            assert s.exec(select(AuditEvent).where(AuditEvent.kind == "notify.dead")).first() is not None


def test_retries_stop_at_max_attempts_and_escalate(engine):
    """Always 500: after max_attempts the row is dead and the office is told."""
    with GatewayStub() as g:
        g.fail_next = 99
        put(engine, "c:1", urgent=True)
        settings = gateway_settings(g, limits={"max_attempts": 3})
        now = NOW
        for _ in range(3):
            dispatch(engine, settings, now=now)
            now += dt.timedelta(hours=2)
        r = rows(engine)
        assert r[0].status == "dead" and r[0].attempts == 3 and any(x.kind == "delivery_failure" for x in r)


def test_smtp_down_then_back_delivers_without_loss(engine):
    """SMTP down: retry recorded, nothing lost; once it is back, the message arrives exactly once."""
    sink = SmtpSink()
    put(engine, "c:1", urgent=True, channels=("email",))
    settings = email_settings(sink)
    rep = dispatch(engine, settings)
    assert rep.retried == 1 and rows(engine)[0].status == "failed"
    with sink:
        rep = dispatch(engine, settings, now=NOW + dt.timedelta(hours=1))
        assert rep.sent == 1 and len(sink.messages) == 1
        assert "【已超时】" not in sink.messages[0].subject and "仙寓镇" in sink.messages[0].subject


def test_timeout_then_provider_says_sent_so_no_second_sms(engine):
    """Alibaba answers too late: outcome unknown; next time QuerySendDetails finds our OutId — no duplicate SMS."""
    with AliyunFake() as f:
        f.delay = 1.5
        put(engine, "c:1", urgent=True)
        settings = aliyun_settings(f)
        rep = dispatch(engine, settings)
        [row] = rows(engine)
        assert rep.retried == 1 and row.outcome_unknown and len(f.sent) == 1
        f.delay = 0
        rep = dispatch(engine, settings, now=row.next_attempt_at)
        assert rep.confirmed_by_provider == 1 and len(f.sent) == 1
        assert rows(engine)[0].status == "sent"


def test_template_failure_sends_the_builtin_message_and_records_it(engine, tmp_path):
    """A broken template at send time: the built-in Chinese message goes out; attempt and audit say so."""
    import shutil

    shutil.copytree(REPO / "templates", tmp_path / "t")
    (tmp_path / "t" / "sms" / "overdue.txt").write_text("{{ no_such_variable }}", encoding="utf-8")
    broken = Renderer.from_dir(tmp_path / "t")
    with GatewayStub() as g:
        put(engine, "c:1", kind="overdue", urgent=True)
        settings = gateway_settings(g)

        async def go():
            chs = build_channels(settings)
            try:
                return await dispatch_due(engine, settings, chs, broken, now=NOW, owner="w")
            finally:
                for c in chs.values():
                    await c.aclose()

        rep = asyncio.run(go())
        assert rep.sent == 1 and rep.fallbacks == 1
        assert "已超时" in g.sent[0]["text"]
        assert "template failed" in attempts(engine)[0].error
        with Session(engine) as s:
            assert s.exec(select(AuditEvent).where(AuditEvent.kind == "notify.template_failed")).first() is not None


def test_two_dispatchers_never_send_the_same_row(engine):
    """A row claimed by one dispatcher is not claimed by a second (conditional UPDATE, rowcount 1)."""
    with GatewayStub() as g:
        put(engine, "c:1", urgent=True)
        settings = gateway_settings(g)

        async def both():
            chs1, chs2 = build_channels(settings), build_channels(settings)
            r = await asyncio.gather(dispatch_due(engine, settings, chs1, RENDERER, now=NOW, owner="a"),
                                     dispatch_due(engine, settings, chs2, RENDERER, now=NOW, owner="b"))
            for c in (*chs1.values(), *chs2.values()):
                await c.aclose()
            return r

        reports = asyncio.run(both())
        assert sum(r.sent for r in reports) == 1 and len(g.sent) == 1


def test_channel_turned_off_cancels_with_reason(engine):
    """SMS rows while the SMS provider is 'none': cancelled with a reason, not retried forever."""
    put(engine, "c:1")
    rep = dispatch(engine, make_settings(channels=("sms",)))
    assert rep.cancelled == 1 and "turned off" in rows(engine)[0].last_error


# ---------------------------------------------------------------- a process killed between send and record

CRASH = textwrap.dedent('''
    import asyncio, os, sys
    sys.path.insert(0, {tests!r})
    from responder import db
    from responder.notify.channels import build_channels
    import test_notify_outbox as t
    from responder.notify import dispatch_due

    engine = db.make_engine({url!r})
    settings = {make!r}
    fake_url = {fake_url!r}

    class F:
        url = fake_url
    settings = getattr(t, settings)(F())

    async def go():
        chs = build_channels(settings)
        real = chs["sms"].send

        async def send_then_die(msg):
            await real(msg)
            os._exit(9)  # killed after the provider accepted, before anything is recorded
        chs["sms"].send = send_then_die
        await dispatch_due(engine, settings, chs, t.RENDERER, now=t.NOW, owner="doomed")
    asyncio.run(go())
''')


def _crash(engine, make: str, fake) -> None:
    url = engine.url.render_as_string(hide_password=False)
    code = CRASH.format(tests=str(Path(__file__).parent), url=url, make=make, fake_url=fake.url + ("send" if make == "gateway_settings" else ""))
    if make == "gateway_settings":
        code = code.replace("F())", "F()) if False else t.make_settings(sms={'provider': 'http', 'endpoint': fake_url, 'success_path': 'code', 'success_value': '0'}, channels=('sms',))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 9, proc.stderr[-2000:]


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_killed_between_send_and_record_provider_confirms_so_no_duplicate(engine, provider):
    """Killed after the provider accepted: at start the row is reconciled, the provider asked, no second SMS."""
    fake_cls, make = (AliyunFake, "aliyun_settings") if provider == "aliyun" else (TencentFake, "tencent_settings")
    with fake_cls() as f:
        put(engine, "c:1", urgent=True)
        _crash(engine, make, f)
        assert len(f.sent) == 1 and rows(engine)[0].status == "sending"
        assert [a.outcome for a in attempts(engine)] == ["sending"]
        settings = aliyun_settings(f) if provider == "aliyun" else tencent_settings(f)
        later = NOW + dt.timedelta(seconds=30)
        assert reconcile_sending(engine, settings, build_channels(settings), now=later) == 1
        assert rows(engine)[0].outcome_unknown
        rep = dispatch(engine, settings, now=later)
        assert rep.confirmed_by_provider == 1 and len(f.sent) == 1
        assert rows(engine)[0].status == "sent"
        assert [a.outcome for a in attempts(engine)] == ["unknown", "sent"]


def test_killed_between_send_and_record_gateway_resends_marked_as_repeat(engine):
    """A gateway that cannot be asked: resent once, marked 【重发】 in the SMS and repeat in the attempt log."""
    with GatewayStub() as g:
        put(engine, "c:1", urgent=True)
        _crash(engine, "gateway_settings", g)
        assert len(g.sent) == 1
        settings = gateway_settings(g)
        later = NOW + dt.timedelta(seconds=30)
        reconcile_sending(engine, settings, {}, now=later)
        rep = dispatch(engine, settings, now=later)
        assert rep.repeats == 1 and len(g.sent) == 2
        assert g.sent[1]["text"].startswith("【重发】") and not g.sent[0]["text"].startswith("【重发】")
        assert [(a.outcome, a.repeat) for a in attempts(engine)] == [("unknown", False), ("sent", True)]


def test_idempotent_gateway_resend_after_crash_is_not_a_duplicate(engine):
    """A gateway that drops repeated keys: the resend carries the same key and the person gets one SMS."""
    with GatewayStub(dedupe=True) as g:
        put(engine, "c:1", urgent=True)
        _crash(engine, "gateway_settings", g)
        settings = gateway_settings(g, sms={"idempotent": True})
        reconcile_sending(engine, settings, {}, now=NOW)
        rep = dispatch(engine, settings, now=NOW)
        assert rep.sent == 1 and rep.repeats == 0 and len(g.sent) == 1
