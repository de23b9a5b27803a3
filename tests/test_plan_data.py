"""The shipped 2022 plan matches the seed; bad plan files fail with file, key and problem named."""

from __future__ import annotations

from pathlib import Path

import pytest

from responder.config import shipped_config_dir
from responder.data import load_domains, load_units
from responder.plan import PlanError, load_plan
from responder.plan.model import reminder_times
from responder.service.checks import check_plan

CONFIG = shipped_config_dir()
SAMPLE = Path(__file__).parent / "data" / "plan_2023_sample.toml"


@pytest.fixture(scope="module")
def units():
    return load_units(CONFIG / "units.toml")


@pytest.fixture(scope="module")
def plan(units):
    return load_plan(CONFIG / "plan.toml", units)


def test_shipped_plan_counts_match_the_seed(plan):
    """附件1: 8 areas, 21 tasks, 41 numbered requirements numbered 1…41 in order."""
    assert len(plan.areas) == 8
    assert [a[0] for a in plan.areas] == ["一", "二", "三", "四", "五", "六", "七", "八"]
    assert len(plan.tasks) == 21
    assert [r.no for r in plan.requirements] == [str(n) for n in range(1, 42)]


def test_requirement_21_is_one_number_with_two_lines(plan):
    """Row 21 holds two requirement lines under one number (online channel and one-stop window)."""
    r21 = plan.item("21")
    req = next(r for r in plan.requirements if r.no == "21")
    assert len(req.lines) == 2
    assert req.lines[0] == "做好线上政策咨询渠道建设。"
    assert req.lines[1].startswith("设立政策咨询综合服务窗口") and "“一站式”" in req.lines[1]
    assert r21 is not None and "线上政策咨询" in r21.text and "综合服务窗口" in r21.text
    assert sum(len(r.lines) for r in plan.requirements) == 42


def test_shipped_plan_wording_spot_checks(plan):
    """Wording is transcribed from the seed: areas, tasks and requirement texts."""
    by_no = {r.no: r for r in plan.requirements}
    assert by_no["1"].text == "建立推进基层政务公开标准化规范化的工作机制。"
    assert by_no["12"].task == "依申请公开" and by_no["12"].area == "条例贯彻"
    assert by_no["23"].text == "对于涉及特别重大、重大突发事件的舆情，5小时内发布权威信息；其他舆情48小时内予以回应。"
    assert by_no["23"].task == "回应关切" and by_no["23"].area_no == "四"
    assert by_no["24"].text.endswith("提供 WORD 和 PDF 两种版本，方便人民群众查阅下载。")
    assert by_no["41"].task == "经验交流" and by_no["41"].area == "开拓创新"
    assert [t[2] for t in plan.tasks][:3] == ["组织领导", "工作推进", "队伍建设"]
    assert by_no["13"].task == "政府信息公开工作年度报告编制和发布"


def test_shipped_plan_phases_follow_the_seed(plan):
    """三、实施步骤: deployment ends with 7月中旬 (07-20), implementation Jul–Oct, rectification Nov–Dec."""
    d, i, r = plan.phases
    assert (d.id, d.name, d.start.isoformat(), d.end.isoformat()) == ("deploy", "工作部署阶段", "2022-07-11", "2022-07-20")
    assert (i.name, i.start.isoformat(), i.end.isoformat()) == ("全面实施阶段", "2022-07-01", "2022-10-31")
    assert (r.name, r.start.isoformat(), r.end.isoformat()) == ("整改提升阶段", "2022-11-01", "2022-12-31")
    assert d.requires == ("work_plan",)
    assert set(i.requires) | set(r.requires) >= {str(n) for n in range(1, 42)}
    assert "experience" in r.requires


def test_every_township_and_every_annex2_department_is_accountable(plan, units):
    """四、（四）: each township and each department named in 附件2 is a plan unit; the office is not."""
    domains = load_domains(CONFIG / "domains.toml")
    names = {u.name for u in plan.units}
    assert {d for dom in domains for d in dom.departments} <= names
    assert {u.name for u in units if u.kind == "township"} <= names
    assert "县政务公开办" not in names
    assert len(plan.units) == 30


def test_phase_end_is_24_00_beijing(plan):
    """A phase ending 2022-07-20 ends at 24:00 Beijing, i.e. 16:00 UTC that day."""
    assert plan.phase("deploy").end_at.isoformat() == "2022-07-20T16:00:00+00:00"


def test_reminders_before_the_phase_start_are_dropped(plan):
    """The ten-day deployment phase gets its 7/3/1-day reminders at 09:00 Beijing, not the 14-day one."""
    times = reminder_times(plan.phase("deploy"), plan.reminders)
    assert [(d, t.isoformat()) for d, t in times] == [
        (7, "2022-07-13T01:00:00+00:00"), (3, "2022-07-17T01:00:00+00:00"), (1, "2022-07-19T01:00:00+00:00")]


def test_another_years_plan_loads_without_code_change(units):
    """The 2023 sample: its own ids, phases, reminder time, township-only item and exemption."""
    p = load_plan(SAMPLE, units)
    assert p.id == "2023" and [ph.id for ph in p.phases] == ["plan", "do"]
    assert p.reminders.time.strftime("%H:%M") == "08:30"
    fgw, renli = p.unit("fgw"), p.unit("仁里镇")
    assert [i.no for i in p.owed(fgw, p.phase("do"))] == ["1", "experience"]
    assert [i.no for i in p.owed(renli, p.phase("do"))] == ["1", "2", "3", "experience"]


BAD_CASES = [
    ('units = ["renli", "qidu", "fgw"]', 'units = ["renli", "nosuch"]', "plan.units[1]", "'nosuch' does not exist"),
    ("end = 2023-03-31", 'end = "not-a-date"', "phase[0] (plan).end", "not-a-date"),
    ('requires = [1, 2, 3, "experience"]', 'requires = [1, 2, 99, "experience"]', "phase[1] (do).requires[2]", "'99'"),
    ('time = "08:30"', 'time = "25:00"', "reminders.time", "25:00"),
    ('roles = ["liaison"]', 'roles = ["boss"]', "reminders.roles", "boss"),
    ('applies_to = ["township"]', 'applies_to = ["village"]', "requirement 3.applies_to", "'village'"),
    ("min = 2", "min = 0", "deliverable[1] (experience).min", "≥ 1"),
]


@pytest.mark.parametrize("src,repl,key,expect", BAD_CASES)
def test_bad_plan_names_file_key_and_problem(tmp_path, units, src, repl, key, expect):
    """Each broken value is reported with the file path and its key path, never a traceback."""
    text = SAMPLE.read_text(encoding="utf-8")
    assert src in text
    bad = tmp_path / "plan.toml"
    bad.write_text(text.replace(src, repl, 1), encoding="utf-8")
    with pytest.raises(PlanError) as ei:
        load_plan(bad, units)
    msg = str(ei.value)
    assert str(bad) in msg and key in msg and expect in msg


def test_item_in_two_phases_and_unassigned_item_are_errors(tmp_path, units):
    """Each item has exactly one deadline: listed twice, or never, is refused."""
    text = SAMPLE.read_text(encoding="utf-8")
    twice = tmp_path / "twice.toml"
    twice.write_text(text.replace('requires = ["work_plan"]', 'requires = ["work_plan", 1]'), encoding="utf-8")
    with pytest.raises(PlanError, match="already required by phase 'plan'"):
        load_plan(twice, units)
    never = tmp_path / "never.toml"
    never.write_text(text.replace('requires = [1, 2, 3, "experience"]', 'requires = [1, 2, "experience"]'), encoding="utf-8")
    with pytest.raises(PlanError, match="no phase requires 3"):
        load_plan(never, units)


def test_missing_and_broken_files_are_clear_errors(tmp_path, units):
    """A missing file and invalid TOML each give one line naming the file."""
    with pytest.raises(PlanError, match="plan file not found"):
        load_plan(tmp_path / "nope.toml", units)
    broken = tmp_path / "broken.toml"
    broken.write_text("[plan\n", encoding="utf-8")
    with pytest.raises(PlanError, match="not valid TOML"):
        load_plan(broken, units)


def test_validator_accepts_shipped_and_reports_unknown_unit(tmp_path):
    """check-config's plan validator: shipped config passes; an unknown unit id names data.plan and the key."""
    from responder.testing.engine import make_test_settings

    s = make_test_settings(tmp_path)
    assert check_plan(s) == []
    p = s.data_paths["plan"]
    p.write_text(p.read_text(encoding="utf-8").replace('"renli", "qidu"', '"renli", "qiduu"'), encoding="utf-8")
    problems = check_plan(s)
    assert len(problems) == 1
    assert "data.plan" in problems[0] and "plan.units[23]" in problems[0] and "'qiduu'" in problems[0]
