"""`responder classify`: human output, --json, streaming --jsonl with error lines, data-file errors."""

import json

import pytest
from click.testing import CliRunner

from responder.classify.route import RoutingError, load_routing
from responder.classify.grade import load_thresholds
from responder.cli.classify_cmd import classify
from responder.data import load_domains
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / "config"


def test_human_output_lists_level_clock_department_and_reasons():
    """The plain output shows level, clock, department, review flag and one reason per line in Chinese."""
    r = CliRunner().invoke(classify, ["某镇一客车与货车相撞致12人死亡"])
    assert r.exit_code == 0, r.output
    assert "等级：II级（重大）" in r.output and "（5h）" in r.output and "牵头部门：县应急管理局" in r.output
    assert "死亡12人 ≥ 10" in r.output


def test_json_output_is_one_object():
    """--json prints a single JSON object with the --jsonl fields plus facts."""
    r = CliRunner().invoke(classify, ["--json", "某校29名学生食物中毒"])
    assert r.exit_code == 0, r.output
    obj = json.loads(r.output)
    assert obj["level"] == "IV" and obj["clock"] == "48h" and obj["facts"]["poisoned"] == [29, 29]


def test_jsonl_writes_one_line_per_input_and_survives_bad_lines():
    """Each input line gives one output line; invalid lines give {"id", "error"} and processing continues."""
    lines = [
        json.dumps({"id": 1, "title": "某厂发生爆炸 11人死亡", "text": ""}, ensure_ascii=False),
        "this is not json",
        json.dumps({"id": "b", "title": 5}),
        json.dumps([1, 2]),
        json.dumps({"id": 3, "title": "", "text": ""}),
        json.dumps({"id": 4, "title": "低保申请迟迟没有结果", "text": ""}, ensure_ascii=False),
    ]
    r = CliRunner().invoke(classify, ["--jsonl"], input="\n".join(lines) + "\n")
    assert r.exit_code == 0, r.output
    out = [json.loads(x) for x in r.output.splitlines()]
    assert len(out) == 6
    assert out[0]["id"] == 1 and out[0]["clock"] == "5h" and out[0]["level"] == "II"
    assert out[1] == {"id": None, "error": out[1]["error"]} and out[1]["error"]
    assert out[2]["id"] == "b" and "error" in out[2]
    assert out[3]["id"] is None and "error" in out[3]
    assert out[4]["id"] == 3 and "error" in out[4]
    assert out[5]["id"] == 4 and out[5]["level"] is None and out[5]["department"] == "县民政局"


def test_no_text_is_a_usage_error():
    """Without TEXT or --jsonl the command exits non-zero with a message, not a traceback."""
    r = CliRunner().invoke(classify, [])
    assert r.exit_code != 0 and "classify" in r.output


def test_routing_naming_an_unknown_department_is_rejected(tmp_path):
    """A routing file that routes to a department absent from 附件2 raises RoutingError naming file and key."""
    text = (CONFIG / "routing.toml").read_text(encoding="utf-8").replace('"社会安全事件" = "县公安局"', '"社会安全事件" = "县不存在局"')
    p = tmp_path / "routing.toml"
    p.write_text(text, encoding="utf-8")
    th = load_thresholds(CONFIG / "thresholds.toml")
    with pytest.raises(RoutingError) as exc:
        load_routing(p, load_domains(CONFIG / "domains.toml"), set(th.standards))
    assert str(p) in str(exc.value) and "社会安全事件" in str(exc.value) and "县不存在局" in str(exc.value)


def test_routing_kind_with_unknown_standard_is_rejected(tmp_path):
    """A kind that names a standard missing from thresholds.toml is a data error, caught at load."""
    text = (CONFIG / "routing.toml").read_text(encoding="utf-8").replace('standard = "quake_2012"', 'standard = "quake_1900"')
    p = tmp_path / "routing.toml"
    p.write_text(text, encoding="utf-8")
    th = load_thresholds(CONFIG / "thresholds.toml")
    with pytest.raises(RoutingError, match="quake_1900"):
        load_routing(p, load_domains(CONFIG / "domains.toml"), set(th.standards))


def test_routing_departments_are_units():
    """Every department the shipped routing names exists in config/units.toml."""
    from responder.data import load_units

    units = {u.name for u in load_units(CONFIG / "units.toml")}
    th = load_thresholds(CONFIG / "thresholds.toml")
    rt = load_routing(CONFIG / "routing.toml", load_domains(CONFIG / "domains.toml"), set(th.standards))
    named = set(rt.category_owner.values()) | {k.department for k in rt.kinds} | {d for k in rt.kinds for d in k.co_departments}
    assert named <= units


def test_routing_kind_with_a_bad_pattern_is_rejected(tmp_path):
    """A kind's `patterns` entry that is not a regular expression is a data error naming the kind."""
    text = (CONFIG / "routing.toml").read_text(encoding="utf-8").replace('patterns = ["(?:食用', 'patterns = ["((?:食用', 1)
    p = tmp_path / "routing.toml"
    p.write_text(text, encoding="utf-8")
    th = load_thresholds(CONFIG / "thresholds.toml")
    with pytest.raises(RoutingError, match=r"food_poisoning.*patterns"):
        load_routing(p, load_domains(CONFIG / "domains.toml"), set(th.standards))
