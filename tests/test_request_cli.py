"""`responder request …` through the real CLI on a real database, with frozen time (issue 19)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from responder import db
from responder.cli import main
from responder.testing.engine import make_test_settings


@pytest.fixture
def cfg(tmp_path):
    s = make_test_settings(tmp_path)
    e = db.make_engine(s.database_url)
    db.upgrade(e)
    e.dispose()
    return s


def run(s, *args):
    r = CliRunner().invoke(main, [*args, "-c", str(s.path)])
    assert r.exit_code == 0, r.output
    return r.output


def test_request_lifecycle_from_the_command_line(cfg, freezer):
    """add → pause → resume → extend → answer, each printing the recomputed deadline; list and show agree."""
    freezer.move_to("2026-03-10 02:00:00")  # 10:00 Beijing
    v = json.loads(run(cfg, "request", "add", "--received", "2026-03-10", "--channel", "当面", "--applicant", "张三",
                       "--description", "申请公开道路建设项目资金使用情况", "--json", "--by", "王五"))
    rid = v["id"]
    assert (v["due_date"], v["working_days"], v["calendar"], v["correction_notice_due"]) == ("2026-04-08", 20, "package", "2026-03-19")
    assert "当面提交" in v["receipt_rule"]
    freezer.move_to("2026-03-16 02:00:00")
    v = json.loads(run(cfg, "request", "pause", str(rid), "--party", "第三方", "--reason", "涉及商业秘密", "--json"))
    assert v["state"] == "paused"
    freezer.move_to("2026-03-20 08:00:00")
    v = json.loads(run(cfg, "request", "resume", str(rid), "--json"))
    assert v["due_date"] == "2026-04-14"
    v = json.loads(run(cfg, "request", "extend", str(rid), "--days", "20", "--approver", "李主任", "--reason", "档案较多", "--json"))
    assert v["due_date"] == "2026-05-14" and v["working_days"] == 40
    rows = json.loads(run(cfg, "request", "list", "--json"))
    assert [r["id"] for r in rows] == [rid]
    text = run(cfg, "request", "show", str(rid))
    assert "2026-05-14 24:00" in text and "李主任" in text and "征求第三方意见" in text
    freezer.move_to("2026-04-30 02:00:00")
    v = json.loads(run(cfg, "request", "answer", str(rid), "--type", "not_exist", "--json"))
    assert (v["state"], v["on_time"], v["answer_label"]) == ("answered", True, "信息不存在")
    assert json.loads(run(cfg, "request", "list", "--json")) == []
    assert len(json.loads(run(cfg, "request", "list", "--all", "--json"))) == 1


def test_refusals_are_clear_errors(cfg, freezer):
    """A future receipt date, an unknown channel or a second extension is refused with the reason, nothing stored."""
    freezer.move_to("2026-03-10 02:00:00")
    r = CliRunner().invoke(main, ["request", "add", "--received", "2026-03-11", "--channel", "当面", "-c", str(cfg.path)])
    assert r.exit_code == 2 and "晚于今天" in r.output
    r = CliRunner().invoke(main, ["request", "add", "--received", "2026-03-10", "--channel", "电话", "-c", str(cfg.path)])
    assert r.exit_code == 2
    assert json.loads(run(cfg, "request", "list", "--all", "--json")) == []


HUGE = str(2**70)
SLIPS = [
    ["request", "show", HUGE], ["request", "show", "0"], ["request", "show", "99"], ["request", "answer", HUGE, "--type", "disclosed"],
    ["request", "answer", "99", "--type", "disclosed"], ["request", "extend", "99", "--approver", "x", "--reason", "y"],
    ["request", "pause", "99", "--party", "第三方", "--reason", "y"], ["request", "resume", "99"],
    ["request", "correct", "99", "--notified", "2026-03-10"], ["request", "correct", "99"],
    ["request", "deadline", "--received", "9999-12-31", "--days", "200"], ["request", "deadline", "--received", "0001-01-01"],
    ["request", "deadline", "--received", "2026-02-30"], ["request", "deadline", "--received", "2026-03-10", "--days", HUGE],
    ["request", "add", "--received", "0001-01-01", "--channel", "当面"], ["request", "add", "--received", "9999-12-31", "--channel", "当面"],
]


@pytest.mark.parametrize("args", SLIPS, ids=[" ".join(a)[:60] for a in SLIPS])
def test_a_slip_gets_one_clear_line(cfg, freezer, args):
    """A slip on a request command is one clear error line and a non-zero exit, never a traceback."""
    freezer.move_to("2026-03-10 02:00:00")
    r = CliRunner().invoke(main, [*args, "-c", str(cfg.path)])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code != 0 and "Traceback" not in r.output
