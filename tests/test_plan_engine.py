"""Frozen-time walks through the 2022 calendar: plan reminders driven by the clocks engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import Session, select

from responder import engine as eng
from responder.models import Clock, ClockStep, OutboxMessage
from responder.plan import load_plan, record_done, record_experience, schedule_plan
from responder.testing.engine import make_test_settings
from responder.timeutil import BEIJING, UTC

SAMPLE = Path(__file__).parent / "data" / "plan_2023_sample.toml"


def bj(y, mo, d, h=0, mi=0) -> dt.datetime:
    """A Beijing wall-clock time as aware UTC."""
    return dt.datetime(y, mo, d, h, mi, tzinfo=BEIJING).astimezone(UTC)


@pytest.fixture
def settings(tmp_path):
    return make_test_settings(tmp_path)


@pytest.fixture
def plan(settings):
    return load_plan(settings.data_paths["plan"], settings.units)


def sent(engine, kind=None) -> list[OutboxMessage]:
    with Session(engine) as s:
        q = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            q = q.where(OutboxMessage.kind == kind)
        return list(s.exec(q).all())


def people(msgs) -> set[str]:
    return {m.recipient for m in msgs}


def test_deployment_phase_walk(sqlite_engine, settings, plan):
    """Reminders at 09:00 Beijing on 07-13/17/19, none for a finished unit, overdue and summary at 24:00 on 07-20."""
    e = sqlite_engine
    assert schedule_plan(e, settings, plan, bj(2022, 7, 1)) == 93  # 3 phases × (30 units + office summary)
    record_done(e, settings, plan, "仁里镇", "work_plan", now=bj(2022, 7, 12, 15),
                evidence="https://www.shitai.gov.cn/renli/plan")

    eng.advance(e, settings, bj(2022, 7, 13, 8, 59))
    assert sent(e) == []
    r = eng.advance(e, settings, bj(2022, 7, 13, 9, 0))
    rem = sent(e, "milestone_reminder")
    assert people(rem) == {f"{u.id}:liaison" for u in plan.units if u.id != "renli"}
    assert r.stopped == 1  # renli's deployment clock stops as met, without a message
    ctx = rem[0].context
    assert ctx["phase_name"] == "工作部署阶段" and ctx["phase_end"] == "2022-07-20" and ctx["days_left"] == 7
    assert ctx["pending"] == [{"no": "work_plan", "label": "工作方案", "text": "制定工作方案，明确时间表、路线图和任务书"}]
    assert ctx["plan_name"] == "石台县基层政务公开提升行动（2022）" and ctx["unit_name"]
    with Session(e) as s:
        renli = s.exec(select(Clock).where(Clock.subject == "plan:2022:deploy:renli")).one()
        assert renli.state == "met" and renli.next_action_at is None

    # 七都镇 finishes on the 15th: it gets the 13th reminder but not the 17th.
    record_done(e, settings, plan, "qidu", "work_plan", now=bj(2022, 7, 15, 10))
    n13 = len(rem)
    eng.advance(e, settings, bj(2022, 7, 17, 9, 0))
    rem17 = sent(e, "milestone_reminder")[n13:]
    assert "qidu:liaison" not in people(rem17) and len(people(rem17)) == 28
    assert {m.context["days_left"] for m in rem17} == {3}

    eng.advance(e, settings, bj(2022, 7, 19, 9, 0))
    assert {m.context["days_left"] for m in sent(e, "milestone_reminder")[len(rem) + len(rem17):]} == {1}

    eng.advance(e, settings, bj(2022, 7, 20, 23, 59))
    assert sent(e, "milestone_overdue") == [] and sent(e, "plan_summary") == []
    eng.advance(e, settings, bj(2022, 7, 21, 0, 0))  # = 24:00 Beijing on the end date
    over = sent(e, "milestone_overdue")
    assert len({m.recipient.split(":")[0] for m in over}) == 28
    assert {m.recipient.split(":")[1] for m in over} == {"liaison", "deputy", "principal"}
    assert {m.context["days_left"] for m in over} == {0}
    summary = sent(e, "plan_summary")
    assert people(summary) == {"office:liaison", "office:deputy"}
    sc = summary[0].context
    assert sc["units_total"] == 30 and sc["units_done"] == 2 and len(sc["units_pending"]) == 28
    assert {"unit_name", "pending_count"} <= set(sc["units_pending"][0])
    assert sc["phase_end"] == "2022-07-20" and sc["unit_name"] == "县政务公开办"


def _walk(e, settings, plan, times, *, restart_at=None):
    schedule_plan(e, settings, plan, bj(2022, 7, 1))
    record_done(e, settings, plan, "fgw", "work_plan", now=bj(2022, 7, 16, 11))
    for t in times:
        if restart_at is not None and t == restart_at:
            # A restart: scheduling runs again at start, and the same instant is advanced twice.
            assert schedule_plan(e, settings, plan, t) == 0
            eng.advance(e, settings, t, owner="second")
        eng.advance(e, settings, t)
    return sorted((m.idem_key, m.kind) for m in sent(e))


def test_restart_in_the_middle_changes_nothing(tmp_path, settings, plan, sqlite_template):
    """The same calendar with and without a restart mid-phase yields exactly the same messages."""
    from responder.testing import databases

    times = [bj(2022, 7, 13, 9), bj(2022, 7, 17, 9), bj(2022, 7, 17, 9, 5), bj(2022, 7, 19, 9), bj(2022, 7, 21)]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = databases.sqlite_copy(sqlite_template, tmp_path / "a")
    b = databases.sqlite_copy(sqlite_template, tmp_path / "b")
    try:
        plain = _walk(a, settings, plan, times)
        restarted = _walk(b, settings, plan, times, restart_at=bj(2022, 7, 17, 9, 5))
    finally:
        a.dispose()
        b.dispose()
    assert plain == restarted
    assert sum(1 for _, k in plain if k == "milestone_reminder") > 0


def test_reminder_missed_while_down_goes_out_at_start_once(sqlite_engine, settings, plan):
    """Down from 07-16 to 07-18 10:00: the 07-17 reminder goes out at start, once, and the 07-13 one is not repeated."""
    e = sqlite_engine
    schedule_plan(e, settings, plan, bj(2022, 7, 1))
    eng.advance(e, settings, bj(2022, 7, 13, 9))
    before = len(sent(e, "milestone_reminder"))
    eng.advance(e, settings, bj(2022, 7, 18, 10))
    late = sent(e, "milestone_reminder")[before:]
    assert len(people(late)) == 30 and {m.context["days_left"] for m in late} == {2}
    eng.advance(e, settings, bj(2022, 7, 18, 10, 1))
    assert len(sent(e, "milestone_reminder")) == before + len(late)
    with Session(e) as s:
        steps = s.exec(select(ClockStep).join(Clock, Clock.id == ClockStep.clock_id)
                       .where(Clock.subject == "plan:2022:deploy:jitan")).all()
    assert [(st.step_kind, st.due_at) for st in steps] == [
        ("milestone_reminder", bj(2022, 7, 13, 9)), ("milestone_reminder", bj(2022, 7, 17, 9))]


def test_implementation_and_rectification_calendar(sqlite_engine, settings, plan):
    """A unit that met all 40 implementation items by 10-16 gets no October reminder; the year end asks for experience."""
    e = sqlite_engine
    schedule_plan(e, settings, plan, bj(2022, 7, 21, 10))  # deployment already over: only later phases
    for no in plan.phase("implement").requires:
        record_done(e, settings, plan, "dayan", no, now=bj(2022, 10, 16, 17))
    eng.advance(e, settings, bj(2022, 10, 17, 9))
    rem = sent(e, "milestone_reminder")
    assert "dayan:liaison" not in people(rem) and len(people(rem)) == 29
    assert {m.context["days_left"] for m in rem} == {14}
    assert len(rem[0].context["pending"]) == 40

    record_experience(e, settings, plan, "jitan", title="矶滩乡“村务微公开”经验", url="https://www.shitai.gov.cn/jitan/exp",
                      now=bj(2022, 12, 20, 10))
    record_done(e, settings, plan, "jitan", "rectification", now=bj(2022, 12, 20, 10))
    record_done(e, settings, plan, "jitan", "39", now=bj(2022, 12, 20, 10))
    eng.advance(e, settings, bj(2022, 12, 24, 9))
    dec = [m for m in sent(e, "milestone_reminder") if m.context["phase"] == "rectify"]
    assert "jitan:liaison" not in people(dec) and len(people(dec)) == 29
    assert [p["no"] for p in dec[0].context["pending"]] == ["rectification", "39", "experience"]
    eng.advance(e, settings, bj(2023, 1, 1))
    assert {m.context["phase"] for m in sent(e, "plan_summary")} == {"implement", "rectify"}


def test_another_years_plan_schedules_with_no_code_change(sqlite_engine, settings):
    """The 2023 sample: 08:30 reminders 10, 2 and 0 days before, township-only item, overdue at 24:00."""
    e = sqlite_engine
    p = load_plan(SAMPLE, settings.units)
    assert schedule_plan(e, settings, p, bj(2023, 2, 1)) == 8  # 2 phases × (3 units + summary)
    eng.advance(e, settings, bj(2023, 3, 21, 8, 29))
    assert sent(e) == []
    eng.advance(e, settings, bj(2023, 3, 21, 8, 30))
    assert people(sent(e, "milestone_reminder")) == {"renli:liaison", "qidu:liaison", "fgw:liaison"}
    eng.advance(e, settings, bj(2023, 3, 29, 8, 30))
    eng.advance(e, settings, bj(2023, 3, 31, 8, 30))
    assert {m.context["days_left"] for m in sent(e, "milestone_reminder")} == {10, 2, 0}
    eng.advance(e, settings, bj(2023, 4, 1))
    assert people(sent(e, "milestone_overdue")) == {f"{u}:{r}" for u in ("renli", "qidu", "fgw") for r in ("liaison", "deputy")}
    assert people(sent(e, "plan_summary")) == {"office:liaison"}
    eng.advance(e, settings, bj(2023, 6, 20, 8, 30))
    june = [m for m in sent(e, "milestone_reminder") if m.context["phase"] == "do"]
    pend = {m.recipient: [x["no"] for x in m.context["pending"]] for m in june}
    assert pend["fgw:liaison"] == ["1", "experience"] and pend["renli:liaison"] == ["1", "2", "3", "experience"]


def test_moving_a_phase_date_moves_its_reminders_and_is_recorded(sqlite_engine, settings, plan):
    """An operator moves the deployment deadline from 07-20 to 07-25: reminders follow, nothing fires on the old date."""
    e = sqlite_engine
    schedule_plan(e, settings, plan, bj(2022, 7, 1))
    path = settings.data_paths["plan"]
    text = path.read_text(encoding="utf-8")
    assert "end = 2022-07-20" in text
    path.write_text(text.replace("end = 2022-07-20", "end = 2022-07-25", 1), encoding="utf-8")
    moved_plan = load_plan(path, settings.units)
    assert schedule_plan(e, settings, moved_plan, bj(2022, 7, 5)) == 0  # nothing new: the clocks move
    with Session(e) as s:
        c = s.exec(select(Clock).where(Clock.subject == "plan:2022:deploy:renli")).one()
        assert c.deadline_at == bj(2022, 7, 26) and c.generation == 2
        ev = s.exec(select(audit_event()).where(audit_event().kind == "plan.rescheduled")).one()
        assert any(m["subject"] == "plan:2022:deploy:renli" for m in ev.data["moved"])
    eng.advance(e, settings, bj(2022, 7, 21, 0, 5))
    assert sent(e, "milestone_overdue") == []           # the old deadline passes quietly
    eng.advance(e, settings, bj(2022, 7, 26, 0, 1))
    assert sent(e, "milestone_overdue")                # the new one does not
    assert schedule_plan(e, settings, moved_plan, bj(2022, 7, 26, 0, 2)) == 0
    with Session(e) as s:                               # scheduling again (a restart) changes nothing
        assert len(s.exec(select(audit_event()).where(audit_event().kind == "plan.rescheduled")).all()) == 1


def test_a_missed_reminder_is_not_mistaken_for_a_plan_change(sqlite_engine, settings, plan):
    """Scheduling at start, after a reminder's time passed while down, leaves it to be taken (no reschedule)."""
    e = sqlite_engine
    schedule_plan(e, settings, plan, bj(2022, 7, 1))
    eng.advance(e, settings, bj(2022, 7, 13, 9))
    first = len(sent(e, "milestone_reminder"))
    schedule_plan(e, settings, plan, bj(2022, 7, 17, 12))  # restart: the service was down at 07-17 09:00
    eng.advance(e, settings, bj(2022, 7, 17, 12))
    assert len(sent(e, "milestone_reminder")) > first
    with Session(e) as s:
        assert s.exec(select(audit_event()).where(audit_event().kind == "plan.rescheduled")).all() == []


def audit_event():
    from responder.models import AuditEvent

    return AuditEvent
