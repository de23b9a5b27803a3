"""The response ledger (回应台账) of July 2022, built from a month of cases with known outcomes and counted by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from sqlmodel import Session

from responder import engine as eng
from responder.report.ledger import Period, ledger_for, make_period, month_period, parse_period, LedgerError
from responder.report.ledger_render import render_ledger
from responder.testing.engine import add_item, make_test_settings

UTC = dt.timezone.utc
H = 3600
JULY = Period(dt.date(2022, 7, 1), dt.date(2022, 7, 31), "month")

FIRE = ("石台县某化工厂发生火灾致12人死亡", "7月25日上午，石台县某化工厂车间起火，截至目前已造成12人死亡。")
BUS = ("石台县矶滩乡一客车侧翻致11人死亡", "一辆客车在矶滩乡侧翻，截至目前，事故已造成11人死亡。")
FEES = ("网友反映仁里镇中心小学乱收费", "有家长反映仁里镇中心小学收取补课费，希望有关部门核查。")
WATER = ("横渡镇某小区长期停水<script>alert(1)</script>", "居民反映小区停水三天，无人处理")
MARKET = ("七都镇农贸市场卫生脏乱差", "网友反映七都镇农贸市场垃圾成堆")
HOUSING = ("=HYPERLINK(\"http://evil\")网传市区某楼盘烂尾", "网友反映池州市区某楼盘停工")
WAREHOUSE = ("石台县某仓库发生火灾致15人死亡", "石台县某仓库起火，截至目前已造成15人死亡。")
LAMPS = ("小河镇路灯不亮", "网友反映小河镇路灯长期不亮")
ROAD = ("仁里镇道路破损无人修", "网友反映仁里镇道路破损")


def at(month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(2022, month, day, hour, tzinfo=UTC)


def _open(engine, settings, text, when, *, source="test-opinion", role="opinion", link=None):
    add_item(engine, title=text[0], text=text[1], published_at=when, first_seen_at=when, source=source, role=role,
             link=link)
    res = eng.open_cases(engine, settings, when)
    assert len(res.cases_opened) == 1, res
    eng.advance(engine, settings, when)
    return res.cases_opened[0]


def build_month(engine, settings) -> dict[str, int]:
    """June's one case, July's eight (every outcome), and August's events that must not change July."""
    ids: dict[str, int] = {}
    ids["P"] = _open(engine, settings, ROAD, at(6, 20, 2))
    eng.record_release(engine, settings, ids["P"], kind="回应", url="https://www.shitai.gov.cn/p1", now=at(6, 20, 3))
    # A (重大, 5 h): released after 4 h, a press conference after 20 h (released twice), closed.
    ids["A"] = _open(engine, settings, FIRE, at(7, 5, 2), link="https://news.example.cn/a")
    eng.record_release(engine, settings, ids["A"], kind="权威发布", url="https://www.shitai.gov.cn/a1", now=at(7, 5, 6))
    eng.record_release(engine, settings, ids["A"], kind="新闻发布会", url="https://www.shitai.gov.cn/a2", now=at(7, 5, 22))
    eng.ack_case(engine, ids["A"], now=at(7, 5, 3), actor="应急局张三")
    eng.close_case(engine, ids["A"], kind="resolved", reason="火灾已扑灭，善后处置完毕", now=at(7, 6, 12))
    # B (重大, 5 h): a press conference after 6 h is one hour late for the 5-hour clock.
    ids["B"] = _open(engine, settings, BUS, at(7, 10, 1), source="sample-incident", role="incident")
    eng.record_release(engine, settings, ids["B"], kind="新闻发布会", url="https://www.shitai.gov.cn/b1", now=at(7, 10, 7))
    eng.close_case(engine, ids["B"], kind="resolved", reason="伤员均已救治", now=at(7, 10, 10))
    # C (48 h): answered after 20 h.
    ids["C"] = _open(engine, settings, FEES, at(7, 12, 1))
    eng.record_release(engine, settings, ids["C"], kind="回应", url="https://www.shitai.gov.cn/c1", now=at(7, 12, 21))
    # E (48 h): reclassified as 一般, answered after 50 h (2 h late).
    ids["E"] = _open(engine, settings, MARKET, at(7, 14, 1))
    eng.reclassify(engine, settings, ids["E"], "IV", reason="经核实为一般突发事件", now=at(7, 14, 3))
    eng.record_release(engine, settings, ids["E"], kind="回应", url="https://www.shitai.gov.cn/e1", now=at(7, 16, 3))
    # F: closed as not ours, with a hostile title.
    ids["F"] = _open(engine, settings, HOUSING, at(7, 20, 1))
    eng.close_case(engine, ids["F"], kind="not_ours", reason="属池州市级事权，已转交", now=at(7, 20, 5))
    # H (重大 → 一般): downgraded after an hour, the 48 h clock runs from the first report, answered after 30 h.
    ids["H"] = _open(engine, settings, WAREHOUSE, at(7, 22, 2))
    eng.reclassify(engine, settings, ids["H"], "IV", reason="经核实死亡人数有误", now=at(7, 22, 3))
    eng.record_release(engine, settings, ids["H"], kind="回应", url="https://www.shitai.gov.cn/h1", now=at(7, 23, 8))
    # D (48 h): due 30 July 10:00 Beijing, answered only in August: overdue across the period's end.
    ids["D"] = _open(engine, settings, WATER, at(7, 28, 2))
    eng.advance(engine, settings, at(7, 30, 3))
    # G (48 h): opened on the last evening, due in August: still open at the end.
    ids["G"] = _open(engine, settings, LAMPS, at(7, 31, 10))
    # August: D reclassified and answered, G answered, a new case; none of it may change July.
    eng.reclassify(engine, settings, ids["D"], "III", reason="事后核实", now=at(8, 2, 2))
    eng.record_release(engine, settings, ids["D"], kind="回应", url="https://www.shitai.gov.cn/d1", now=at(8, 2, 3))
    eng.record_release(engine, settings, ids["G"], kind="回应", url="https://www.shitai.gov.cn/g1", now=at(8, 1, 3))
    ids["Q"] = _open(engine, settings, ("七都镇垃圾清运不及时", "网友反映七都镇垃圾清运不及时"), at(8, 3, 2))
    return ids


@pytest.fixture
def settings(tmp_path):
    return make_test_settings(tmp_path)


@pytest.fixture
def month(sqlite_engine, settings):
    ids = build_month(sqlite_engine, settings)
    with Session(sqlite_engine) as s:
        lg = ledger_for(s, settings, JULY)
    return ids, lg


def test_explore(month):
    ids, lg = month
    print(json.dumps(lg, ensure_ascii=False, indent=1))
    assert 0
