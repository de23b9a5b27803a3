"""The weekly compliance log of 2022-W30, built from a week of realistic activity and counted by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest
from sqlmodel import Session, select

from responder import engine as eng
from responder.db import transaction
from responder.models import AuditEvent, DeliveryAttempt, OutboxMessage
from responder.report import render_weekly, week_bounds, weekly_figures
from responder.report.weekly import WeekError
from responder.testing.engine import make_test_settings
from report_support import BUS, FEES, FIRE, MARKET, WATER, open_case

UTC = dt.timezone.utc
H = dt.timedelta(hours=1)
MON = dt.datetime(2022, 7, 25, 0, 0, tzinfo=UTC)  # 08:00 Beijing, Monday of 2022-W30
WEEK_START = dt.datetime(2022, 7, 24, 16, 0, tzinfo=UTC)  # Monday 00:00 Beijing
WEEK_END = dt.datetime(2022, 7, 31, 16, 0, tzinfo=UTC)  # Sunday 24:00 Beijing

HOUSING = ("=网传市区某楼盘烂尾", "网友反映池州市区某楼盘停工")


def at(day: int, hour: int) -> dt.datetime:
    """UTC time on a day of July/August 2022 (day 32 = 1 August)."""
    return dt.datetime(2022, 7, 1, tzinfo=UTC) + dt.timedelta(days=day - 1, hours=hour)


def _msg(engine, case_id, recipient, channel, kind="case_opened"):
    with Session(engine) as s:
        q = select(OutboxMessage).where(OutboxMessage.case_id == case_id, OutboxMessage.channel == channel,
                                        OutboxMessage.kind == kind)
        if recipient is not None:
            q = q.where(OutboxMessage.recipient == recipient)
        return s.exec(q.order_by(OutboxMessage.id)).first().id


def _attempt(engine, outbox_id, finished, outcome, error=None):
    """A delivery attempt as the dispatcher records it (before and after the provider call)."""
    with transaction(engine) as s:
        s.add(DeliveryAttempt(outbox_id=outbox_id, channel="", started_at=finished - dt.timedelta(seconds=2),
                              finished_at=finished, outcome=outcome, error=error))
        m = s.get(OutboxMessage, outbox_id)
        m.status = {"sent": "sent", "permanent": "dead", "retry": "failed"}[outcome]
        s.add(m)


def build_week(engine, settings) -> dict[str, int]:
    """2022-W29 to W31 of activity; W30 is the week under test. Returns case ids by letter."""
    from responder.plan import load_plan, record_done, record_experience

    ids: dict[str, int] = {}
    # W29: a case opened and answered the week before (must not count).
    ids["P"] = open_case(engine, settings, ("仁里镇道路破损无人修", "网友反映仁里镇道路破损"), at(21, 2))
    eng.record_release(engine, settings, ids["P"], kind="回应", url="u", now=at(22, 2))
    # W30, Monday: C (48 h, 教体局) opened 09:00 Beijing, answered after 20 h.
    ids["C"] = open_case(engine, settings, FEES, at(25, 1))
    # A (重大, 应急管理局): released after 4 h, press conference after 20 h, closed on Tuesday.
    ids["A"] = open_case(engine, settings, FIRE, at(25, 2))
    eng.record_release(engine, settings, ids["A"], kind="权威发布", url="https://www.shitai.gov.cn/a1", now=at(25, 6))
    eng.record_release(engine, settings, ids["C"], kind="回应", url="https://www.shitai.gov.cn/c1", now=at(25, 21))
    eng.record_release(engine, settings, ids["A"], kind="新闻发布会", url="https://www.shitai.gov.cn/a2", now=at(25, 22))
    # Tuesday: D (48 h, 住建局) is never answered within the week.
    ids["D"] = open_case(engine, settings, WATER, at(26, 2))
    eng.close_case(engine, ids["A"], kind="resolved", reason="火灾已扑灭，善后处置完毕", now=at(26, 12))
    # Wednesday: B (重大, from the incident feed): a press conference after 6 h is one hour late for the 5-hour clock.
    ids["B"] = open_case(engine, settings, BUS, at(27, 1), source="sample-incident", role="incident")
    eng.record_release(engine, settings, ids["B"], kind="新闻发布会", url="https://www.shitai.gov.cn/b1", now=at(27, 7))
    eng.close_case(engine, ids["B"], kind="resolved", reason="伤员均已救治，事故调查移交", now=at(27, 10))
    # Thursday: E (市场监管局) opened, reclassified as 一般, answered 2 h late on Saturday.
    ids["E"] = open_case(engine, settings, MARKET, at(28, 1))
    eng.advance(engine, settings, at(28, 2))  # D overdue
    eng.reclassify(engine, settings, ids["E"], "IV", reason="经核实为一般突发事件", now=at(28, 3))
    # Friday: F (发改委) closed as not ours.
    ids["F"] = open_case(engine, settings, HOUSING, at(29, 1))
    eng.close_case(engine, ids["F"], kind="not_ours", reason="属池州市级事权，已转交", now=at(29, 5))
    eng.record_release(engine, settings, ids["E"], kind="回应", url="https://www.shitai.gov.cn/e1", now=at(30, 3))
    # W31: Q opened, D reclassified and answered (must not change W30).
    ids["Q"] = open_case(engine, settings, ("小河镇路灯不亮", "网友反映小河镇路灯长期不亮"), at(32, 2))
    eng.reclassify(engine, settings, ids["D"], "III", reason="事后核实", now=at(32, 2) + 30 * dt.timedelta(minutes=1))
    eng.record_release(engine, settings, ids["D"], kind="回应", url="u", now=at(32, 3))
    # Deliveries: three delivered (one after a retry), one SMS failed for good; attempts outside W30 ignored.
    _attempt(engine, _msg(engine, ids["C"], "jtj:liaison", "sms"),
             at(25, 1) + dt.timedelta(minutes=1), "sent")
    a_mail = _msg(engine, ids["A"], "yjglj:deputy", "email")
    _attempt(engine, a_mail, at(25, 2) + dt.timedelta(minutes=1), "retry", "timeout")
    _attempt(engine, a_mail, at(25, 2) + dt.timedelta(minutes=3), "sent")
    _attempt(engine, _msg(engine, ids["A"], "office:liaison", "sms"), at(25, 2) + dt.timedelta(minutes=1), "sent")
    _attempt(engine, _msg(engine, ids["D"], "zjj:liaison", "sms", kind="overdue"), at(28, 2) + dt.timedelta(minutes=1),
             "permanent", "isv.MOBILE_NUMBER_ILLEGAL: 号码格式错误")
    _attempt(engine, _msg(engine, ids["D"], "zjj:liaison", "sms"), at(32, 0) + dt.timedelta(minutes=10), "sent")
    _attempt(engine, _msg(engine, ids["P"], None, "sms"), at(21, 2) + dt.timedelta(minutes=1), "sent")
    # Plan: renli's 1 done before the week, work plan and an experience in it, 2 after it.
    plan = load_plan(settings.data_paths["plan"], settings.units)
    record_done(engine, settings, plan, "renli", "1", now=at(20, 2))
    record_done(engine, settings, plan, "renli", "work_plan", now=at(26, 3))
    record_experience(engine, settings, plan, "renli", title="仁里镇“<b>村务公开</b>”经验", url="https://www.shitai.gov.cn/x",
                      now=at(26, 4))
    record_done(engine, settings, plan, "renli", "2", now=at(32, 4))
    return ids


@pytest.fixture
def week(sqlite_engine, settings):
    ids = build_week(sqlite_engine, settings)
    with Session(sqlite_engine) as s:
        f = weekly_figures(s, settings, WEEK_START, WEEK_END)
    return ids, f


# ---------------------------------------------------------------- bounds


def test_week_bounds_are_monday_to_sunday_beijing_and_default_to_the_last_complete_week():
    """2022-W30 runs from Monday 00:00 to Sunday 24:00 Beijing; Monday 00:30 Beijing already reports W30."""
    assert week_bounds("2022-W30", MON) == ("2022-W30", WEEK_START, WEEK_END)
    assert week_bounds(None, WEEK_END + dt.timedelta(minutes=30))[0] == "2022-W30"
    assert week_bounds(None, WEEK_END - dt.timedelta(minutes=1))[0] == "2022-W29"  # Sunday 23:59 Beijing
    assert week_bounds("2021-W52", MON)[1] == dt.datetime(2021, 12, 26, 16, tzinfo=UTC)
    with pytest.raises(WeekError):
        week_bounds("2022-30", MON)
    with pytest.raises(WeekError):
        week_bounds("2022-W54", MON)


# ---------------------------------------------------------------- the figures


def test_cases_opened_by_level_and_source_at_the_weeks_end(week):
    """Six cases opened in W30 (not P of W29, not Q of W31), E counted at its reclassified level, D not at its later one."""
    ids, f = week
    assert f["week"] == "2022-W30" and f["period"] == "2022年7月25日至7月31日"
    assert [c["case_id"] for c in f["cases"]["list"]] == [ids[k] for k in "CADBEF"]
    assert {r["label"]: r["count"] for r in f["cases"]["by_level"]} == {"特别重大": 0, "重大": 2, "较大": 0, "一般": 1,
                                                                      "其他舆情": 3}
    assert f["cases"]["by_source"] == [{"source": "test-opinion", "count": 5}, {"source": "sample-incident", "count": 1}]


def test_obligations_met_late_overdue_and_cancelled(week):
    """5 met on time, 2 late (1 h and 2 h), D still overdue 3 days 14 hours at Sunday 24:00, 3 cancelled."""
    ids, f = week
    got = sorted((r["case_id"], r["obligation"], r["outcome"], r["elapsed_s"], r["late_s"], r["overdue_s"])
                 for r in f["obligations"])
    h = 3600
    assert got == sorted([
        (ids["A"], "release_5h", "met", 4 * h, 0, None),
        (ids["A"], "press_24h", "met", 20 * h, 0, None),
        (ids["A"], "continued_release", "met", 16 * h, 0, None),
        (ids["A"], "continued_release", "cancelled", None, None, None),
        (ids["B"], "release_5h", "met_late", 6 * h, 1 * h, None),
        (ids["B"], "press_24h", "met", 6 * h, 0, None),
        (ids["B"], "continued_release", "cancelled", None, None, None),
        (ids["C"], "response_48h", "met", 20 * h, 0, None),
        (ids["D"], "response_48h", "overdue_open", None, None, (3 * 24 + 14) * h),
        (ids["E"], "response_48h", "met_late", 50 * h, 2 * h, None),
        (ids["F"], "response_48h", "cancelled", None, None, None),
    ])
    timing = {r["obligation"]: r for r in f["timing"]}
    assert (timing["release_5h"]["median_s"], timing["release_5h"]["worst_s"], timing["release_5h"]["worst_late_s"]) == (5 * h, 6 * h, h)
    assert (timing["response_48h"]["median_s"], timing["response_48h"]["worst_s"]) == (35 * h, 50 * h)
    assert (timing["response_48h"]["met"], timing["response_48h"]["met_late"], timing["response_48h"]["overdue_open"]) == (1, 1, 1)
    assert (timing["press_24h"]["median_s"], timing["press_24h"]["worst_s"]) == (13 * h, 20 * h)


def test_per_unit_rows_and_total(week):
    """Each unit's opened / met / late / overdue / steps / messages, and the total, as counted by hand."""
    _, f = week
    cols = ("opened", "met", "met_late", "overdue_open", "cancelled", "on_time_rate", "steps", "delivered", "failed", "changes")
    rows = {u["unit_id"]: tuple(u[c] for c in cols) for u in f["units"]}
    assert rows == {
        "yjglj": (2, 4, 1, 0, 2, 0.8, 2, 1, 0, 2),
        "jtj": (1, 1, 0, 0, 0, 1.0, 1, 1, 0, 1),
        "zjj": (1, 0, 0, 1, 0, 0.0, 4, 0, 1, 0),
        "scjgj": (1, 0, 1, 0, 0, 0.0, 1, 0, 0, 2),
        "fgw": (1, 0, 0, 0, 1, None, 1, 0, 0, 1),
        "office": (0, 0, 0, 0, 0, None, 0, 1, 0, 0),
    }
    assert tuple(f["total"][c] for c in cols) == (6, 5, 2, 1, 3, 0.625, 9, 3, 1, 6)


def test_steps_messages_and_changes(week):
    """9 ladder steps by kind; 3 delivered, 1 SMS failed, 1 retry; 6 reclassifications/closures with reasons."""
    ids, f = week
    assert {r["kind"]: r["count"] for r in f["steps"]["by_kind"]} == {
        "case_opened": 6, "final_warning": 1, "overdue": 1, "repeat_overdue": 1}
    m = f["messages"]
    assert (m["delivered"], m["failed"], m["retries"]) == (3, 1, 1)
    assert {c["channel"]: (c["delivered"], c["failed"], c["retries"]) for c in m["by_channel"]} == {
        "email": (1, 0, 1), "sms": (2, 1, 0)}
    assert [(x["recipient"], x["channel"], x["case_id"]) for x in m["failures"]] == [("zjj:liaison", "sms", ids["D"])]
    assert "MOBILE_NUMBER_ILLEGAL" in m["failures"][0]["error"]
    assert [(c["case_id"], c["label"], c["reason"]) for c in f["changes"]] == [
        (ids["C"], "关闭：已回应/发布", "已回应（https://www.shitai.gov.cn/c1）"),
        (ids["A"], "关闭：已处置完毕", "火灾已扑灭，善后处置完毕"),
        (ids["B"], "关闭：已处置完毕", "伤员均已救治，事故调查移交"),
        (ids["E"], "调整级别", "经核实为一般突发事件"),
        (ids["F"], "关闭：非本县职责", "属池州市级事权，已转交"),
        (ids["E"], "关闭：已回应/发布", "已回应（https://www.shitai.gov.cn/e1）"),
    ]
    assert f["changes"][3]["from"] == "其他舆情（48h）" and f["changes"][3]["to"] == "一般（48h）"


def test_plan_progress_as_recorded_by_the_weeks_end(week, settings):
    """renli: 1, the work plan and an experience done (2 recorded later is not); every other unit's work plan overdue."""
    from responder.plan import load_plan

    _, f = week
    p = f["plan"]
    assert p["available"]
    plan = load_plan(settings.data_paths["plan"], settings.units)
    renli = next(u for u in p["units"] if u["unit_id"] == "renli")
    implement = sum(1 for no in plan.phase("implement").requires if plan.applies(plan.unit("renli"), no))
    assert (renli["done"], renli["overdue"], renli["due"], renli["experiences"]) == (3, 0, implement - 1, 1)
    assert p["totals"]["overdue"] == len(plan.units) - 1
    assert [(r["unit_id"], r["requirement"]) for r in p["done_this_week"]] == [("renli", "work_plan")]
    assert [r["text"] for r in p["experiences_this_week"]] == ["仁里镇“<b>村务公开</b>”经验"]


def test_summary_says_what_to_look_at_first_and_chain_head_is_the_weeks_end(week, sqlite_engine):
    """The summary leads with the overdue case; the chain head is the last audit event before Sunday 24:00."""
    ids, f = week
    assert f["summary"] == (
        "本周新增舆情6件（特别重大、重大2件）。应办结回应义务8项，按时5项，逾期完成2项，周末仍超时未办1项，按时率62.5%。"
        f"请首先督办超时未办的1项（县住建局1项），其中案件#{ids['D']}“48小时内予以回应”至周末已超时3天14小时；"
        f"逾期完成2项，最长逾期2小时0分（案件#{ids['E']}，县市场监管局）；1条提醒发送失败（短信1条），请核对联系人信息；"
        "实施方案有29项要求逾期未完成（涉及29个单位）。")
    with Session(sqlite_engine) as s:
        last = s.exec(select(AuditEvent).where(AuditEvent.at < WEEK_END).order_by(AuditEvent.seq.desc())).first()
        later = s.exec(select(AuditEvent).where(AuditEvent.at >= WEEK_END)).all()
    assert later, "the fixture must record events after the week"
    assert f["chain"] == {"seq": last.seq, "hash": last.hash, "at": "2022-07-31T16:00:00Z"}


def test_a_past_week_is_the_same_whenever_it_is_made(week, sqlite_engine, settings):
    """Activity after the week (W31 above, and more now) leaves every byte of the W30 log unchanged."""
    _, f = week
    before = {fmt: render_weekly(f, fmt) for fmt in ("html", "csv", "md", "xlsx")}
    eng.advance(sqlite_engine, settings, at(33, 5))
    late = open_case(sqlite_engine, settings, ("丁香镇垃圾清运不及时", "网友反映丁香镇垃圾清运不及时"), at(33, 6))
    eng.close_case(sqlite_engine, late, kind="resolved", reason="已处理", now=at(33, 7))
    with Session(sqlite_engine) as s:
        again = weekly_figures(s, settings, WEEK_START, WEEK_END)
    assert again == f
    assert {fmt: render_weekly(again, fmt) for fmt in before} == before


# ---------------------------------------------------------------- the formats


def test_html_has_every_figure_and_escapes_feed_text(week):
    """The HTML page shows the summary, each table's hand-counted cells, the chain head; titles are escaped."""
    ids, f = week
    html = render_weekly(f, "html")["weekly-2022-W30.html"].decode()
    assert "@page { size: A4" in html and "<svg" in html
    assert f["summary"] in html.replace("&#34;", '"')
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;村务公开&lt;/b&gt;" in html
    assert f["chain"]["hash"] in html
    for cells in (["县应急管理局", "2", "4", "1", "0", "80%", "2", "1", "0", "2"],
                  ["合计", "6", "5", "2", "1", "62.5%", "9", "3", "1", "6"],
                  ["5小时内发布权威信息", "1", "1", "0", "0", "5小时0分", "6小时0分", "1小时0分"],
                  ["48小时内予以回应", "1", "1", "1", "1", "1天11小时", "2天2小时", "2小时0分"]):
        assert _row_html(cells) in _strip_td_attrs(html), cells


def _strip_td_attrs(html: str) -> str:
    import re

    return re.sub(r"<td[^>]*>", "<td>", html)


def _row_html(cells: list[str]) -> str:
    return "".join(f"<td>{c}</td>" for c in cells)


def test_markdown_has_every_figure_and_escapes_markup(week):
    """The Markdown body carries the same rows; feed text cannot open HTML or break a table cell."""
    _, f = week
    md = render_weekly(f, "md")["weekly-2022-W30.md"].decode()
    assert md.startswith("# 石台县政务舆情回应合规日志 2022-W30")
    assert "| 县应急管理局 | 2 | 4 | 1 | 0 | 80% | 2 | 1 | 0 | 2 | " in md
    assert "| **合计** | **6** | **5** | **2** | **1** | **62.5%** | **9** | **3** | **1** | **6** | " in md
    assert "| 短信 | 2 | 1 | 0 | " in md
    assert "\\<script\\>" in md and "<script>" not in md
    assert f["chain"]["hash"] in md
    assert "（本周无）" not in md.split("## 十、改级与关闭")[1].split("##")[0]


def test_csv_one_file_per_table_with_the_same_rows(week):
    """Each table is one CSV (BOM for Excel); rows equal the HTML's; a formula-like title is neutralised."""
    ids, f = week
    files = render_weekly(f, "csv")
    assert set(files) == {f"weekly-2022-W30-{t}.csv" for t in (
        "units", "levels", "sources", "cases", "timing", "obligations", "steps", "messages", "failures", "changes",
        "plan", "plan_done", "experiences", "requests")}
    units = list(csv.reader(io.StringIO(files["weekly-2022-W30-units.csv"].decode("utf-8-sig"))))
    assert units[0][:3] == ["单位", "新增舆情", "按时办结"]
    assert ["合计", "6", "5", "2", "1", "62.5%", "9", "3", "1", "6"] == units[-1]
    assert ["县住建局", "1", "0", "0", "1", "0%", "4", "0", "1", "0"] in units
    cases = list(csv.reader(io.StringIO(files["weekly-2022-W30-cases.csv"].decode("utf-8-sig"))))
    assert [f"#{ids['F']}", "'=网传市区某楼盘烂尾"] == cases[-1][:2]
    failures = list(csv.reader(io.StringIO(files["weekly-2022-W30-failures.csv"].decode("utf-8-sig"))))
    assert failures[1][:5] == ["2022-07-28 10:01", "短信", "zjj:liaison", "overdue", f"#{ids['D']}"]


def test_xlsx_workbook_has_the_same_tables(week, freezer):
    """The workbook has a sheet per table with the same cells, and the same bytes when made twice,
    even a day apart (openpyxl stamps the wall clock on save; the render must not)."""
    openpyxl = pytest.importorskip("openpyxl", reason="XLSX is optional: pip install openpyxl")
    _, f = week
    freezer.move_to("2022-08-01T09:00:00Z")
    data = render_weekly(f, "xlsx")["weekly-2022-W30.xlsx"]
    freezer.move_to("2022-08-02T10:30:07Z")
    assert data == render_weekly(f, "xlsx")["weekly-2022-W30.xlsx"]
    assert zipfile.is_zipfile(io.BytesIO(data))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    rows = [list(r) for r in wb["units"].iter_rows(values_only=True)]
    assert rows[-1] == ["合计", 6, 5, 2, 1, "62.5%", 9, 3, 1, 6]
    assert wb["摘要"]["B1"].value is None and wb["摘要"]["A2"].value == f["summary"]


def test_plan_section_says_unavailable_without_plan_data(sqlite_engine, tmp_path):
    """With data.plan switched off the plan section reads （计划数据不可用） in every format."""
    settings = make_test_settings(tmp_path, extra_toml="")
    import dataclasses

    settings = dataclasses.replace(settings, data_paths={**settings.data_paths, "plan": tmp_path})  # a directory: off
    with Session(sqlite_engine) as s:
        f = weekly_figures(s, settings, WEEK_START, WEEK_END)
    assert f["plan"]["available"] is False
    assert "（计划数据不可用）" in render_weekly(f, "html")["weekly-2022-W30.html"].decode()
    assert "（计划数据不可用）" in render_weekly(f, "md")["weekly-2022-W30.md"].decode()
    assert f["summary"] == "本周新增舆情0件（特别重大、重大0件）。本周无到期的回应义务。本周各项回应均按时完成，无需特别关注。"


@pytest.mark.postgres
def test_figures_are_the_same_on_postgresql(pg_engine, sqlite_engine, tmp_path):
    """The same week of activity yields the same figures on PostgreSQL as on SQLite (ids aside)."""
    s1 = make_test_settings(tmp_path / "a")
    s2 = make_test_settings(tmp_path / "b")
    build_week(sqlite_engine, s1)
    build_week(pg_engine, s2)
    with Session(sqlite_engine) as a, Session(pg_engine) as b:
        fa = weekly_figures(a, s1, WEEK_START, WEEK_END)
        fb = weekly_figures(b, s2, WEEK_START, WEEK_END)
    for f in (fa, fb):
        f.pop("chain")
    assert fa == fb
