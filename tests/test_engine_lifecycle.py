"""Whole case lives through the clocks engine, with time passed in (never read)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from responder import audit, engine as eng
from responder.db import transaction
from responder.models import Case, Clock, ClockStep, OutboxMessage, Release
from responder.testing.engine import add_item, make_test_settings

UTC = dt.timezone.utc
T0 = dt.datetime(2022, 7, 18, 2, 0, tzinfo=UTC)  # 10:00 Beijing
H = dt.timedelta(hours=1)
MAJOR = "石台县某化工厂发生火灾致12人死亡"
MAJOR_TEXT = "7月18日上午，石台县某化工厂车间起火，截至目前已造成12人死亡。"
ORDINARY = "网友反映仁里镇中心小学乱收费"
ORDINARY_TEXT = "有家长反映仁里镇中心小学收取补课费，希望有关部门核查。"


@pytest.fixture
def settings(tmp_path):
    return make_test_settings(tmp_path)


def clocks(engine, case_id):
    with Session(engine) as s:
        return {c.obligation: c for c in s.exec(select(Clock).where(Clock.case_id == case_id)).all()}


def steps(engine, case_id):
    with Session(engine) as s:
        return [st.step_kind for st in s.exec(select(ClockStep).where(ClockStep.case_id == case_id).order_by(ClockStep.id)).all()]


def open_one(engine, settings, title, text, *, published, seen=None):
    add_item(engine, title=title, text=text, published_at=published, first_seen_at=seen or published)
    res = eng.open_cases(engine, settings, seen or published)
    assert len(res.cases_opened) == 1
    return res.cases_opened[0]


def test_major_case_released_at_4h59_is_on_time(sqlite_engine, settings):
    """A 5-hour case released at 4h59 meets its clock; the 24-hour press clock keeps running."""
    cid = open_one(sqlite_engine, settings, MAJOR, MAJOR_TEXT, published=T0)
    cl = clocks(sqlite_engine, cid)
    assert set(cl) == {"release_5h", "press_24h"}
    assert cl["release_5h"].deadline_at == T0 + 5 * H
    eng.advance(sqlite_engine, settings, T0)
    eng.advance(sqlite_engine, settings, T0 + 3 * H)  # 40% left → reminder
    eng.record_release(sqlite_engine, settings, cid, kind="权威发布", url="https://www.shitai.gov.cn/1",
                       at=T0 + 4 * H + 59 * dt.timedelta(minutes=1), now=T0 + 5 * H + 10 * dt.timedelta(minutes=1))
    cl = clocks(sqlite_engine, cid)
    assert cl["release_5h"].state == "met" and cl["release_5h"].next_action_at is None
    assert cl["press_24h"].state == "running"
    assert cl["continued_release"].state == "running"
    assert steps(sqlite_engine, cid) == ["case_opened", "reminder"]  # the press clock does not announce again


def test_major_case_released_at_5h01_is_met_late(sqlite_engine, settings):
    """A release one minute after the 5-hour deadline is recorded as met late, after the overdue step."""
    cid = open_one(sqlite_engine, settings, MAJOR, MAJOR_TEXT, published=T0)
    eng.advance(sqlite_engine, settings, T0)
    r = eng.advance(sqlite_engine, settings, T0 + 5 * H)
    assert r.steps >= 1
    assert clocks(sqlite_engine, cid)["release_5h"].state == "overdue"
    assert "overdue" in steps(sqlite_engine, cid)
    eng.record_release(sqlite_engine, settings, cid, kind="权威发布", url="u", at=T0 + 5 * H + dt.timedelta(minutes=1),
                       now=T0 + 5 * H + dt.timedelta(minutes=2))
    assert clocks(sqlite_engine, cid)["release_5h"].state == "met_late"


def test_ordinary_case_runs_48_hours_and_a_response_closes_it(sqlite_engine, settings):
    """An ordinary complaint gets a 48-hour clock routed to its domain's department, and a response closes it."""
    cid = open_one(sqlite_engine, settings, ORDINARY, ORDINARY_TEXT, published=T0)
    cl = clocks(sqlite_engine, cid)
    assert set(cl) == {"response_48h"} and cl["response_48h"].deadline_at == T0 + 48 * H
    assert cl["response_48h"].unit_id == "jtj"  # 县教体局
    eng.advance(sqlite_engine, settings, T0)
    with Session(sqlite_engine) as s:
        msgs = s.exec(select(OutboxMessage).where(OutboxMessage.case_id == cid)).all()
    assert {m.recipient for m in msgs} == {"jtj:liaison"} and not any(m.urgent for m in msgs)
    eng.record_release(sqlite_engine, settings, cid, kind="回应", url="u", now=T0 + 20 * H)
    with Session(sqlite_engine) as s:
        case = s.get(Case, cid)
    assert case.state == "closed" and case.close_kind == "met"
    assert clocks(sqlite_engine, cid)["response_48h"].state == "met"


def test_item_that_arrives_already_overdue_starts_overdue_and_says_so(sqlite_engine, settings):
    """An item first seen 50 hours after publication starts overdue: opening and overdue steps only."""
    cid = open_one(sqlite_engine, settings, ORDINARY, ORDINARY_TEXT, published=T0, seen=T0 + 50 * H)
    cl = clocks(sqlite_engine, cid)["response_48h"]
    assert cl.state == "overdue" and cl.started_at == T0
    assert any("到达时已超时" in n for n in cl.policy["notes"])
    r = eng.advance(sqlite_engine, settings, T0 + 50 * H)
    assert steps(sqlite_engine, cid) == ["case_opened", "overdue"] and r.skipped == 2


def test_missing_or_future_published_time_starts_at_first_sight(sqlite_engine, settings):
    """No published time, or one in the future, starts the clock when responder first saw the item."""
    cid = open_one(sqlite_engine, settings, ORDINARY, ORDINARY_TEXT, published=None, seen=T0)
    assert clocks(sqlite_engine, cid)["response_48h"].start_basis == "first_seen"
    add_item(sqlite_engine, title="横渡镇某小区长期停水", text="居民反映小区停水三天", published_at=T0 + 30 * H,
             first_seen_at=T0 + H)
    cid2 = eng.open_cases(sqlite_engine, settings, T0 + H).cases_opened[0]
    c2 = clocks(sqlite_engine, cid2)["response_48h"]
    assert c2.started_at == T0 + H and c2.start_basis == "first_seen"


def test_upgrade_from_48h_to_5h_when_a_new_item_reports_more_deaths(sqlite_engine, settings):
    """A later item with a higher toll upgrades the case: 5h/24h clocks start then, and record the original start."""
    first = "石台县矶滩乡一客车侧翻"
    add_item(sqlite_engine, title=first, text="一辆客车在矶滩乡侧翻，造成2人死亡。", published_at=T0, first_seen_at=T0)
    cid = eng.open_cases(sqlite_engine, settings, T0).cases_opened[0]
    assert set(clocks(sqlite_engine, cid)) == {"response_48h"}
    later = T0 + 3 * H
    iid = add_item(sqlite_engine, title=first + "事故死亡人数升至11人", text="截至目前，事故已造成11人死亡。",
                   published_at=later, first_seen_at=later, case_id=cid, attach_reason="同一事件（测试）", status="attached")
    res = eng.open_cases(sqlite_engine, settings, later)
    assert res.upgraded == [cid] and iid in res.attached
    cl = clocks(sqlite_engine, cid)
    assert cl["response_48h"].state == "cancelled"
    assert cl["release_5h"].started_at == later and cl["release_5h"].deadline_at == later + 5 * H
    assert cl["release_5h"].original_start_at == T0 and cl["release_5h"].start_basis == "upgrade"
    assert any("升级时距原起算时间已过 3小时" in n for n in cl["release_5h"].policy["notes"])
    with Session(sqlite_engine) as s:
        assert s.get(Case, cid).level == "II"


def test_automatic_release_match_stops_the_5h_clock(sqlite_engine, settings):
    """A 情况通报 on the release channel naming the same place and event is attached and stops the clock."""
    cid = open_one(sqlite_engine, settings, "石台县丁香镇一化工厂发生火灾 已致12人死亡",
                   "7月18日，丁香镇某化工厂发生火灾，已造成12人死亡。", published=T0)
    add_item(sqlite_engine, title="关于丁香镇化工厂火灾的情况通报", role="release", source="portal",
             text="7月18日上午，丁香镇一化工厂发生火灾，造成12人死亡。县委县政府第一时间组织救援，事故原因正在调查。",
             published_at=T0 + 3 * H, first_seen_at=T0 + 3 * H, link="https://www.shitai.gov.cn/qwfb/1")
    res = eng.open_cases(sqlite_engine, settings, T0 + 3 * H)
    assert len(res.releases_attached) == 1
    assert clocks(sqlite_engine, cid)["release_5h"].state == "met"


def test_proposed_match_confirmed_and_rejected(sqlite_engine, settings):
    """An uncertain match is only proposed; confirming stops the clock, rejecting leaves it running."""
    a = open_one(sqlite_engine, settings, ORDINARY, ORDINARY_TEXT, published=T0)
    add_item(sqlite_engine, title="县教体局关于规范中小学收费的回应", role="release", source="portal",
             text="针对网友关注的学校收费问题，县教体局表示将开展专项检查。", published_at=T0 + H, first_seen_at=T0 + H)
    res = eng.open_cases(sqlite_engine, settings, T0 + H)
    assert res.releases_proposed and not res.releases_attached
    assert clocks(sqlite_engine, a)["response_48h"].state == "running"
    rid = res.releases_proposed[0]
    eng.decide_proposal(sqlite_engine, settings, rid, accept=False, now=T0 + 2 * H, reason="不是同一所学校")
    assert clocks(sqlite_engine, a)["response_48h"].state == "running"
    with Session(sqlite_engine) as s:
        assert s.get(Release, rid).status == "rejected"
    add_item(sqlite_engine, title="县教体局关于仁里镇中心小学收费问题的回应", role="release", source="portal",
             text="针对网友反映仁里镇中心小学收取补课费问题，县教体局已责令退还。", published_at=T0 + 3 * H,
             first_seen_at=T0 + 3 * H, guid="second")
    res = eng.open_cases(sqlite_engine, settings, T0 + 3 * H)
    rid2 = (res.releases_proposed or res.releases_attached)[0]
    if res.releases_proposed:
        eng.decide_proposal(sqlite_engine, settings, rid2, accept=True, now=T0 + 4 * H)
    assert clocks(sqlite_engine, a)["response_48h"].state == "met"


def test_duplicate_closure_cancels_clocks_and_pending_messages(sqlite_engine, settings):
    """Closing a case as a duplicate stops its clocks and cancels its queued messages; the items move over."""
    a = open_one(sqlite_engine, settings, ORDINARY, ORDINARY_TEXT, published=T0)
    b = open_one(sqlite_engine, settings, "仁里镇中心小学被指乱收费", "家长称学校收取补课费", published=T0 + H)
    eng.advance(sqlite_engine, settings, T0 + H)
    eng.close_case(sqlite_engine, b, kind="duplicate", reason="与案件重复", duplicate_of=a, now=T0 + 2 * H)
    with Session(sqlite_engine) as s:
        assert s.get(Case, b).state == "closed"
        pending = s.exec(select(OutboxMessage).where(OutboxMessage.case_id == b, OutboxMessage.status == "pending")).all()
    assert pending == []
    assert clocks(sqlite_engine, b)["response_48h"].state == "cancelled"
    with pytest.raises(eng.EngineError):
        eng.close_case(sqlite_engine, a, kind="duplicate", reason="x", duplicate_of=a, now=T0 + 2 * H)


def test_operator_downgrade_and_upgrade_recompute_clocks_and_record_who_and_why(sqlite_engine, settings):
    """Reclassification by an operator recomputes clocks and leaves an audit event naming who and why."""
    cid = open_one(sqlite_engine, settings, MAJOR, MAJOR_TEXT, published=T0)
    eng.reclassify(sqlite_engine, settings, cid, "III", reason="核实为3人死亡", now=T0 + H, actor="张三")
    cl = clocks(sqlite_engine, cid)
    assert cl["release_5h"].state == "cancelled" and cl["response_48h"].state == "running"
    assert cl["response_48h"].started_at == T0
    eng.reclassify(sqlite_engine, settings, cid, "II", reason="死亡人数上升", now=T0 + 2 * H, actor="李四")
    cl = clocks(sqlite_engine, cid)
    with Session(sqlite_engine) as s:
        evs = s.exec(select(audit.AuditEvent).where(audit.AuditEvent.kind == "case.reclassified")).all()
    assert [e.actor for e in evs] == ["张三", "李四"] and evs[0].data["reason"] == "核实为3人死亡"
    assert sum(1 for c in clocks(sqlite_engine, cid).values() if c.state == "running") >= 2


def test_steps_computed_for_an_older_generation_never_fire(sqlite_engine, settings):
    """Messages queued before a release are cancelled by the release's new generation."""
    cid = open_one(sqlite_engine, settings, MAJOR, MAJOR_TEXT, published=T0)
    eng.advance(sqlite_engine, settings, T0 + 3 * H)
    eng.record_release(sqlite_engine, settings, cid, kind="新闻发布会", url="u", now=T0 + 3 * H + dt.timedelta(minutes=1))
    with Session(sqlite_engine) as s:
        msgs = s.exec(select(OutboxMessage).where(OutboxMessage.case_id == cid)).all()
    assert msgs and all(m.status == "cancelled" for m in msgs)


def test_restart_continues_exactly_where_the_first_process_stopped(sqlite_engine, settings, tmp_path):
    """A new engine on the same database continues: no step skipped, none repeated."""
    from responder import db

    cid = open_one(sqlite_engine, settings, MAJOR, MAJOR_TEXT, published=T0)
    eng.advance(sqlite_engine, settings, T0 + 3 * H)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    sqlite_engine.dispose()
    second = db.make_engine(url)
    eng.advance(second, settings, T0 + 3 * H)  # same instant again: nothing new
    before = steps(second, cid)
    eng.advance(second, settings, T0 + 5 * H)
    after = steps(second, cid)
    assert after[: len(before)] == before and after.count("reminder") == before.count("reminder") == 1
    assert after.count("overdue") == 1
    with Session(second) as s:
        keys = [m.idem_key for m in s.exec(select(OutboxMessage)).all()]
    assert len(keys) == len(set(keys))


def test_advance_reports_next_due_and_idle_does_nothing(sqlite_engine, settings):
    """advance returns when the next step is due, and does nothing before it."""
    cid = open_one(sqlite_engine, settings, ORDINARY, ORDINARY_TEXT, published=T0)
    r = eng.advance(sqlite_engine, settings, T0)
    assert r.next_due_at == T0 + dt.timedelta(hours=48 * 0.6)
    r2 = eng.advance(sqlite_engine, settings, T0 + H)
    assert r2.steps == 0 and r2.next_due_at == r.next_due_at
    assert steps(sqlite_engine, cid) == ["case_opened"]


def test_self_check_reports_a_clock_without_next_action(sqlite_engine, settings):
    """A running clock with no next action is reported by the self-check."""
    cid = open_one(sqlite_engine, settings, ORDINARY, ORDINARY_TEXT, published=T0)
    assert eng.self_check(sqlite_engine, T0) == []
    with transaction(sqlite_engine) as s:
        c = s.exec(select(Clock).where(Clock.case_id == cid)).one()
        c.next_action_at = None
        s.add(c)
    problems = eng.self_check(sqlite_engine, T0)
    assert len(problems) == 1 and "没有下一步动作" in problems[0]


def test_near_duplicate_story_from_another_source_joins_the_open_case(sqlite_engine, settings):
    """A repost that changes a word joins the open case with the reason; a different town's story does not."""
    cid = open_one(sqlite_engine, settings, "七都镇部分村组停水三天 事先没有任何通知", "村民反映停水三天。", published=T0)
    add_item(sqlite_engine, title="七都镇部分村组停水三天，事先没有通知", text="网友转发：停水三天。", source="repost",
             published_at=T0 + H, first_seen_at=T0 + H)
    add_item(sqlite_engine, title="横渡镇部分村组停电两天", text="村民反映停电。", source="repost",
             published_at=T0 + H, first_seen_at=T0 + H, guid="other")
    res = eng.open_cases(sqlite_engine, settings, T0 + H)
    assert len(res.attached) == 1 and len(res.cases_opened) == 1
    with Session(sqlite_engine) as s:
        from responder.models import Item

        joined = s.exec(select(Item).where(Item.source_name == "repost", Item.case_id == cid)).one()
    assert "标题高度相似" in joined.attach_reason
