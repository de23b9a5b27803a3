"""Disclosure requests and inquiry answers on the engine's clocks, on SQLite and PostgreSQL (issue 19).

Time is passed in. Expected dates are the hand computations of tests/test_workdays.py
(official arrangements in tests/data/calendar/official-2025-2026.md).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, select

from responder import audit, engine as eng
from responder.disclosure import service as svc
from responder.models import AuditEvent, Clock, ClockStep, DisclosureRequest, Item, OutboxMessage
from responder.notify.render import Renderer
from responder.report.weekly import weekly_figures, week_bounds
from responder.testing.engine import add_item, make_test_settings
from responder.workdays import BEIJING

UTC = dt.timezone.utc
D = dt.date.fromisoformat
DATA = Path(__file__).parent / "data" / "calendar"


def bj(s: str) -> dt.datetime:
    """A Beijing wall-clock time as aware UTC."""
    return dt.datetime.fromisoformat(s).replace(tzinfo=BEIJING).astimezone(UTC)


def get(engine, rid) -> tuple[DisclosureRequest, Clock]:
    with Session(engine) as s:
        req = s.get(DisclosureRequest, rid)
        return req, s.get(Clock, req.clock_id)


def messages(engine, clock_id=None, kind=None) -> list[OutboxMessage]:
    with Session(engine) as s:
        q = select(OutboxMessage)
        if clock_id is not None:
            q = q.where(OutboxMessage.clock_id == clock_id)
        if kind is not None:
            q = q.where(OutboxMessage.kind == kind)
        return list(s.exec(q.order_by(OutboxMessage.id)).all())


def test_request_clock_runs_the_ladder_and_answer_stops_it(engine, settings):
    """A request gets a clock ending 24:00 Beijing of the 20th working day; steps send; an answer stops it on time."""
    now = bj("2026-03-10 10:00")
    req = svc.add_request(engine, settings, received=D("2026-03-10"), channel="当面", now=now, applicant="张三",
                          description="申请公开2025年仙寓镇道路建设项目资金使用情况")
    r, c = get(engine, req.id)
    assert (r.due_date, r.calendar, c.state) == (D("2026-04-08"), "package", "running")
    assert c.deadline_at == bj("2026-04-09 00:00")  # the end of 04-08, Beijing
    assert c.obligation == "request_answer" and c.case_id is None
    res = eng.advance(engine, settings, now)
    assert res.steps == 1 and res.messages > 0  # case_opened to the office
    # The messages render with the case templates (no template or provider change needed).
    renderer = Renderer.from_dir(settings.data_paths["templates"])
    m = messages(engine, c.id)[0]
    text = renderer.render_sms(m.kind, {**m.context, "county": "石台县"})
    assert f"依申请公开申请#{req.id}" in text and "2026-04-09 00:00" in text, text
    renderer.render_email(m.kind, {**m.context, "county": "石台县"})
    # Half-way reminder, then the answer on 04-08 (the due date) is on time.
    eng.advance(engine, settings, bj("2026-03-25 00:00"))
    svc.answer(engine, settings, req.id, kind="disclosed", on=D("2026-04-08"), now=bj("2026-04-08 17:00"))
    r, c = get(engine, req.id)
    assert (r.state, r.on_time, c.state, c.next_action_at) == ("answered", True, "met", None)
    assert eng.advance(engine, settings, bj("2026-04-10 00:00")).steps == 0


def test_late_answer_after_overdue_is_met_late(engine, settings):
    """Past 24:00 of the due date the clock is overdue; an answer then is recorded as late."""
    req = svc.add_request(engine, settings, received=D("2026-06-06"), channel="网上", now=bj("2026-06-06 12:00"))
    r, c = get(engine, req.id)
    assert r.due_date == D("2026-07-06")  # a Saturday receipt: not find_workday's 07-07
    eng.advance(engine, settings, bj("2026-06-06 12:00"))
    eng.advance(engine, settings, bj("2026-07-07 00:00"))
    r, c = get(engine, req.id)
    assert c.state == "overdue"
    with Session(engine) as s:
        kinds = [st.step_kind for st in s.exec(select(ClockStep).where(ClockStep.clock_id == c.id)).all()]
    assert kinds[0] == "case_opened" and kinds[-1] == "overdue"
    svc.answer(engine, settings, req.id, kind="refused", on=D("2026-07-07"), now=bj("2026-07-07 09:00"))
    r, c = get(engine, req.id)
    assert (r.on_time, c.state) == (False, "met_late")


def test_pause_resume_extension_and_correction_restart(engine, settings):
    """Consultation days are not counted; an extension adds up to 20; a 补正 restarts the count; old messages cancelled."""
    req = svc.add_request(engine, settings, received=D("2026-03-10"), channel="邮寄", now=bj("2026-03-10 09:00"))
    eng.advance(engine, settings, bj("2026-03-10 09:00"))
    svc.pause(engine, settings, req.id, on=D("2026-03-16"), party="第三方", reason="涉及企业商业秘密", now=bj("2026-03-16 10:00"))
    r, c = get(engine, req.id)
    assert (r.state, c.state, c.next_action_at) == ("paused", "paused", None)
    # Nothing fires while paused, even past the old deadline's reminders.
    assert eng.advance(engine, settings, bj("2026-03-19 00:00")).steps == 0
    svc.resume(engine, settings, req.id, on=D("2026-03-20"), now=bj("2026-03-20 16:00"))
    r, c = get(engine, req.id)
    assert (r.state, r.due_date, c.state) == ("open", D("2026-04-14"), "running")
    assert c.deadline_at == bj("2026-04-15 00:00")
    # The extension needs an approver and a reason, at most 20 working days, once.
    with pytest.raises(svc.RequestError, match="批准人"):
        svc.extend(engine, settings, req.id, days=20, approver=" ", reason="量大", now=bj("2026-04-01 10:00"))
    with pytest.raises(svc.RequestError, match="不得超过20"):
        svc.extend(engine, settings, req.id, days=21, approver="李主任", reason="量大", now=bj("2026-04-01 10:00"))
    svc.extend(engine, settings, req.id, days=20, approver="李主任", reason="涉及档案较多", now=bj("2026-04-01 10:00"))
    r, c = get(engine, req.id)
    # 40 counted days after 03-10 with 4 paused: 05-09 (Sat, 调休) + 4 working days: 05-11, 12, 13, 14.
    assert r.due_date == D("2026-05-14")
    assert r.extension["approver"] == "李主任"
    with pytest.raises(svc.RequestError, match="只允许延长一次"):
        svc.extend(engine, settings, req.id, days=5, approver="李主任", reason="再延", now=bj("2026-04-02 10:00"))

    # A second request: 补正 notice, then the corrected application restarts the count.
    req2 = svc.add_request(engine, settings, received=D("2026-03-10"), channel="当面", now=bj("2026-03-10 09:00"))
    svc.correction_notice(engine, settings, req2.id, on=D("2026-03-12"), now=bj("2026-03-12 10:00"))
    r2, c2 = get(engine, req2.id)
    assert (r2.state, c2.state, r2.correction["notice_due"], r2.correction["late"]) == ("awaiting_correction", "paused", "2026-03-19", False)
    svc.correction_received(engine, settings, req2.id, on=D("2026-03-20"), now=bj("2026-03-20 11:00"))
    r2, c2 = get(engine, req2.id)
    assert (r2.count_from, r2.due_date, c2.state) == (D("2026-03-20"), D("2026-04-20"), "running")
    assert c2.started_at == bj("2026-03-20 00:00")


def test_reschedule_cancels_queued_messages_of_the_old_schedule(engine, settings):
    """A pause bumps the clock's generation and cancels what the old schedule had queued but not sent."""
    req = svc.add_request(engine, settings, received=D("2026-03-10"), channel="当面", now=bj("2026-03-10 09:00"))
    eng.advance(engine, settings, bj("2026-03-10 09:00"))
    _, c = get(engine, req.id)
    queued = [m for m in messages(engine, c.id) if m.status == "pending"]
    assert queued
    svc.pause(engine, settings, req.id, on=D("2026-03-10"), party="其他机关", reason="征求县财政局意见", now=bj("2026-03-10 09:30"))
    assert all(m.status == "cancelled" for m in messages(engine, c.id) if m.id in {q.id for q in queued})


def test_mid_december_request_is_calendar_unknown_until_2027_is_added(engine, settings):
    """Received 2026-12-15: strict 2027-01-12 and `calendar_unknown`, one office reminder a day; a 2027 file fixes it."""
    req = svc.add_request(engine, settings, received=D("2026-12-15"), channel="网上", now=bj("2026-12-15 10:00"))
    r, c = get(engine, req.id)
    assert (r.due_date, r.calendar) == (D("2027-01-12"), "unknown")
    assert c.policy["workdays"]["calendar"] == "unknown" and c.policy["workdays"]["unknown_years"] == [2027]
    assert svc.request_view(Session(engine), r)["calendar_unknown"] is True
    res = svc.sweep(engine, settings, bj("2026-12-15 10:05"))
    assert res.reminded
    first = messages(engine, kind="calendar_unknown")
    assert first and {m.recipient for m in first} >= {"office:liaison"}
    assert first[0].context["years"] == [2027]
    # Same Beijing day: no second reminder; the next day: one more.
    assert not svc.sweep(engine, settings, bj("2026-12-15 18:00")).reminded
    assert not svc.sweep(engine, settings, bj("2026-12-16 07:00")).reminded  # before office hours
    assert svc.sweep(engine, settings, bj("2026-12-16 08:30")).reminded
    assert len(messages(engine, kind="calendar_unknown")) == 2 * len(first)
    gen = c.generation
    # A second request, paused for consultation while the year is unknown, follows the file too.
    other = svc.add_request(engine, settings, received=D("2026-12-14"), channel="当面", now=bj("2026-12-16 08:40"))
    svc.pause(engine, settings, other.id, on=D("2026-12-16"), party="第三方", reason="征求意见", now=bj("2026-12-16 08:45"))
    assert get(engine, other.id)[0].calendar == "unknown"
    # The operator adds the year (here the TEST DATA file: 元旦 2027-01-01…03).
    shutil.copy(DATA / "2027.toml", svc.settings_calendar_dir(settings) / "2027.toml")
    res = svc.sweep(engine, settings, bj("2026-12-16 09:00"))
    assert res.rescheduled == [c.id]
    r, c = get(engine, req.id)
    assert (r.due_date, r.calendar) == (D("2027-01-13"), "local")
    assert c.deadline_at == bj("2027-01-14 00:00") and c.generation > gen
    assert c.policy["workdays"]["calendar"] == "local"
    assert get(engine, other.id)[0].calendar == "local"
    with Session(engine) as s:
        ev = s.exec(select(AuditEvent).where(AuditEvent.kind == "clock.rescheduled")).all()[-1]
    assert "2027年放假安排" in ev.data["reason"]
    assert not svc.sweep(engine, settings, bj("2026-12-17 09:00")).reminded  # nothing unknown any more
    with Session(engine) as s:
        assert audit.verify(s).ok


def test_request_items_from_a_request_feed_become_requests_not_opinion(engine, settings):
    """An item from a `request` source is registered as a request (received online that day), never classified."""
    add_item(engine, title="申请公开仙寓镇2025年低保名单", text="本人申请公开…", published_at=bj("2026-09-30 20:00"),
             first_seen_at=bj("2026-09-30 20:05"), source="yisq", role="request", status="request")
    opened = eng.open_cases(engine, settings, bj("2026-09-30 20:10"))
    assert opened.cases_opened == []
    res = svc.sweep(engine, settings, bj("2026-09-30 20:10"))
    assert len(res.requests_registered) == 1
    r, c = get(engine, res.requests_registered[0])
    assert (r.channel, r.received_on, r.due_date) == ("网上", D("2026-09-30"), D("2026-11-03"))
    with Session(engine) as s:
        assert s.get(Item, r.item_id).status == "registered"
    assert svc.sweep(engine, settings, bj("2026-09-30 20:20")).requests_registered == []


def test_inquiry_items_get_a_working_day_answer_clock_beside_the_opinion_clock(engine, settings):
    """An `inquiry` item opens its opinion case and also a 5-working-day answer clock, stopped by a 回应."""
    add_item(engine, title="网友留言：仁里镇路灯不亮", text="仁里镇中心街路灯已坏一周，请尽快维修。", published_at=bj("2026-09-30 09:00"),
             first_seen_at=bj("2026-09-30 09:05"), source="liuyan", role="inquiry")
    opened = eng.open_cases(engine, settings, bj("2026-09-30 09:10"))
    (cid,) = opened.cases_opened
    res = svc.sweep(engine, settings, bj("2026-09-30 09:10"))
    assert len(res.inquiry_clocks) == 1
    with Session(engine) as s:
        cl = {c.obligation: c for c in s.exec(select(Clock).where(Clock.case_id == cid)).all()}
    assert set(cl) == {"response_48h", "inquiry_answer"}
    # 5 working days after Wed 09-30: 10-08 T 1, 09 F 2, 10 Sat (调休) 3, 12 M 4, 13 T 5.
    assert cl["inquiry_answer"].deadline_at == bj("2026-10-14 00:00")
    assert cl["inquiry_answer"].policy["workdays"]["due_date"] == "2026-10-13"
    assert svc.sweep(engine, settings, bj("2026-09-30 09:20")).inquiry_clocks == []  # once
    # An upgrade or downgrade does not cancel it.
    eng.reclassify(engine, settings, cid, "II", reason="核实为重大", now=bj("2026-09-30 10:00"))
    eng.reclassify(engine, settings, cid, None, reason="复核为一般舆情", now=bj("2026-09-30 11:00"))
    with Session(engine) as s:
        inq = s.exec(select(Clock).where(Clock.case_id == cid, Clock.obligation == "inquiry_answer")).one()
    assert inq.state == "running"
    eng.record_release(engine, settings, cid, kind="回应", url="https://www.shitai.gov.cn/hd/1", now=bj("2026-10-09 15:00"))
    with Session(engine) as s:
        inq = s.get(Clock, inq.id)
    assert inq.state == "met"


def test_weekly_log_counts_requests(engine, settings):
    """The weekly log's requests section: received, answered on time / late, extended, paused, overdue at the end."""
    a = svc.add_request(engine, settings, received=D("2026-03-09"), channel="当面", now=bj("2026-03-09 10:00"))
    b = svc.add_request(engine, settings, received=D("2026-03-10"), channel="当面", now=bj("2026-03-10 10:00"))
    c = svc.add_request(engine, settings, received=D("2026-02-02"), channel="当面", now=bj("2026-03-10 11:00"))  # registered late
    svc.pause(engine, settings, b.id, on=D("2026-03-11"), party="第三方", reason="征求意见", now=bj("2026-03-11 10:00"))
    svc.extend(engine, settings, a.id, days=10, approver="李主任", reason="量大", now=bj("2026-03-12 10:00"))
    svc.answer(engine, settings, a.id, kind="already_public", on=D("2026-03-13"), now=bj("2026-03-13 10:00"))
    _week, start, end = week_bounds("2026-W11", bj("2026-03-20 00:00"))
    with Session(engine) as s:
        f = weekly_figures(s, settings, start, end)["requests"]
    assert (f["received"], f["answered_on_time"], f["answered_late"], f["extended"], f["paused"]) == (3, 1, 0, 1, 1)
    # c: received 02-02, due 03-03 (20 working days with 春节) — open and past due at the week's end.
    assert f["overdue_open"] == 1 and f["overdue"][0]["request"] == str(c.id)
    from responder.report.render import build_tables

    with Session(engine) as s:
        tables = build_tables(weekly_figures(s, settings, start, end))
    assert any(t["id"] == "requests" and t["rows"] == [[3, 1, 0, 1, 1, 2, 1]] for t in tables)


def test_service_pass_registers_a_request_and_takes_its_opening_step_at_once(engine, settings):
    """The daemon's pass (pipeline.tick) runs the working-day sweep before the engine: no pass is lost."""
    import asyncio

    from responder.service import pipeline

    add_item(engine, title="申请公开2026年县财政预算", text="…", published_at=bj("2026-03-10 09:00"),
             first_seen_at=bj("2026-03-10 09:01"), source="yisq", role="request", status="request")
    ctx = pipeline.build_context(settings, engine, owner="test")
    out = asyncio.run(pipeline.tick(ctx, bj("2026-03-10 09:02"), poll=False))
    assert len(out["workdays"].requests_registered) == 1
    assert out["advance"].steps == 1  # the request's case_opened step, in the same pass


def test_check_config_names_a_bad_calendar_file(tmp_path):
    """`check-config` (service.checks.load_checked) refuses a calendar file with a date outside its year, naming file and key."""
    from responder.config import ConfigError
    from responder.service.checks import load_checked as load

    s = make_test_settings(tmp_path)
    bad = s.path.parent / "calendar" / "2027.toml"
    bad.write_text('year = 2027\nsource = "x"\nholidays = [{ name = "元旦", from = 2026-12-31, to = 2027-01-01 }]\n',
                   encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load(s.path, require_secrets=False)
    assert any("2027.toml" in p and "holidays[0].from" in p for p in exc.value.problems)
    bad.unlink()
    load(s.path, require_secrets=False)
