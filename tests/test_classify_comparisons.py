"""Issue 20, lessons of probe set e: words that do not describe this event must not grade it.

A simile (像地震一样) names something the event was compared with; a quake felt here from far away is
graded by what happened here; a quake remembered from years ago is background. Every text was written
for this file (fictional places and events), not copied from a probe set or the development corpus.
Each rule is tested beside its counterpart that must still start the 5-hour clock.
"""

import pytest

from responder.classify import load_default


@pytest.fixture(scope="module")
def clf():
    return load_default()


def _is_quake(d) -> bool:
    """The first reason names the kind that chose the table: 事件类型：地震，…"""
    return any(r.startswith("事件类型：地震") for r in d.reasons)


# --- a simile does not set the event kind --------------------------------------------------------

def test_a_simile_does_not_make_an_explosion_an_earthquake(clf):
    """493号 第三条 grades a production accident: 10 deaths → 重大 (5 hours). The quake plan would call
    10 deaths 较大 (48 hours): taking the kind from "好像地震一样" loses the 5-hour obligation."""
    d = clf.classify("“好像地震一样” 化工厂仓库爆炸 10人死亡",
                     "村民说当时好像地震一样，门窗都被震开。3日凌晨，青石镇一家化工厂仓库发生爆炸，事故造成10人死亡、5人受伤。")
    assert d.category == "事故灾难" and not _is_quake(d), d.reasons
    assert d.level == "II" and d.clock == "5h", d.reasons


def test_other_comparisons_are_removed_too(clf):
    """仿佛…似的, 如同…一般: the compared thing is never the kind."""
    d = clf.classify("深夜一声巨响 11人遇难", "附近商户称巨响仿佛地震似的，整条街如同发生了地震一般。仓库爆燃造成11人遇难。")
    assert d.category == "事故灾难" and not _is_quake(d), d.reasons
    assert d.clock == "5h"


def test_a_real_quake_is_still_a_quake(clf):
    """Without a comparison the quake words decide as before (6.1级 → 重大 初判)."""
    d = clf.classify("松岭县发生6.1级地震", "5日凌晨松岭县发生6.1级地震，震感强烈，房屋出现裂缝，伤亡情况正在统计。")
    assert _is_quake(d) and d.clock == "5h"


# --- a quake felt far away ----------------------------------------------------------------------

def test_a_distant_quake_with_trivial_local_effects_is_graded_here(clf):
    """Rules: a felt-far-away report is graded by what happened where it was felt. Cups fell, two
    people lightly scraped: not 较大 here, so no 5-hour clock from the epicentre's magnitude."""
    d = clf.classify("邻省5.8级地震 我县震感强烈",
                     "昨夜邻省发生5.8级地震，震中距我县约180公里。我县多地震感强烈，部分居民家中杯碗掉落，"
                     "两名村民下楼时轻微擦伤。经排查，全县房屋未见受损。")
    assert d.clock == "48h", d.reasons
    assert any("轻微影响" in x for x in d.set_aside)


def test_a_distant_quake_with_serious_local_harm_keeps_the_clock(clf):
    """A house collapsed here, or a person trapped: the magnitude stays in play (5 hours)."""
    d = clf.classify("邻省5.8级地震 我县震感强烈",
                     "昨夜邻省发生5.8级地震，震中距我县约180公里。我县一处老旧民房倒塌，1人被困，正在救援。")
    assert d.clock == "5h", d.reasons


def test_unknown_hurt_or_fallen_masonry_from_a_distant_quake_keep_the_clock(clf):
    """"有群众受伤" (how many unknown) and 墙体掉落 (a building's fabric) are not trivial: 5 hours as before."""
    for local in ("我县震感强烈，有群众受伤。", "我县震感强烈，部分老房墙体掉落。"):
        d = clf.classify("邻省地震 我县震感强烈", "昨夜邻省发生6.5级地震，震中距我县约150公里。" + local)
        assert d.clock == "5h", (local, d.reasons)


def test_many_injured_by_a_distant_quake_keep_the_clock(clf):
    """Light-injury words do not shrink a large count: 20 hurt here is not trivial."""
    d = clf.classify("邻省5.8级地震 我县20人受伤",
                     "昨夜邻省发生5.8级地震，震中距我县约180公里。我县20人受伤，其中多人轻微擦伤。")
    assert d.clock == "5h", d.reasons


# --- a quake remembered ---------------------------------------------------------------------------

def test_figures_of_a_quake_years_ago_are_background(clf):
    """The quake plan grades this quake: 2.9级 with no harm is not an emergency. The 7.0级 and 300 dead
    of "二十年前" are another event (rules: background figures are not this event's)."""
    d = clf.classify("石门乡2.9级地震 老人说起二十年前7.0级地震300多人遇难",
                     "8日凌晨石门乡发生2.9级地震。老人们回忆，二十年前那次7.0级地震造成300多人遇难。"
                     "县地震局称，本次地震无人员伤亡和房屋损坏。")
    assert d.clock == "48h", d.reasons
    for cue in ("当年", "历史上", "曾经"):
        d = clf.classify("石门乡2.9级地震", f"8日凌晨石门乡发生2.9级地震，无人员伤亡。{cue}此地7.0级地震造成300多人遇难。")
        assert d.clock == "48h", (cue, d.reasons)


def test_this_quake_beside_a_remembered_one_still_counts(clf):
    """The background cue covers its own clause: this quake's 6.2级 still starts the 5-hour clock."""
    d = clf.classify("石门乡6.2级地震", "8日凌晨石门乡发生6.2级地震，多处房屋倒塌。二十年前此地曾有7.0级地震。")
    assert d.clock == "5h" and _is_quake(d)


# --- epidemic rows counted in cases ---------------------------------------------------------------

def test_plague_and_cholera_case_counts_reach_their_major_rows(clf):
    """rules.md §2.3.6: 肺鼠疫 5 cases in one county within 6 days, 霍乱 30 a week in one 市 → 重大.
    Below those counts the county's 较大/一般 reading stays (5-hour clock kept by the escalation word)."""
    plague = clf.classify("松岭县报告肺鼠疫病例", "松岭县某乡5天内先后报告6例肺鼠疫确诊病例，均在隔离治疗。")
    assert plague.level == "II" and plague.clock == "5h", plague.reasons
    few = clf.classify("松岭县报告肺鼠疫病例", "松岭县某乡报告3例肺鼠疫确诊病例，均在隔离治疗。")
    assert few.level != "II" and few.clock == "5h"
    cholera = clf.classify("河阳市报告霍乱病例", "本周河阳市共报告霍乱确诊病例35例，分布在3个县。")
    assert cholera.level == "II", cholera.reasons
    county = clf.classify("松岭县报告霍乱病例", "本周松岭县报告霍乱确诊病例12例。")
    assert county.level == "III"


# --- a stated leak of a named hazardous substance ------------------------------------------------

def test_a_stated_leak_grades_its_evacuation_by_the_environmental_plan(clf):
    """国办函〔2014〕119号: 疏散、转移人员1万人以上 → 重大, 5000 → 较大. A named substance leaking and people
    moved because of it is that row as written, not only a conservative reading."""
    big = clf.classify("液氨罐车侧翻泄漏 1.1万人疏散", "一辆液氨罐车在公路侧翻后发生泄漏，周边1.1万名群众紧急疏散，未造成人员伤亡。")
    assert big.level == "II" and big.clock == "5h" and big.needs_review, big.reasons
    mid = clf.classify("硫酸储罐泄漏 6000余人转移", "一家企业硫酸储罐发生泄漏，周边6000余名群众已转移，无人员伤亡。")
    assert mid.level == "III" and mid.clock == "48h", mid.reasons
    # A fire with people moved and no release named stays a precaution (the existing rule).
    fire = clf.classify("影城起火 1.4万名观众撤离", "某影城放映厅起火冒烟，约1.4万名观众有序撤离，无人员伤亡。")
    assert fire.clock == "48h"


def test_words_that_only_look_like_a_comparison_keep_the_kind(clf):
    """和…一般 is no simile (定为一般事故), nor is 录像: the explosion named there still sets the kind."""
    d = clf.classify("化肥厂事故通报", "经调查，该起火灾和爆炸事故定为一般事故，事故造成2人死亡。")
    assert d.category == "事故灾难" and d.level == "IV", d.reasons
    d = clf.classify("监控画面曝光", "监控录像显示仓库爆炸瞬间火光冲天，事故造成4人死亡。")
    assert d.category == "事故灾难" and d.level == "III", d.reasons


def test_a_time_word_that_dates_a_thing_is_not_a_remembered_event(clf):
    """493号: 10 deaths → 重大. "3年前建成的大桥", "当年投产的煤矿" describe the thing that failed; a clause
    that also dates this event (昨日) is this event. Those tolls are graded, never set aside."""
    for title, body in (("大桥垮塌", "3年前建成的一座大桥昨日垮塌，造成12人死亡。"),
                        ("煤矿瓦斯爆炸", "这座当年投产的煤矿发生瓦斯爆炸，12人遇难。"),
                        ("隧道塌方", "两年前开工的隧道发生塌方，11名工人遇难。"),
                        ("化工厂爆炸", "曾经多次被查处的化工厂昨日爆炸，10人死亡。")):
        d = clf.classify(title, body)
        assert d.level == "II" and d.clock == "5h" and not d.set_aside, (body, d.reasons, d.set_aside)
