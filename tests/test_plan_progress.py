"""Recording progress (audited, idempotent) and reading it back: matrix, weekly figures, scheduling store."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from responder import audit
from responder.models import AuditEvent, Clock, PlanCompletion
from responder.plan import PlanError, load_plan, plan_progress, record_done, record_experience, schedule_plan, status_matrix
from responder.plan.model import days_left, item_status
from responder.plan.progress import Progress, compute_matrix
from responder.testing.engine import make_test_settings
from responder.timeutil import BEIJING, UTC


def bj(y, mo, d, h=0, mi=0) -> dt.datetime:
    """A Beijing wall-clock time as aware UTC."""
    return dt.datetime(y, mo, d, h, mi, tzinfo=BEIJING).astimezone(UTC)


@pytest.fixture
def settings(tmp_path):
    return make_test_settings(tmp_path)


@pytest.fixture
def plan(settings):
    return load_plan(settings.data_paths["plan"], settings.units)


def events(engine, kind):
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.seq)).all())


def test_record_done_is_audited_and_idempotent(engine, settings, plan):
    """A completion writes one row and one audit event; repeating it changes nothing; new evidence is an audited update."""
    t = bj(2022, 7, 15, 10)
    r = record_done(engine, settings, plan, "仁里镇", "第23项", now=t, note="已建立舆情回应台账")
    assert r.status == "created" and r.row.unit_id == "renli" and r.row.requirement == "23"
    assert record_done(engine, settings, plan, "renli", "23", now=t + dt.timedelta(hours=1)).status == "unchanged"
    r3 = record_done(engine, settings, plan, "renli", "23", now=t + dt.timedelta(hours=2),
                     evidence="https://www.shitai.gov.cn/renli/23")
    assert r3.status == "updated"
    with Session(engine) as s:
        rows = s.exec(select(PlanCompletion)).all()
        assert len(rows) == 1 and rows[0].done_at == t and rows[0].evidence == "https://www.shitai.gov.cn/renli/23"
        assert audit.verify(s).ok
    (ev,) = events(engine, "plan.done")
    assert ev.subject == "plan:2022:renli:23" and ev.actor == "operator" and ev.data["note"] == "已建立舆情回应台账"
    assert len(events(engine, "plan.done_updated")) == 1


@pytest.mark.parametrize("unit,req,expect", [
    ("nowhere", "23", "'nowhere' is not accountable"),
    ("县政务公开办", "23", "is not accountable"),
    ("renli", "42", "'42' is neither a requirement number"),
    ("renli", "21.2", "use 21, not 21.2"),
    ("renli", "experience", "plan experience renli"),
])
def test_record_done_rejects_bad_input_clearly(sqlite_engine, settings, plan, unit, req, expect):
    """Unknown units, unknown numbers, 21.x and the experience duty each get a one-line explanation."""
    with pytest.raises(PlanError, match=expect):
        record_done(sqlite_engine, settings, plan, unit, req, now=bj(2022, 7, 15))
    assert events(sqlite_engine, "plan.done") == []


def test_bad_evidence_url_is_refused(sqlite_engine, settings, plan):
    """Evidence must be an http(s) URL."""
    with pytest.raises(PlanError, match="--evidence 'ftp://x' is not an http"):
        record_done(sqlite_engine, settings, plan, "renli", "1", now=bj(2022, 7, 15), evidence="ftp://x")


def test_experience_is_audited_once_per_url(engine, settings, plan):
    """A featured experience is one row and one audit event; the same URL again is not a second experience."""
    t = bj(2022, 9, 1, 9)
    r = record_experience(engine, settings, plan, "七都镇", title="七都镇“一站式”政策咨询", url="https://www.shitai.gov.cn/qidu/e1", now=t)
    assert r.status == "created"
    again = record_experience(engine, settings, plan, "qidu", title="x", url="https://www.shitai.gov.cn/qidu/e1", now=t)
    assert again.status == "unchanged"
    (ev,) = events(engine, "plan.experience")
    assert ev.data["title"] == "七都镇“一站式”政策咨询" and ev.subject == "plan:2022:qidu:experience"
    with pytest.raises(PlanError, match="--url"):
        record_experience(engine, settings, plan, "qidu", title="t", url="not a url", now=t)


def test_schedule_plan_is_idempotent_on_the_store(engine, settings, plan):
    """Scheduling twice creates each clock once, with its first reminder as next action (both databases)."""
    t = bj(2022, 7, 1)
    assert schedule_plan(engine, settings, plan, t) == 93
    assert schedule_plan(engine, settings, plan, t + dt.timedelta(days=3)) == 0
    with Session(engine) as s:
        clocks = s.exec(select(Clock).where(Clock.subject.startswith("plan:2022:"))).all()
        assert len(clocks) == 93 and len({c.subject for c in clocks}) == 93
        c = next(c for c in clocks if c.subject == "plan:2022:deploy:renli")
        assert c.obligation == "plan_phase" and c.unit_id == "renli" and c.state == "running"
        assert c.next_action_at == bj(2022, 7, 13, 9) and c.deadline_at == bj(2022, 7, 21)
        assert [st["at"]["utc"] for st in c.policy["ladder"]] == [
            "2022-07-13T01:00:00Z", "2022-07-17T01:00:00Z", "2022-07-19T01:00:00Z", "2022-07-20T16:00:00Z"]
        s_ = next(c for c in clocks if c.subject == "plan:2022:deploy:summary")
        assert s_.obligation == "plan_summary" and s_.unit_id == "office"
    (ev,) = events(engine, "plan.scheduled")
    assert ev.data["clocks"] == 93


def test_schedule_late_keeps_only_future_steps(sqlite_engine, settings, plan):
    """Scheduled on 07-18, the deployment clock starts at its 07-19 reminder; no stale reminder is created."""
    assert schedule_plan(sqlite_engine, settings, plan, bj(2022, 7, 18, 12)) == 93
    with Session(sqlite_engine) as s:
        c = s.exec(select(Clock).where(Clock.subject == "plan:2022:deploy:hengdu")).one()
    assert c.next_action_at == bj(2022, 7, 19, 9) and len(c.policy["ladder"]) == 2


def test_status_matrix_done_due_overdue(sqlite_engine, settings, plan):
    """On 07-25 the work plan is overdue where missing, implementation items due, rectification upcoming."""
    record_done(sqlite_engine, settings, plan, "renli", "work_plan", now=bj(2022, 7, 19))
    record_done(sqlite_engine, settings, plan, "renli", "1", now=bj(2022, 7, 22))
    with Session(sqlite_engine) as s:
        m = status_matrix(s, plan, bj(2022, 7, 25), unit="仁里镇")
        allm = status_matrix(s, plan, bj(2022, 7, 25), phase="deploy")
    (row,) = m["rows"]
    assert row["cells"]["work_plan"] == "done" and row["cells"]["1"] == "done"
    assert row["cells"]["2"] == "due" and row["cells"]["39"] == "upcoming" and row["cells"]["experience"] == "upcoming"
    assert row["counts"] == {"done": 2, "due": 39, "overdue": 0, "upcoming": 3}
    assert [c["no"] for c in allm["columns"]] == ["work_plan"]
    cells = {r["unit_id"]: r["cells"]["work_plan"] for r in allm["rows"]}
    assert cells["renli"] == "done" and cells["qidu"] == "overdue" and len(cells) == 30
    with Session(sqlite_engine) as s, pytest.raises(PlanError, match="phase 'nope'"):
        status_matrix(s, plan, bj(2022, 7, 25), phase="nope")


def test_pure_status_rules():
    """Status and days-left arithmetic at the exact Beijing boundaries."""
    from responder.plan.model import Phase

    p = Phase(id="x", name="x", start=dt.date(2022, 7, 11), end=dt.date(2022, 7, 20), requires=("1",))
    assert item_status(False, p, bj(2022, 7, 10, 23, 59)) == "upcoming"
    assert item_status(False, p, bj(2022, 7, 11)) == "due"
    assert item_status(False, p, bj(2022, 7, 20, 23, 59)) == "due"
    assert item_status(False, p, bj(2022, 7, 21)) == "overdue"
    assert item_status(True, p, bj(2022, 7, 21)) == "done"
    assert days_left(p, bj(2022, 7, 13, 9)) == 7
    assert days_left(p, bj(2022, 7, 20, 9)) == 0
    assert days_left(p, bj(2022, 7, 21)) == 0
    assert days_left(p, bj(2022, 7, 21, 9)) == -1


def test_experience_duty_needs_min_experiences(settings):
    """The 2023 sample asks for two experiences: one is not enough, the second meets it at its time."""
    from pathlib import Path

    p = load_plan(Path(__file__).parent / "data" / "plan_2023_sample.toml", settings.units)
    t1, t2 = bj(2023, 5, 1), bj(2023, 5, 9)
    one = Progress(experiences={"renli": (("a", "https://a", t1),)})
    two = Progress(experiences={"renli": (("a", "https://a", t1), ("b", "https://b", t2))})
    now = bj(2023, 7, 2)
    assert compute_matrix(p, one, now, units=[p.unit("renli")])["rows"][0]["cells"]["experience"] == "overdue"
    row = compute_matrix(p, two, now, units=[p.unit("renli")])["rows"][0]
    assert row["cells"]["experience"] == "done" and row["done_at"]["experience"] == "2023-05-08T16:00:00Z"
    fgw = compute_matrix(p, one, now, units=[p.unit("fgw")])["rows"][0]
    assert fgw["cells"]["2"] == "n/a" and fgw["cells"]["3"] == "n/a"


def test_plan_progress_for_the_weekly_report(engine, settings, plan):
    """Per-unit counts and experiences, and what was completed within [week_start, week_end)."""
    record_done(engine, settings, plan, "renli", "work_plan", now=bj(2022, 7, 14, 10))
    record_done(engine, settings, plan, "renli", "23", now=bj(2022, 7, 19, 10))
    record_done(engine, settings, plan, "qidu", "23", now=bj(2022, 7, 25, 0, 1))
    record_experience(engine, settings, plan, "qidu", title="经验", url="https://www.shitai.gov.cn/qidu/e", now=bj(2022, 7, 20))
    with Session(engine) as s:
        out = plan_progress(s, plan, bj(2022, 7, 25, 8, 30), week_start=bj(2022, 7, 18), week_end=bj(2022, 7, 25))
    units = {u["unit_id"]: u for u in out["units"]}
    assert (units["renli"]["done"], units["renli"]["overdue"], units["renli"]["due"]) == (2, 0, 39)
    assert (units["qidu"]["done"], units["qidu"]["overdue"]) == (2, 1)  # 23 and the experience duty
    assert units["qidu"]["experiences"][0]["url"] == "https://www.shitai.gov.cn/qidu/e"
    assert out["totals"]["overdue"] == 29 and out["units_with_experience"] == 1
    week = [(w["unit_id"], w["requirement"]) for w in out["week"]["completed"]]
    assert week == [("renli", "23"), ("qidu", "experience")]
    assert [p["state"] for p in out["phases"]] == ["ended", "running", "upcoming"]
