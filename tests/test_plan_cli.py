"""``responder plan done|status|experience|schedule`` end to end on a real SQLite file, with frozen time."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from responder.cli import main
from responder.db import make_engine
from responder.models import AuditEvent, PlanCompletion
from responder.testing.engine import make_test_settings


@pytest.fixture
def cfg(tmp_path, sqlite_template):
    s = make_test_settings(tmp_path)
    (tmp_path / "state").mkdir(exist_ok=True)
    shutil.copyfile(sqlite_template, tmp_path / "state" / "responder.db")
    return s


def run(cfg, *args):
    return CliRunner().invoke(main, ["plan", *args, "-c", str(cfg.path)])


def test_done_by_chinese_name_then_status_json(cfg, freezer):
    """`plan done 仁里镇 23 --evidence URL` records and audits; `plan status --unit renli --json` shows it done."""
    freezer.move_to("2022-07-15T02:00:00Z")
    r = run(cfg, "done", "仁里镇", "23", "--evidence", "https://www.shitai.gov.cn/renli/23", "--note", "台账已建立")
    assert r.exit_code == 0, r.output
    assert "已记录：仁里镇（renli）第23项 完成于 2022-07-15 10:00" in r.output
    r = run(cfg, "status", "--unit", "renli", "--phase", "implement", "--json")
    assert r.exit_code == 0, r.output
    m = json.loads(r.output)
    assert m["rows"][0]["cells"]["23"] == "done" and m["rows"][0]["cells"]["22"] == "due"
    eng = make_engine(cfg.database_url)
    with Session(eng) as s:
        assert s.exec(select(PlanCompletion)).one().note == "台账已建立"
        assert [e.kind for e in s.exec(select(AuditEvent)).all()] == ["plan.done"]
    eng.dispose()


def test_status_text_matrix_and_experience(cfg, freezer):
    """The text matrix marks done ✓ and overdue ! per unit; `plan experience` records the featured experience."""
    freezer.move_to("2022-07-12T02:00:00Z")
    assert run(cfg, "done", "qidu", "work_plan").exit_code == 0
    r = run(cfg, "experience", "七都镇", "--title", "七都镇政务公开经验", "--url", "https://www.shitai.gov.cn/qidu/e1")
    assert r.exit_code == 0 and "工作经验《七都镇政务公开经验》" in r.output
    freezer.move_to("2022-07-25T02:00:00Z")
    r = run(cfg, "status", "--phase", "deploy")
    assert r.exit_code == 0, r.output
    lines = {ln.split()[0]: ln for ln in r.output.splitlines() if ln.strip()}
    assert "✓" in lines["七都镇"] and "!" in lines["仁里镇"]


def test_schedule_command_is_idempotent(cfg, freezer):
    """`plan schedule` creates the clocks once, then reports none new."""
    freezer.move_to("2022-07-01T00:00:00Z")
    first = json.loads(run(cfg, "schedule", "--json").output)
    again = json.loads(run(cfg, "schedule", "--json").output)
    assert first == {"plan": "2022", "created": 93} and again["created"] == 0


@pytest.mark.parametrize("args,expect", [
    (["done", "nosuch", "1"], "'nosuch' is not accountable"),
    (["done", "renli", "99"], "'99' is neither a requirement number"),
    (["status", "--unit", "nosuch"], "'nosuch' is not in plan 2022"),
    (["experience", "renli", "--title", "t", "--url", "x"], "--url 'x' is not an http"),
])
def test_bad_input_is_one_clear_line(cfg, freezer, args, expect):
    """Bad units, numbers and URLs exit 2 with one error line, never a traceback."""
    freezer.move_to("2022-07-15T02:00:00Z")
    r = run(cfg, *args)
    assert r.exit_code == 2 and expect in r.output and "Traceback" not in r.output
