"""Operator commands on cases, through the real CLI on a real database."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from responder import db, engine as eng
from responder.cli import main
from responder.testing.engine import add_item, make_test_settings

UTC = dt.timezone.utc


@pytest.fixture
def world(tmp_path):
    s = make_test_settings(tmp_path)
    e = db.make_engine(s.database_url)
    db.upgrade(e)
    now = dt.datetime.now(UTC).replace(microsecond=0)
    add_item(e, title="石台县丁香镇一化工厂发生火灾 已致12人死亡", text="丁香镇一化工厂发生火灾，已造成12人死亡。",
             published_at=now - dt.timedelta(hours=1), first_seen_at=now - dt.timedelta(hours=1))
    add_item(e, title="网友反映仁里镇中心小学乱收费", text="家长反映学校收取补课费。", published_at=now - dt.timedelta(hours=50),
             first_seen_at=now - dt.timedelta(minutes=5))
    eng.open_cases(e, s, now)
    eng.advance(e, s, now)
    return s, e


def run(s, *args):
    r = CliRunner().invoke(main, [*args, "-c", str(s.path)])
    return r


def test_status_lists_overdue_first_in_beijing_time(world):
    """`status` puts the overdue 48-hour case before the running 5-hour case; --json has the fields scripts read."""
    s, _ = world
    r = run(s, "status", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["open_cases"] == 2 and data["overdue"] == 1
    assert data["cases"][0]["overdue"] and data["cases"][0]["clock"] == "48h"
    assert data["cases"][1]["clock"] == "5h" and data["cases"][1]["seconds_left"] > 0
    text = run(s, "status").output
    assert "超时" in text and "县应急管理局" in text and "（北京时间）" in text


def test_show_release_ack_reclassify_close(world):
    """The timeline shows reasons and clocks; release stops the 5-hour clock; ack, reclassify and close are recorded."""
    s, e = world
    out = run(s, "show", "1").output
    assert "死亡12人" in out and "5小时内发布权威信息" in out and "依据" in out
    r = run(s, "release", "1", "--url", "https://www.shitai.gov.cn/qwfb/1", "--kind", "权威发布", "--by", "王值班")
    assert r.exit_code == 0 and "按时完成" in r.output, r.output
    assert run(s, "ack", "2", "--by", "李联络").exit_code == 0
    assert "已签收" in run(s, "show", "2").output
    r = run(s, "reclassify", "2", "none", "--reason", "核实为一般咨询", "--by", "王值班")
    assert r.exit_code == 0 and "48h" in r.output
    r = run(s, "close", "2", "--kind", "not_ours", "--reason", "属市级事权", "--by", "王值班")
    assert r.exit_code == 0
    data = json.loads(run(s, "show", "2", "--json").output)
    assert data["case"]["state"] == "closed" and data["case"]["close_kind"] == "not_ours"
    kinds = [ev["kind"] for ev in data["events"]]
    assert "case.acked" in kinds and "case.reclassified" in kinds and "case.closed" in kinds


def test_operator_errors_are_clear(world):
    """A wrong case, a future release time and a missing reason are refused with a message and exit 2."""
    s, _ = world
    r = run(s, "release", "99", "--url", "u")
    assert r.exit_code == 2 and "不存在" in r.output
    r = run(s, "release", "1", "--url", "u", "--at", "2099-01-01 10:00")
    assert r.exit_code == 2 and "晚于当前时间" in r.output
    r = run(s, "close", "1", "--reason", " ")
    assert r.exit_code == 2 and "理由" in r.output


def test_commands_refuse_an_unmigrated_database(tmp_path):
    """Pointing a command at a database that was never upgraded says to run `db upgrade`."""
    s = make_test_settings(tmp_path)
    r = run(s, "status")
    assert r.exit_code == 2 and "responder db upgrade" in r.output
