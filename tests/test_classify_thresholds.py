"""Every threshold of config/thresholds.toml, at, below and above its boundary, per category."""

from pathlib import Path

import pytest

from responder.classify import load_default
from responder.classify.grade import ThresholdError, grade, load_thresholds

REPO = Path(__file__).resolve().parent.parent
TH = REPO / "config" / "thresholds.toml"


@pytest.fixture(scope="module")
def clf():
    return load_default()


def _rules():
    th = load_thresholds(TH)
    for std in th.standards.values():
        for i, r in enumerate(std.rules):
            yield pytest.param(std, r, id=f"{std.id}-{i}-{r.level}-{r.metric}")


@pytest.mark.parametrize("std,rule", list(_rules()))
def test_each_rule_holds_at_its_bound_and_not_just_below(std, rule):
    """以上 includes the number, 超过 excludes it: a rule fires at (or just over) its bound, not below."""
    values = {m: b for m, b in rule.also}
    step = 0.1 if rule.metric == "magnitude" else 1
    at = rule.bound if rule.inclusive else rule.bound + step
    below = at - step
    above = at + step
    strict = rule.strict
    for v, fires in ((below, False), (at, True), (above, True)):
        hits = grade(std, {**values, rule.metric: round(v, 3)}, strict=strict)
        assert (rule in [h.rule for h in hits]) is fires, (v, rule)


# Fixture sentences written for these tests (not from any corpus): (title, expected level, clock).
CASES = [
    # 生产安全 / 道路交通 (493号): deaths 3 / 10 / 30
    ("某镇一客车与货车相撞致2人死亡", "IV", "48h"),
    ("某镇一客车与货车相撞致3人死亡", "III", "48h"),
    ("某镇一客车与货车相撞致4人死亡", "III", "48h"),
    ("某镇一客车与货车相撞致9人死亡", "III", "48h"),
    ("某镇一客车与货车相撞致10人死亡", "II", "5h"),
    ("某镇一客车与货车相撞致11人死亡", "II", "5h"),
    ("某镇一客车与货车相撞致29人死亡", "II", "5h"),
    ("某镇一客车与货车相撞致30人死亡", "I", "5h"),
    ("某镇一客车与货车相撞致31人死亡", "I", "5h"),
    ("某厂房发生坍塌事故，49人重伤", "III", "48h"),
    ("某厂房发生坍塌事故，50人重伤", "II", "5h"),
    ("某厂房发生坍塌事故，100人重伤", "I", "5h"),
    ("某厂发生爆炸，直接经济损失4999万元", "III", "48h"),
    ("某厂发生爆炸，直接经济损失5000万元", "II", "5h"),
    ("某厂发生爆炸，直接经济损失1亿元", "I", "5h"),
    # 火灾 (公安部 2007)
    ("某小区发生火灾，造成2人死亡", "IV", "48h"),
    ("某小区发生火灾，造成3人死亡", "III", "48h"),
    ("某小区发生火灾，造成十人死亡", "II", "5h"),
    ("某仓库起火，直接财产损失999万元", "IV", "48h"),
    ("某仓库起火，直接财产损失1000万元", "III", "48h"),
    # 地震 (2012): deaths incl. missing 10 / 50 / 300; magnitude 初判
    ("某县发生地震，造成9人死亡", "IV", "48h"),
    ("某县发生地震，造成10人死亡", "III", "48h"),
    ("某县发生地震，造成49人死亡", "III", "48h"),
    ("某县发生地震，造成40人死亡、10人失踪", "II", "5h"),
    ("某县发生地震，造成300人死亡", "I", "5h"),
    ("某县发生3.9级地震", "IV", "48h"),
    ("某县发生4.0级地震", "IV", "48h"),
    ("某县发生5.9级地震", "III", "5h"),   # 人口密集 reading → 重大: stricter clock, review
    ("某县发生6.0级地震", "II", "5h"),
    ("某县发生六点九级地震", "II", "5h"),
    ("某县发生7.0级地震", "I", "5h"),
    # 食物中毒 (2006/2011): 30 poisoned; 100; any death; >100 with a death; 10 deaths
    ("某校29名学生食物中毒", "IV", "48h"),
    ("某校30名学生食物中毒", "IV", "48h"),
    ("某校99名学生食物中毒", "IV", "48h"),
    ("某校100名学生食物中毒", "III", "48h"),
    ("某村婚宴食物中毒，1人死亡", "III", "48h"),
    ("某村婚宴101人食物中毒，1人死亡", "II", "5h"),
    ("某村婚宴100人食物中毒，1人死亡", "III", "48h"),
    ("某村婚宴食物中毒，10人死亡", "II", "5h"),
    # 突发环境事件 (2014)
    ("某化工厂泄漏污染河道，疏散转移9999人", "III", "48h"),
    ("某化工厂泄漏污染河道，疏散转移1万人", "II", "5h"),
    ("某化工厂排污致49人中毒", "III", "48h"),
    ("某化工厂排污致50人中毒", "II", "5h"),
    # 社会安全 (2006 试行)
    ("某地发生持刀伤人事件，3人死亡", "II", "5h"),
    ("某地发生持刀伤人事件，造成9人受伤", "IV", "48h"),
    ("某地发生持刀伤人事件，造成10人受伤", "II", "5h"),
    ("某地发生持刀伤人事件，造成30人受伤", "I", "5h"),
    # 自然灾害 (救助预案): county-scale conservative reading at 10 deaths incl. missing
    ("某县遭遇暴雨山洪，5人死亡", "IV", "48h"),
    ("某县遭遇暴雨山洪，6人死亡、4人失踪", "IV", "5h"),
    ("某县遭遇暴雨山洪，100人死亡", "II", "5h"),
]


@pytest.mark.parametrize("title,level,clock", CASES)
def test_levels_and_clocks_across_categories(clf, title, level, clock):
    """Each category's thresholds give the statutory level and the right clock at and around the boundary."""
    d = clf.classify(title)
    assert (d.level, d.clock) == (level, clock), d.reasons


def test_social_security_below_major_keeps_the_48h_clock(clf):
    """A 社会安全 event with 2 deaths is below 重大 (2006 standard) and, not being an escalating type, stays 48h."""
    d = clf.classify("某地发生持刀伤人事件，2人死亡")
    assert d.level == "IV" and d.clock == "48h" and d.category == "社会安全事件"


def test_reason_cites_the_rule_and_the_level(clf):
    """The deciding reason states the figure, the bound, the document and the level name in Chinese."""
    d = clf.classify("某镇一客车与货车相撞致12人死亡")
    assert any(r.startswith("死亡12人 ≥ 10（《生产安全事故报告和调查处理条例》") and r.endswith("重大）") for r in d.reasons)


def test_bad_threshold_file_names_the_file_and_key(tmp_path):
    """An unknown level in the thresholds data raises ThresholdError naming the file and the rule."""
    data = TH.read_text(encoding="utf-8").replace('{ level = "I",   metric = "deaths",           min = 30,        cite = "第三条第一款第（一）项" }',
                                                  '{ level = "V", metric = "deaths", min = 30, cite = "x" }', 1)
    bad = tmp_path / "thresholds.toml"
    bad.write_text(data, encoding="utf-8")
    with pytest.raises(ThresholdError) as exc:
        load_thresholds(bad)
    assert str(bad) in str(exc.value) and "standard.safety_493.rule[0]" in str(exc.value) and "level" in str(exc.value)


def test_missing_or_unparsable_threshold_file_is_a_data_error(tmp_path):
    """A missing file or broken TOML raises a DataError with the path, not a traceback from tomllib."""
    with pytest.raises(ThresholdError, match="file not found"):
        load_thresholds(tmp_path / "nope.toml")
    broken = tmp_path / "t.toml"
    broken.write_text("[standard\n", encoding="utf-8")
    with pytest.raises(ThresholdError, match="not valid TOML"):
        load_thresholds(broken)


def test_rule_with_both_min_and_over_is_rejected(tmp_path):
    """A rule must say either 以上 (min) or 超过 (over), not both."""
    p = tmp_path / "t.toml"
    p.write_text('[metrics]\ndeaths={label="死亡",unit="人"}\n[standard.x]\nname="x"\n'
                 'rule=[{level="I",metric="deaths",min=1,over=1,cite="c"}]\n', encoding="utf-8")
    with pytest.raises(ThresholdError, match="exactly one of"):
        load_thresholds(p)


def test_bad_count_as_and_density_pattern_are_rejected(tmp_path):
    """count_as must name known metrics; strict_stated_when must be a valid regular expression."""
    base = '[metrics]\ndeaths={label="死亡",unit="人"}\n[standard.x]\nname="x"\nrule=[{level="I",metric="deaths",min=1,cite="c"}]\n'
    p = tmp_path / "t.toml"
    p.write_text(base + 'count_as=[{metric="poisoned",as="deaths",cite="c"}]\n', encoding="utf-8")
    with pytest.raises(ThresholdError, match=r"standard\.x\.count_as\[0\]"):
        load_thresholds(p)
    p.write_text(base + 'strict_stated_when="人口(密集"\n', encoding="utf-8")
    with pytest.raises(ThresholdError, match="strict_stated_when"):
        load_thresholds(p)
