"""The response ledger (回应台账) of July 2022, built from a month of cases with known outcomes and counted by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from responder import db, engine as eng
from responder.cli import main
from responder.report.ledger import LedgerError, Period, ledger_for, make_period, month_period, parse_period
from responder.report.ledger_render import render_ledger
from responder.testing.engine import make_test_settings
from report_support import BUS, FEES, FIRE, MARKET, WATER, open_case

UTC = dt.timezone.utc
H = 3600
JULY = Period(dt.date(2022, 7, 1), dt.date(2022, 7, 31), "month")

HOUSING = ("=HYPERLINK(\"http://evil\")网传市区某楼盘烂尾", "网友反映池州市区某楼盘停工")
WAREHOUSE = ("石台县某仓库发生火灾致15人死亡", "石台县某仓库起火，截至目前已造成15人死亡。")
LAMPS = ("小河镇路灯不亮", "网友反映小河镇路灯长期不亮")
ROAD = ("仁里镇道路破损无人修", "网友反映仁里镇道路破损")


def at(month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(2022, month, day, hour, tzinfo=UTC)


def build_month(engine, settings) -> dict[str, int]:
    """June's one case, July's eight (every outcome), and August's events that must not change July."""
    ids = build_july(engine, settings)
    build_august(engine, settings, ids)
    return ids


def build_july(engine, settings) -> dict[str, int]:
    """June's one case and July's eight: on time, late, overdue across the end, open, reclassified, closed,
    released twice."""
    ids: dict[str, int] = {}
    ids["P"] = open_case(engine, settings, ROAD, at(6, 20, 2))
    eng.record_release(engine, settings, ids["P"], kind="回应", url="https://www.shitai.gov.cn/p1", now=at(6, 20, 3))
    # A (重大, 5 h): released after 4 h, a press conference after 20 h (released twice), closed.
    ids["A"] = open_case(engine, settings, FIRE, at(7, 5, 2), link="https://news.example.cn/a")
    eng.record_release(engine, settings, ids["A"], kind="权威发布", url="https://www.shitai.gov.cn/a1", now=at(7, 5, 6))
    eng.record_release(engine, settings, ids["A"], kind="新闻发布会", url="https://www.shitai.gov.cn/a2", now=at(7, 5, 22))
    eng.ack_case(engine, ids["A"], now=at(7, 5, 3), actor="应急局张三")
    eng.close_case(engine, ids["A"], kind="resolved", reason="火灾已扑灭，善后处置完毕", now=at(7, 6, 12))
    # B (重大, 5 h): a press conference after 6 h is one hour late for the 5-hour clock.
    ids["B"] = open_case(engine, settings, BUS, at(7, 10, 1), source="sample-incident", role="incident")
    eng.record_release(engine, settings, ids["B"], kind="新闻发布会", url="https://www.shitai.gov.cn/b1", now=at(7, 10, 7))
    eng.close_case(engine, ids["B"], kind="resolved", reason="伤员均已救治", now=at(7, 10, 10))
    # C (48 h): answered after 20 h.
    ids["C"] = open_case(engine, settings, FEES, at(7, 12, 1))
    eng.record_release(engine, settings, ids["C"], kind="回应", url="https://www.shitai.gov.cn/c1", now=at(7, 12, 21))
    # E (48 h): reclassified as 一般, answered after 50 h (2 h late).
    ids["E"] = open_case(engine, settings, MARKET, at(7, 14, 1))
    eng.reclassify(engine, settings, ids["E"], "IV", reason="经核实为一般突发事件", now=at(7, 14, 3))
    eng.record_release(engine, settings, ids["E"], kind="回应", url="https://www.shitai.gov.cn/e1", now=at(7, 16, 3))
    # F: closed as not ours, with a hostile title.
    ids["F"] = open_case(engine, settings, HOUSING, at(7, 20, 1))
    eng.close_case(engine, ids["F"], kind="not_ours", reason="属池州市级事权，已转交", now=at(7, 20, 5))
    # H (重大 → 一般): downgraded after an hour, the 48 h clock runs from the first report, answered after 30 h.
    ids["H"] = open_case(engine, settings, WAREHOUSE, at(7, 22, 2))
    eng.reclassify(engine, settings, ids["H"], "IV", reason="经核实死亡人数有误", now=at(7, 22, 3))
    eng.record_release(engine, settings, ids["H"], kind="回应", url="https://www.shitai.gov.cn/h1", now=at(7, 23, 8))
    # D (48 h): due 30 July 10:00 Beijing, answered only in August: overdue across the period's end.
    ids["D"] = open_case(engine, settings, WATER, at(7, 28, 2))
    eng.advance(engine, settings, at(7, 30, 3))
    # G (48 h): opened on the last evening, due in August: still open at the end.
    ids["G"] = open_case(engine, settings, LAMPS, at(7, 31, 10))
    return ids


def build_august(engine, settings, ids) -> None:
    """August: D reclassified and answered, G answered, a new case; none of it may change July."""
    eng.reclassify(engine, settings, ids["D"], "III", reason="事后核实", now=at(8, 2, 2))
    eng.record_release(engine, settings, ids["D"], kind="回应", url="https://www.shitai.gov.cn/d1", now=at(8, 2, 3))
    eng.record_release(engine, settings, ids["G"], kind="回应", url="https://www.shitai.gov.cn/g1", now=at(8, 1, 3))
    ids["Q"] = open_case(engine, settings, ("七都镇垃圾清运不及时", "网友反映七都镇垃圾清运不及时"), at(8, 3, 2))


@pytest.fixture
def month(engine, settings):
    ids = build_month(engine, settings)
    with Session(engine) as s:
        lg = ledger_for(s, settings, JULY)
    return ids, lg


def _row(lg, case_id):
    return next(r for r in lg["rows"] if r["case_id"] == case_id)


def _states(row):
    return [(o["kind"], o["unit_id"], o["state"]) for o in row["obligations"]]


# ---------------------------------------------------------------- the period


def test_periods_are_named_by_what_they_are_and_compared_with_the_one_before():
    """A whole month, quarter or year is named so and compared with the previous one; a span of days with the
    same number of days before it; bad dates are clear errors."""
    assert parse_period("2022-07-01", "2022-07-31") == JULY
    assert JULY.start == at(6, 30, 16) and JULY.end == at(7, 31, 16)  # Beijing midnights
    assert JULY.previous() == Period(dt.date(2022, 6, 1), dt.date(2022, 6, 30), "month")
    q = make_period(dt.date(2022, 7, 1), dt.date(2022, 9, 30))
    assert (q.kind, q.key, q.label) == ("quarter", "2022-Q3", "2022年第三季度")
    assert q.previous().first == dt.date(2022, 4, 1)
    y = make_period(dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    assert (y.kind, y.label, y.previous().first) == ("year", "2022年", dt.date(2021, 1, 1))
    c = make_period(dt.date(2022, 7, 5), dt.date(2022, 7, 11))
    assert c.kind == "custom" and c.previous() == Period(dt.date(2022, 6, 28), dt.date(2022, 7, 4), "custom")
    assert month_period(dt.datetime(2022, 7, 31, 16, 30, tzinfo=UTC)) == JULY  # 1 August 00:30 Beijing
    for a, b in (("2022-7-1", "2022-07-31"), ("2022-07-01", "2022-06-30"), ("2022-02-30", "2022-03-01")):
        with pytest.raises(LedgerError):
            parse_period(a, b)


# ---------------------------------------------------------------- the lines


def test_one_line_per_case_opened_in_the_month_as_it_stood_at_its_end(month):
    """June's and August's cases are not July's; each obligation is on time, late, overdue, cancelled or open as
    recorded before 1 August 00:00 Beijing, even where August changed it."""
    ids, lg = month
    assert [r["case_id"] for r in lg["rows"]] == [ids[k] for k in "ABCEFHDG"]
    assert [r["number"] for r in lg["rows"]] == list(range(1, 9))
    assert _states(_row(lg, ids["A"])) == [("release_5h", "yjglj", "on_time"), ("press_24h", "yjglj", "on_time"),
                                           ("continued_release", "yjglj", "on_time"),
                                           ("continued_release", "yjglj", "cancelled")]
    b = _row(lg, ids["B"])
    assert _states(b) == [("release_5h", "yjglj", "late"), ("press_24h", "yjglj", "on_time"),
                          ("continued_release", "yjglj", "cancelled")]
    assert b["obligations"][0]["late_s"] == H and b["obligations"][0]["met_at"] == "2022-07-10T07:00:00Z"
    assert b["obligations"][0]["deadline_at"] == "2022-07-10T06:00:00Z"
    assert _states(_row(lg, ids["C"])) == [("response_48h", "jtj", "on_time")]
    e = _row(lg, ids["E"])
    assert _states(e) == [("response_48h", "scjgj", "late")] and e["obligations"][0]["late_s"] == 2 * H
    assert _states(_row(lg, ids["F"])) == [("response_48h", "fgw", "cancelled")]
    assert _states(_row(lg, ids["H"])) == [("release_5h", "yjglj", "cancelled"), ("press_24h", "yjglj", "cancelled"),
                                           ("response_48h", "yjglj", "on_time")]
    d = _row(lg, ids["D"])  # answered in August: still overdue in July's ledger, by 38 h at the month's end
    assert _states(d) == [("response_48h", "zjj", "overdue")]
    assert d["obligations"][0]["overdue_s"] == 38 * H and d["obligations"][0]["met_at"] is None
    assert d["first_response"] is None and d["evidence_urls"] == [] and d["closed"] is None and d["level"] is None
    assert _states(_row(lg, ids["G"])) == [("response_48h", "zjj", "open")]


def test_a_line_carries_source_level_reason_units_response_evidence_and_closure(month):
    """The ledger's columns for the case released twice, and for the downgraded and the transferred ones."""
    ids, lg = month
    a = _row(lg, ids["A"])
    assert a["title"] == FIRE[0] and a["source"] == "test-opinion" and a["link"] == "https://news.example.cn/a"
    assert (a["level"], a["level_label"], a["five_hour"]) == ("II", "重大", True) and a["reason"]
    assert (a["unit_id"], a["unit_name"]) == ("yjglj", "县应急管理局") and a["co_units"] == ["县生态环境分局"]
    assert a["first_seen_at"] == a["opened_at"] == a["assigned_at"] == "2022-07-05T02:00:00Z"
    assert a["first_response"] == {"release_id": a["first_response"]["release_id"], "at": "2022-07-05T06:00:00Z",
                                   "kind": "权威发布", "url": "https://www.shitai.gov.cn/a1", "elapsed_s": 4 * H}
    assert [(r["kind"], r["url"], r["at"]) for r in a["continued_releases"]] == [
        ("新闻发布会", "https://www.shitai.gov.cn/a2", "2022-07-05T22:00:00Z")]
    assert a["evidence_urls"] == ["https://www.shitai.gov.cn/a1", "https://www.shitai.gov.cn/a2"]
    assert a["acks"] == [{"at": "2022-07-05T03:00:00Z", "actor": "应急局张三", "note": ""}]
    assert a["closed"] == {"at": "2022-07-06T12:00:00Z", "kind": "resolved", "label": "已处置完毕",
                           "reason": "火灾已扑灭，善后处置完毕"}
    h = _row(lg, ids["H"])
    assert (h["level"], h["five_hour"]) == ("IV", False)
    assert [(x["from"], x["to"], x["reason"]) for x in h["reclassifications"]] == [
        ("重大（5h）", "一般（48h）", "经核实死亡人数有误")]
    assert h["first_response"]["elapsed_s"] == 30 * H  # from the first report, not from the downgrade
    assert h["closed"]["kind"] == "met" and h["closed"]["reason"] == "已回应（https://www.shitai.gov.cn/h1）"
    f = _row(lg, ids["F"])
    assert f["to_answer"] is False and f["closed"]["kind"] == "not_ours"
    assert _row(lg, ids["B"])["source"] == "sample-incident"


# ---------------------------------------------------------------- the rollups


def test_totals_by_hand(month):
    """8 matters, F transferred (7 to answer), 5 answered: A 4 h, B 6 h, C 20 h, H 30 h, E 50 h; 9 obligations
    settled or overdue of which 6 on time."""
    _, lg = month
    t = lg["summary"]["total"]
    assert {k: t[k] for k in ("matters", "to_answer", "answered", "within_5h", "within_24h", "within_48h")} == {
        "matters": 8, "to_answer": 7, "answered": 5, "within_5h": 1, "within_24h": 3, "within_48h": 4}
    assert (t["response_rate"], t["share_5h"], t["share_24h"], t["share_48h"]) == (0.7143, 0.1429, 0.4286, 0.5714)
    assert (t["median_s"], t["worst_s"]) == (20 * H, 50 * H)
    assert {k: t[k] for k in ("on_time", "late", "overdue", "cancelled", "open")} == {
        "on_time": 6, "late": 2, "overdue": 1, "cancelled": 5, "open": 1}
    assert t["on_time_rate"] == 0.6667 and t["worst_late_s"] == 2 * H


def test_per_unit_by_hand(month):
    """Matters by lead unit, obligations by the unit each clock was routed to, units in configured order."""
    _, lg = month
    got = {u["unit_id"]: (u["matters"], u["to_answer"], u["answered"], u["within_5h"], u["within_24h"],
                          u["within_48h"], u["median_s"], u["worst_s"], u["on_time"], u["late"], u["overdue"],
                          u["on_time_rate"]) for u in lg["summary"]["units"]}
    assert got == {
        "yjglj": (3, 3, 3, 1, 2, 3, 6 * H, 30 * H, 5, 1, 0, 0.8333),
        "jtj": (1, 1, 1, 0, 1, 1, 20 * H, 20 * H, 1, 0, 0, 1.0),
        "scjgj": (1, 1, 1, 0, 0, 0, 50 * H, 50 * H, 0, 1, 0, 0.0),
        "fgw": (1, 0, 0, 0, 0, 0, None, None, 0, 0, 0, None),
        "zjj": (2, 2, 0, 0, 0, 0, None, None, 0, 0, 1, 0.0),
    }


def test_trend_against_june_and_the_monthly_breakdown(month):
    """June had one matter answered in an hour: July is 7 more, on-time rate down 33.33 points."""
    _, lg = month
    s = lg["summary"]
    assert s["previous"]["period"]["key"] == "2022-06"
    p = s["previous"]["total"]
    assert (p["matters"], p["answered"], p["within_5h"], p["on_time"], p["on_time_rate"]) == (1, 1, 1, 1, 1.0)
    assert s["trend"] == {"matters": 7, "response_rate": -0.2857, "share_5h": -0.8571, "share_24h": -0.5714,
                          "share_48h": -0.4286, "on_time_rate": -0.3333, "overdue": 1, "median_s": 19 * H}
    assert [m["key"] for m in s["months"]] == ["2022-07"] and s["months"][0]["matters"] == 8
    assert "2022年7月共受理舆情事项8件" in s["text"] and "按时率下降33.3个百分点" in s["text"]


def test_a_quarter_adds_up_its_months(engine, settings):
    """July–September: one row per month (July's figures as of the quarter's end), sums equal the total."""
    build_month(engine, settings)
    with Session(engine) as s:
        lg = ledger_for(s, settings, make_period(dt.date(2022, 7, 1), dt.date(2022, 9, 30)))
    months = lg["summary"]["months"]
    assert [m["key"] for m in months] == ["2022-07", "2022-08", "2022-09"]
    assert [m["matters"] for m in months] == [8, 1, 0] and lg["summary"]["total"]["matters"] == 9
    july = months[0]
    assert (july["overdue"], july["late"], july["open"]) == (0, 3, 0)  # D answered late, G on time, in August
    assert months[1]["trend"]["matters"] == -7


def test_unit_filter(month, engine, settings):
    """--unit keeps the matters a unit leads or has an obligation in; an unknown unit is an error."""
    ids, _ = month
    with Session(engine) as s:
        lg = ledger_for(s, settings, JULY, unit="zjj")
        assert [r["case_id"] for r in lg["rows"]] == [ids["D"], ids["G"]]
        assert [u["unit_id"] for u in lg["summary"]["units"]] == ["zjj"]
        assert lg["summary"]["total"]["overdue"] == 1
        with pytest.raises(LedgerError):
            ledger_for(s, settings, JULY, unit="nosuch")


# ---------------------------------------------------------------- the same whenever it is made


def test_the_same_month_is_byte_identical_whenever_it_is_made(sqlite_engine, settings, freezer):
    """Made on 1 August (before August's events) and again on 5 August (after them, another wall clock):
    every format has the same bytes, XLSX included."""
    ids = build_july(sqlite_engine, settings)
    freezer.move_to("2022-08-01T01:00:00Z")
    with Session(sqlite_engine) as s:
        first = {fmt: render_ledger(ledger_for(s, settings, JULY), fmt) for fmt in ("json", "csv", "html", "xlsx")}
    build_august(sqlite_engine, settings, ids)
    freezer.move_to("2022-08-05T07:31:09Z")
    with Session(sqlite_engine) as s:
        again = {fmt: render_ledger(ledger_for(s, settings, JULY), fmt) for fmt in ("json", "csv", "html", "xlsx")}
    for fmt in first:
        assert first[fmt] == again[fmt], fmt
    assert set(first["xlsx"]) == {"ledger-2022-07.xlsx"}


# ---------------------------------------------------------------- formats


def test_json_rows_have_the_documented_fields(month):
    """Each row has case_id, title, level, obligations (kind, deadline_at, met_at, state) and evidence_urls."""
    _, lg = month
    doc = json.loads(render_ledger(lg, "json")["ledger-2022-07.json"])
    assert set(doc) == {"period", "rows", "summary"} and doc["period"]["from"] == "2022-07-01"
    for r in doc["rows"]:
        assert {"case_id", "title", "level", "obligations", "evidence_urls"} <= set(r)
        for o in r["obligations"]:
            assert {"kind", "deadline_at", "met_at", "state"} <= set(o)
            assert o["state"] in ("on_time", "late", "overdue", "cancelled", "open")


def test_csv_is_safe_against_formula_injection(month):
    """A feed title starting with '=' is written with a leading apostrophe; the BOM lets Excel read Chinese."""
    ids, lg = month
    files = render_ledger(lg, "csv")
    assert set(files) == {f"ledger-2022-07-{t}.csv" for t in ("units", "previous", "months", "ledger")}
    raw = files["ledger-2022-07-ledger.csv"]
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    f = next(r for r in rows[1:] if r[1] == f"#{ids['F']}")
    assert f[2] == "'" + HOUSING[0]
    assert all(not c.startswith(("=", "+", "-", "@")) for r in rows for c in r)
    d = next(r for r in rows[1:] if r[1] == f"#{ids['D']}")
    assert d[6] == "2022-07-28 10:00" and "超时未办1天14小时" in d[18]  # Beijing time
    units = list(csv.reader(io.StringIO(files["ledger-2022-07-units.csv"].decode("utf-8-sig"))))
    assert units[-1][:5] == ["合计", "8", "7", "5", "71.4%"]


def test_html_escapes_feed_text_and_has_an_inline_chart(month):
    """The page needs no network: the chart is inline SVG; a <script> in a title is text."""
    _, lg = month
    page = render_ledger(lg, "html")["ledger-2022-07.html"].decode()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<svg" in page and "2022年6月（上期）" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace("http://evil", "")
    assert "71.4%" in page and lg["summary"]["text"] in page


def test_xlsx_summary_first_frozen_headers_real_beijing_dates_and_charts(month):
    """Summary sheet first; headers frozen; times are Excel dates in Beijing time; rates are numbers; Chinese
    columns wide enough; native charts; the hostile title is text, not a formula."""
    openpyxl = pytest.importorskip("openpyxl")
    ids, lg = month
    wb = openpyxl.load_workbook(io.BytesIO(render_ledger(lg, "xlsx")["ledger-2022-07.xlsx"]))
    assert wb.sheetnames[0] == "汇总" and "台账" in wb.sheetnames
    ws = wb["汇总"]
    assert ws["A2"].value == lg["summary"]["text"] and ws.freeze_panes == "A6"
    total = [c.value for c in ws[ws.max_row]]
    assert total[:5] == ["合计", 8, 7, 5, 0.7143] and ws.cell(ws.max_row, 5).number_format == "0.0%"
    assert len(ws._charts) == 1 and len(wb["按月"]._charts) == 1
    led = wb["台账"]
    assert led.freeze_panes == "B3"
    header = [c.value for c in led[2]]
    d = next(r for r in led.iter_rows(min_row=3) if r[1].value == f"#{ids['D']}")
    opened = d[header.index("立案时间")]
    assert opened.value == dt.datetime(2022, 7, 28, 10, 0) and opened.number_format == "yyyy-mm-dd hh:mm"
    f = next(r for r in led.iter_rows(min_row=3) if r[1].value == f"#{ids['F']}")
    assert f[2].value == "'" + HOUSING[0]
    assert led.column_dimensions["C"].width >= 2 * len(FIRE[0])


def test_cli_prints_one_json_object_and_writes_xlsx(tmp_path):
    """`responder report ledger --from --to --format json` prints {period, rows, summary}; xlsx goes to --out."""
    settings = make_test_settings(tmp_path)
    e = db.make_engine(settings.database_url)
    db.upgrade(e)
    ids = build_month(e, settings)
    e.dispose()
    r = CliRunner().invoke(main, ["report", "ledger", "--from", "2022-07-01", "--to", "2022-07-31", "--format", "json",
                                  "-c", str(settings.path)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [row["case_id"] for row in doc["rows"]] == [ids[k] for k in "ABCEFHDG"]
    r = CliRunner().invoke(main, ["report", "ledger", "--from", "2022-07-01", "--to", "2022-07-31", "--unit", "zjj",
                                  "--out", str(tmp_path / "out"), "-c", str(settings.path)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "ledger-2022-07-zjj.xlsx").exists()
    r = CliRunner().invoke(main, ["report", "ledger", "--from", "2022-07-31", "--to", "2022-07-01", "-c",
                                  str(settings.path)])
    assert r.exit_code == 2 and "before" in r.output
