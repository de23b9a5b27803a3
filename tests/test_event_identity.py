"""What identifies an event (issue 14): the specific place, the kind, the facts, the day — not generic words.

All texts are written for these tests (fictional events in 石台县's real townships).
"""

from __future__ import annotations

import datetime as dt

import pytest

from responder.engine import event_identity as ei
from responder.engine import places as pl
from responder.engine import matching

BJ = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=BJ)
H = dt.timedelta(hours=1)

CAR_A = ("6月1日上午8时许，石台县七都镇河口村路段一辆货车侧翻，造成2人死亡、3人受伤，伤者被送往石台县人民医院救治。")
CAR_B = ("6月1日上午8时许，石台县丁香镇光明村路段一辆面包车与一辆轿车相撞，造成1人死亡，伤者已送石台县人民医院抢救。")
SCHOOL_A = "6月1日中午，石台县横渡镇兰关小学多名小学生午餐后出现呕吐、腹泻症状，共23人，已送县人民医院。"
SCHOOL_B = "6月1日中午，石台县大演乡剡溪小学多名小学生在食堂用餐后呕吐腹泻，共11人，已送县人民医院观察。"


def ident(text: str, kind: str | None, at: dt.datetime = T0, **facts) -> ei.Identity:
    return ei.identity(text, kind, {k: [v, v] for k, v in facts.items()}, at)


def test_a_hospital_where_victims_were_taken_is_not_the_place_of_the_event():
    """石台县人民医院 in two accident reports is where victims went: it never counts as a shared place."""
    a, b = pl.places(CAR_A), pl.places(CAR_B)
    assert "河口村" in a.fine and "七都镇" in a.town
    assert not any("医院" in p for p in a.all() | b.all() | a.site | b.site)
    assert not (a.all() & b.all())
    ev = ei.compare(ident(CAR_B, "traffic", deaths=1), 1, ident(CAR_A, "traffic", deaths=2))
    assert not ev.same_event and ev.conflict  # 河口村 / 光明村


def test_generic_school_words_and_many_pupils_are_not_a_place():
    """多名小学生 does not yield the 'place' 多名小学, and 县人民医院 / 中心小学 are generic words."""
    for text in (SCHOOL_A, SCHOOL_B, "仁里镇中心小学学生家长反映收费问题"):
        found = pl.places(text)
        assert not any(p.startswith("多名") or p in ("中心小学", "人民医院", "县人民医院") for p in found.all() | found.site)
    a = ident(SCHOOL_A, "food_poisoning", poisoned=23)
    b = ident(SCHOOL_B, "food_poisoning", poisoned=11)
    assert ei.compare(b, 1, a).conflict is not None  # 兰关小学 / 剡溪小学, 横渡镇 / 大演乡


def test_gazetteer_names_count_and_the_county_itself_never_does():
    """A listed village says its township; 石台县 and 池州市 are in every local text and are no evidence."""
    p = pl.places("池州市石台县仙寓镇大山村一茶厂起火")
    assert "大山村" in p.fine and "仙寓镇" in p.town
    assert not ({"石台县", "池州市"} & p.all())
    assert "仙寓镇" in pl.places("大山村村民反映道路破损").town


def test_independent_reports_of_one_event_are_the_same_event_and_a_same_day_distractor_is_not():
    """Different wording, same village, kind and toll → same event; the same kind in another village that day → not."""
    agency = ident("石台县仁里镇贡溪村一木材加工厂发生火灾，造成2人死亡、4人受伤。", "fire", deaths=2, injuries=4)
    wechat = ident("今天上午，贡溪村一家木材加工厂着火了，据了解两人遇难，四人受伤。", "fire", T0 + 2 * H, deaths=2, injuries=4)
    other = ident("今天下午，仁里镇桃坑村一民房起火，所幸无人员伤亡。", "fire", T0 + 4 * H)
    town_only = ident("刚刚路过仁里镇，听说一家木材加工厂着火了，造成2人死亡，4人受伤。", "fire", T0 + H, deaths=2, injuries=4)
    cases = {1: agency}
    assert ei.decide_join(wechat, cases).case_id == 1
    assert ei.decide_join(town_only, cases).case_id == 1  # township + the same toll, within hours
    assert ei.decide_join(other, cases).case_id is None  # 桃坑村 ≠ 贡溪村
    assert ei.decide_join(ident("贡溪村一民房起火", None), cases).case_id is None  # no kind: never by identity


def test_a_township_alone_is_ambiguous_between_two_cases_and_joins_neither():
    """Two fires in one township that day: a report naming only the township is left alone (no wrong merge)."""
    a = ident("仁里镇贡溪村一茶厂起火，造成2人死亡", "fire", deaths=2)
    b = ident("仁里镇桃坑村一茶厂起火，造成2人死亡", "fire", T0 + H, deaths=2)
    verdict = ei.decide_join(ident("仁里镇一茶厂起火，2人死亡", "fire", T0 + 2 * H, deaths=2), {1: a, 2: b})
    assert verdict.case_id is None and "都可能是同一事件" in verdict.reasons[0]


def test_different_magnitudes_or_days_are_different_events():
    """A 7.6 aftershock is not the 8.2 quake; an event of the 2nd is not the event of the 1st in the same village."""
    main = ident("智利北部发生8.2级地震", "earthquake", magnitude=8.2)
    after = ident("智利北部再发7.6级余震", "earthquake", T0 + 20 * H, magnitude=7.6)
    assert ei.compare(after, 1, main).conflict.startswith("震级不同")
    felt_a = ident("四川汶川发生7.8级地震，成都震感强烈", "earthquake", magnitude=7.8)
    felt_b = ident("银川市民感到明显震动，据测定为7.8级地震", "earthquake", T0 + 2 * H, magnitude=7.8)
    assert ei.compare(felt_b, 1, felt_a).same_event  # one quake felt in two cities
    day1 = ident("6月1日上午，七都镇河口村一民房起火，造成2人死亡", "fire", deaths=2)
    day2 = ident("6月2日上午，七都镇河口村一民房起火，造成2人死亡", "fire", T0 + 22 * H, deaths=2)
    assert ei.compare(day2, 1, day1).conflict.startswith("发生日期不同")


def test_attack_vocabulary_is_an_event_word():
    """暴恐/袭击 are event words (the old matcher scored an attack release 0.10 for lack of them)."""
    assert {"暴恐", "袭击"} <= matching.events("关于县城暴恐袭击事件的情况通报")


def test_release_ranks_its_own_case_first_and_attaches_only_when_no_rival_comes_close():
    """Kind, village and toll put the release's own case first; a second case in the same village and kind blocks attachment."""
    rel = ident("关于七都镇河口村火灾的情况通报：6月1日上午，七都镇河口村一民房发生火灾，造成2人死亡。", "fire",
                T0 + 3 * H, deaths=2)
    cases = {
        1: ident("丁香镇光明村一民房起火", "fire"),
        2: ident("七都镇一男子持刀行凶 致2人死亡", "terror", deaths=2),
        3: ident("石台县七都镇河口村民房火灾 造成2人死亡", "fire", T0 + H, deaths=2),
        4: ident("仁里镇贡溪村山体滑坡", "disaster"),
    }
    d = ei.decide_release(rel, cases, {1: 0.9, 2: 0.5, 3: 0.4, 4: 0.1})
    assert d.action == "attach" and d.best.case_id == 3
    assert "具体地点相同：河口村" in d.best.reasons
    cases[5] = ident("七都镇河口村又一处民房起火", "fire", T0 + 2 * H)
    assert ei.decide_release(rel, cases, {}).action == "propose"


def test_an_orphan_release_is_never_attached():
    """A release about an event nobody reported: same kind and township as an open case but another village → not attached."""
    rel = ident("关于横渡镇香口村山体滑坡的情况通报：6月1日，横渡镇香口村发生山体滑坡，未造成人员伤亡。", "disaster", T0 + 2 * H)
    cases = {1: ident("横渡镇兰关村山体滑坡，2人受伤", "disaster", injuries=2),
             2: ident("横渡镇一货车侧翻", "traffic")}
    assert ei.decide_release(rel, cases, {1: 1.0, 2: 0.5}).action != "attach"


@pytest.mark.parametrize("bad, message", [
    ('[county]\nnames = ["石台县"]\n', "at least one township"),
    ('[county]\nnames = ["石台县"]\n[[township]]\nname = "仁里镇"\nvillages = ["仁里镇"]\n', "listed twice"),
    ('[county]\nnames = ["石台县"]\n[[township]]\nname = "仁里镇"\nvillages = ["村"]\n', "at least 2 characters"),
])
def test_a_bad_gazetteer_is_refused_with_the_key(tmp_path, bad, message):
    """check-config's gazetteer check names what is wrong."""
    p = tmp_path / "gazetteer.toml"
    p.write_text(bad, encoding="utf-8")
    with pytest.raises(pl.GazetteerError, match=message):
        pl.load_gazetteer(p)


def test_the_shipped_gazetteer_lists_the_eight_townships():
    """config/gazetteer.toml has 石台县's 6 镇 and 2 乡 (the units of config/units.toml)."""
    g = pl.shipped_gazetteer()
    assert g.towns == {"仁里镇", "七都镇", "丁香镇", "小河镇", "横渡镇", "仙寓镇", "大演乡", "矶滩乡"}


# ------------------------------------------------------------------ quakes felt far away, named attacks

QUAKE = "6月1日14时28分，云岭县发生7.2级地震，震源深度10千米，震中附近房屋倒塌，伤亡情况正在统计。"
FELT_HERE = ("今天14时33分左右，石台县城不少居民感到明显震感，吊灯来回摇晃，许多人跑到楼下空地。"
             "有关震级和震中的信息，记者正在向地震部门核实。")
FELT_LATER = "6月1日17时50分左右，仁里镇部分居民感到轻微震感，持续数秒，暂无损失报告。"


def test_a_quake_felt_far_away_at_its_minute_is_that_quake():
    """A felt report giving neither magnitude nor epicentre joins the quake case by the time it was felt (same day)."""
    quake = ident(QUAKE, "earthquake", magnitude=7.2)
    felt = ident(FELT_HERE, "earthquake", T0 + 5 * H)
    assert felt.magnitude is None and not felt.places.wide and felt.clock == {14 * 60 + 33}
    ev = ei.compare(felt, 1, quake)
    assert ev.same_clock and ev.same_event
    assert ei.decide_join(felt, {1: quake}).case_id == 1
    assert "同日同一时刻有震感（相差不超过10分钟）" in ei.decide_join(felt, {1: quake}).reasons


def test_a_quake_felt_hours_later_or_another_day_or_two_quakes_at_that_minute_join_nothing():
    """Another felt time, another day, or two quakes within the minutes: the felt report stays alone."""
    quake = ident(QUAKE, "earthquake", magnitude=7.2)
    assert ei.decide_join(ident(FELT_LATER, "earthquake", T0 + 8 * H), {1: quake}).case_id is None
    next_day = ident("6月2日14时30分，石台县城居民感到明显震感。", "earthquake", T0 + 29 * H)
    assert not ei.compare(next_day, 1, quake).same_event
    other = ident("6月1日14时36分，青川县发生5.6级地震。", "earthquake", T0 + 5 * H, magnitude=5.6)
    verdict = ei.decide_join(ident(FELT_HERE, "earthquake", T0 + 6 * H), {1: quake, 2: other})
    assert verdict.case_id is None and "都可能是同一事件" in verdict.reasons[0]


def test_the_time_of_day_is_evidence_only_for_quakes():
    """Two fires reported at 14时30分 in different places share no identity by their time."""
    a = ident("6月1日14时30分，七都镇一民房起火。", "fire")
    b = ident("6月1日14时30分，丁香镇一仓库起火。", "fire", T0 + H)
    assert a.clock == frozenset() and not ei.compare(b, 1, a).same_event


def test_quake_agency_and_list_words_are_not_places():
    """国家地震局, 省地震局, 地震部门, 等省市, 主要街道 and 后坪等乡 name no place (they would join any two quakes)."""
    p = pl.places("国家地震局、四川省地震局和中国地震台网通报，波及陕西等省市，成都主要街道未见倒塌，后坪等乡有震感，"
                  "市民向地震部门咨询地震情况。")
    assert not ({"国家", "中国", "川省", "等省", "咨询", "主要街道", "后坪等乡", "主要街"} & (p.all() | p.site)), p


ATTACK = "江城火车站暴力恐怖袭击事件：6月1日21时许，江城市火车站广场发生暴力恐怖袭击，造成5人死亡、20余人受伤。"
ATTACK_RELIEF = "1日21时许发生的江城暴力恐怖袭击事件中受伤的群众，目前已全部得到救治，省里派出的专家组已抵达江城。"
ATTACK_ELSEWHERE = "河州暴力恐怖袭击事件：6月2日上午，河州市一商场发生持刀行凶，造成3人死亡。"
VIGIL = "6月4日晚，江城市民自发来到火车站广场，为江城暴力恐怖袭击事件遇难者献花悼念。"


def test_a_named_attack_joins_its_later_reports_for_days_and_another_city_never():
    """江城暴力恐怖袭击事件 a day later (relief, no place or toll) joins; 河州's attack does not."""
    attack = ident(ATTACK, "terror", deaths=5)
    assert attack.named == {"江城"}
    relief = ident(ATTACK_RELIEF, "terror", T0 + 30 * H)
    assert ei.decide_join(relief, {1: attack}).case_id == 1
    assert ei.decide_join(ident(ATTACK_ELSEWHERE, "terror", T0 + 26 * H, deaths=3), {1: attack}).case_id is None
    assert ei.decide_join(ident(ATTACK_RELIEF, "terror", T0 + 80 * H), {1: attack}).case_id is None  # past 72 hours
    assert ident("江城火车站暴力恐怖袭击事件", "fire").named == frozenset()  # only for an attack


def test_words_before_an_attack_that_are_no_place_name_no_event():
    """连环爆炸案 in two countries, 集市暴恐袭击 in two townships: the words are no city, and join nothing."""
    a = ident("6月1日，某国首都发生连环爆炸案，造成12人死亡。", "terror", deaths=12)
    b = ident("6月1日，另一国南部发生连环爆炸案，造成3人死亡。", "terror", T0 + 3 * H, deaths=3)
    assert a.named == b.named == frozenset() and not ei.compare(b, 1, a).same_event
    assert ident("仁里镇集市暴恐袭击事件，2人受伤", "terror").named == frozenset()


def test_a_named_event_dated_days_later_is_proposed_never_joined_or_attached():
    """A vigil on the 4th names the attack of the 1st: a release saying so is proposed for a person to confirm."""
    attack = ident(ATTACK, "terror", deaths=5)
    vigil = ident(VIGIL, "terror", T0 + 80 * H)
    ev = ei.compare(vigil, 1, attack, window_after=ei.RELEASE_WINDOW_AFTER)
    assert ev.conflict is None and ev.day_note and not ev.same_event
    d = ei.decide_release(vigil, {1: attack, 2: ident(ATTACK_ELSEWHERE, "terror", T0 + 26 * H, deaths=3)}, {})
    assert d.action == "propose" and d.best.case_id == 1
