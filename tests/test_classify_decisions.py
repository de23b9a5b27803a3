"""Whole decisions: markers, conservative readings, ordinary opinion, routing, reasons, facts."""

import json

import pytest

from responder.classify import Decision, load_default, parse_level
from responder.classify.extract import extract, prepare


@pytest.fixture(scope="module")
def clf():
    return load_default()


@pytest.mark.parametrize("title,level", [
    ("某县启动Ⅰ级应急响应应对山洪", "I"),
    ("某市启动二级应急响应", "II"),
    ("省政府启动一级预案 救援队已集结", "I"),
    ("该事故已被定性为重大生产安全事故", "II"),
    ("国务院调查组认定该起火灾为特别重大火灾事故", "I"),
])
def test_explicit_level_markers_are_taken_as_stated(clf, title, level):
    """Phrases that state the level (特别重大, Ⅰ级响应, 启动二级应急响应, 定性为重大…事故) set it."""
    d = clf.classify(title)
    assert d.level == level and d.clock == "5h"
    assert any("明确表述" in r for r in d.reasons)


def test_highest_credible_signal_wins(clf):
    """Facts above a stated level win: 35 deaths with a 二级响应 marker is 特别重大."""
    d = clf.classify("某地爆炸事故已致35人死亡，当地启动二级应急响应")
    assert d.level == "I"


def test_journalistic_major_is_not_a_marker(clf):
    """A headline calling a 4-death crash 重大交通事故 (press usage) is graded by the facts: 较大, 48h."""
    d = clf.classify("某高速发生重大交通事故 4人死亡")
    assert d.level == "III" and d.clock == "48h"
    assert any("新闻用语" in r for r in d.reasons)


@pytest.mark.parametrize("value,expected", [
    ("I", "I"), ("Ⅱ", "II"), ("二级", "II"), ("特别重大", "I"), ("较大", "III"), ("4", "IV"), ("Ⅳ级", "IV"),
    ("五级", None), ("", None), (None, None),
])
def test_declared_level_forms(value, expected):
    """Feed level fields in Roman, Chinese and Arabic forms normalise to I..IV; others to None."""
    assert parse_level(value) == expected


def test_declared_level_counts_and_invalid_one_is_ignored_with_a_reason(clf):
    """A declared 重大 raises the level; an unreadable declared level is ignored and flagged for review."""
    assert clf.classify("某地发生火灾", declared_level="Ⅱ").level == "II"
    d = clf.classify("某地发生火灾", declared_level="超级大")
    assert d.level == "IV" and d.needs_review and any("无法识别" in r for r in d.reasons)


@pytest.mark.parametrize("title", ["某矿发生爆炸 数十人死亡", "某地发生爆炸 伤亡惨重", "一客车坠河 多人死亡"])
def test_vague_counts_that_could_reach_major_get_the_stricter_clock(clf, title):
    """数十人死亡, 伤亡惨重, 多人死亡: could reach 重大, so 5h with needs_review."""
    d = clf.classify(title)
    assert d.clock == "5h" and d.needs_review


def test_near_a_hundred_poisoned_stays_below_the_100_line(clf):
    """近百人中毒 is 90–99: 一般, 48h (no number in the reading reaches 100)."""
    d = clf.classify("某校近百名学生食物中毒")
    assert d.level == "IV" and d.clock == "48h"


def test_missing_people_count_with_the_dead_for_the_clock_only(clf):
    """Traffic: 5 dead + 6 missing could be 11 dead: level stays 较大, clock 5h, review asked."""
    d = clf.classify("一辆客车坠江 已致5人死亡6人失踪")
    assert d.level == "III" and d.clock == "5h" and d.needs_review
    assert d.facts["deaths"] == [5, 5] and d.facts["missing"] == [6, 6]


def test_at_least_counts_keep_the_level_and_ask_for_review(clf):
    """至少3人死亡 is 较大 now; the figure may rise, so review is asked but the clock stays 48h."""
    d = clf.classify("某地两车相撞 至少3人死亡")
    assert d.level == "III" and d.clock == "48h" and d.needs_review


def test_escalating_event_type_gets_the_stricter_clock(clf):
    """A terror attack with no casualty figure yet runs the 5h clock with review."""
    d = clf.classify("某地火车站发生暴力恐怖袭击事件")
    assert d.category == "社会安全事件" and d.department == "县公安局"
    assert d.clock == "5h" and d.needs_review


def test_quake_cause_outranks_the_accident_it_caused(clf):
    """A quake headline that also names a mine is graded by the earthquake plan (9 dead → 一般)."""
    d = clf.classify("某县3.5级地震 煤矿巷道受损9人遇难")
    assert d.category == "自然灾害" and d.level == "IV"


def test_word_boundaries_keep_place_names_from_triggering_kinds(clf):
    """明火 inside 昆明火车站 is not a fire: jieba segmentation keeps the kind as the attack."""
    d = clf.classify("昆明火车站发生暴力恐怖袭击 27人遇难")
    assert d.category == "社会安全事件" and d.level == "I"


def test_outside_mainland_is_classified_but_flagged(clf):
    """An accident abroad is graded as usual but needs review."""
    d = clf.classify("加纳发生交通事故致14人死亡")
    assert d.level == "II" and d.needs_review and d.facts.get("outside") == "加纳"


@pytest.mark.parametrize("title,domain,department", [
    ("石台县某小学乱收费，家长反映学费过高", "义务教育", "县教体局"),
    ("小区旁工地夜间施工噪音扰民", "生态环境", "县生态环境分局"),
    ("今年的种粮补贴为什么还没发放", "涉农补贴", "县农业农村局"),
    ("网传某饭店使用过期食品", "食品药品监管", "县市场监管局"),
    ("低保申请迟迟没有结果", "社会救助", "县民政局"),
])
def test_ordinary_opinion_has_no_level_and_is_routed_by_domain(clf, title, domain, department):
    """Complaints and questions about ordinary matters: level null, 48h, lead department of the 附件2 domain."""
    d = clf.classify(title)
    assert d.level is None and d.level_name is None and d.category is None
    assert d.clock == "48h" and (d.domain, d.department) == (domain, department)


def test_unmatched_opinion_goes_to_the_office(clf):
    """Text that matches no domain is routed to 县政务公开办 for assignment."""
    d = clf.classify("请问这个事情怎么办")
    assert d.level is None and d.department == "县政务公开办" and d.domain is None


def test_emergency_routing_uses_the_category_owner_and_cooperating_departments(clf):
    """School food poisoning: 县市场监管局 leads, 县卫健委 and 县教体局 cooperate."""
    d = clf.classify("某小学32名学生食物中毒")
    assert d.department == "县市场监管局"
    assert "县卫健委" in d.co_departments and "县教体局" in d.co_departments


def test_hazard_talk_is_not_an_event(clf):
    """消防演练/火灾隐患 mention a kind word without reporting an event."""
    d = clf.classify("小区开展消防演练，排查火灾隐患")
    assert d.level is None


@pytest.mark.parametrize("text,metric,pair", [
    ("208国道上一名17岁少女当场死亡", "deaths", [1, 1]),
    ("事故造成7死23伤", "injuries", [23, 23]),
    ("死亡3人受伤2人", "deaths", [3, 3]),
    ("2人死亡3人受伤", "injuries", [3, 3]),
    ("先报3人死亡。截至目前已造成5人死亡", "deaths", [5, 5]),
    ("百余辆车相撞，1人死亡", "deaths", [1, 1]),
    ("一家六口遇难", "deaths", [6, 6]),
    ("其中，造成重伤5人、轻伤6人", "serious_injuries", [5, 5]),
    ("79名学生先后出现呕吐、腹泻等食物中毒症状", "poisoned", [79, 79]),
    ("直接经济损失达1亿多元", "economic_loss", [100_000_001, 199_999_999]),
])
def test_extraction_pairs_counts_with_their_words(text, metric, pair):
    """Counts bind to their neighbouring word; ages, roads and vehicles are not casualties; latest figure wins."""
    facts = extract(prepare(text, "")).to_json()
    assert facts[metric] == pair


def test_negated_casualties_are_not_counted():
    """无人员伤亡 adds no casualty count."""
    facts = extract(prepare("仓库起火，无人员伤亡", "")).to_json()
    assert "deaths" not in facts and "casualties" not in facts


def test_to_json_has_exactly_the_documented_fields(clf):
    """The --jsonl record carries exactly id, level, level_name, category, domain, department, clock, needs_review, reasons."""
    d = clf.classify("某镇一客车与货车相撞致12人死亡")
    assert isinstance(d, Decision)
    obj = d.to_json("a1")
    assert list(obj) == ["id", "level", "level_name", "category", "domain", "department", "clock", "needs_review", "reasons"]
    assert obj["id"] == "a1" and obj["clock"] == "5h" and isinstance(obj["reasons"], list)
    json.dumps(d.facts)


@pytest.mark.parametrize("title,text", [("", ""), ("   ", "")])
def test_empty_input_is_a_clear_error(clf, title, text):
    """Nothing to classify raises ClassifyError with a Chinese message."""
    from responder.classify import ClassifyError

    with pytest.raises(ClassifyError, match="为空"):
        clf.classify(title, text)


def test_non_text_input_is_a_clear_error(clf):
    """A non-string title raises ClassifyError, not AttributeError."""
    from responder.classify import ClassifyError

    with pytest.raises(ClassifyError):
        clf.classify(123)  # type: ignore[arg-type]


def test_a_death_without_a_count_is_still_an_emergency(clf):
    """不幸身亡 with no number and no event word: graded as an accident (一般), flagged for review."""
    d = clf.classify("骑车女孩被卷入车轮下不幸身亡")
    assert d.level == "IV" and d.category == "事故灾难" and d.needs_review


def test_compound_words_route_by_their_head():
    """仁里镇中心小学 is a school: a compound routes by its head word (中心小学 → 小学 → 县教体局)."""
    from responder.classify import load_default

    d = load_default().classify("网友反映仁里镇中心小学乱收费", "有家长反映仁里镇中心小学收取补课费，希望有关部门核查。")
    assert d.domain == "义务教育" and d.department == "县教体局" and d.level is None and d.clock == "48h"


def test_a_topic_label_as_declared_category_is_noted_not_flagged(clf):
    """An RSS <category> such as 教育 is a topic, not an emergency category: noted, no review asked."""
    d = clf.classify("家长反映某小学暑期托管班收费偏高", declared_category="教育")
    assert d.level is None and not d.needs_review and any("不是突发事件类别" in r for r in d.reasons)


def test_trapped_people_who_could_reach_major_get_the_5h_clock(clf):
    """13 miners trapped could be 13 dead (重大): the stricter clock runs and a person is asked."""
    d = clf.classify("某煤矿发生透水事故 13名矿工被困井下", "搜救工作正在进行。")
    assert d.clock == "5h" and d.needs_review and any("被困13人" in r for r in d.reasons)
    small = clf.classify("电梯故障 2人被困", "消防员10分钟后将2人救出，无人受伤。")
    assert small.clock == "48h" and not small.needs_review


def test_mass_evacuation_after_a_leak_is_graded_as_an_environmental_event(clf):
    """A leak that evacuates 12,000 people may be a 重大 突发环境事件 (≥1万, 国办函〔2014〕119号)."""
    d = clf.classify("化工厂氯气泄漏", "周边1.2万名群众已紧急疏散，暂无人员伤亡。")
    assert d.clock == "5h" and d.needs_review and any("疏散" in r and "重大" in r for r in d.reasons)
    assert clf.classify("化工厂氯气泄漏", "周边300名群众已疏散，暂无人员伤亡。").clock == "48h"


def test_bodies_counted_with_ju_and_buried_homes_with_no_toll(clf):
    """遗体5具 counts five deaths; homes buried with no toll given run the 5-hour clock for review."""
    d = clf.classify("县城一KTV发生火灾 已发现遗体5具")
    assert d.level == "III" and d.facts["deaths"] == [5, 5]
    b = clf.classify("突发山体滑坡 约20户民房被掩埋", "具体人员情况正在核实。")
    assert b.clock == "5h" and b.needs_review


def test_trapped_then_rescued_do_not_raise_the_toll(clf):
    """People trapped and then rescued are not counted as possible deaths."""
    d = clf.classify("大客车追尾 车内40名乘客被困", "消防员将被困乘客全部救出，事故造成2人死亡。")
    assert d.clock == "48h"


def test_symptom_cluster_is_food_poisoning_routed_to_market_supervision(clf):
    """58 pupils vomiting after lunch is a food-poisoning event (30–99: 一般), led by 县市场监管局."""
    d = clf.classify("某小学学生集体呕吐", "该校58名学生午餐后出现呕吐、腹泻症状。")
    assert d.category == "公共卫生事件" and d.level == "IV" and d.department == "县市场监管局"


def test_a_debunked_rumour_is_ordinary_opinion(clf):
    """"网传…系谣言" is opinion to answer within 48 hours, not an emergency level."""
    d = clf.classify("网传某地发生重大伤亡事故系谣言", "经核实，该地当日仅发生一起轻微交通事故，无人员伤亡。")
    assert d.level is None and d.clock == "48h" and not d.needs_review and "系谣言" in d.reasons[0]


def test_a_debunk_of_a_major_rumour_keeps_the_stricter_clock_until_confirmed(clf):
    """If the rumoured event would be major, the 5-hour clock runs until a person confirms the debunk."""
    d = clf.classify("网传某化工厂爆炸致数十人死亡 官方：系谣言", "经核实，该厂当日正常生产。")
    assert d.level is None and d.clock == "5h" and d.needs_review
    assert clf.classify("网传某化工厂爆炸致数十人死亡", "现场视频在网上流传。").clock == "5h"


# Rules found by scoring fresh reports written outside the development corpus (docs/classifier.md).
# Fixture sentences written for these tests.

def test_acute_industrial_poisoning_counts_as_serious_injury(clf):
    """493号 第三条: 重伤包括急性工业中毒 — 12 workers poisoned by a gas leak is 较大, not 一般."""
    d = clf.classify("某钢厂煤气泄漏", "检修管道时发生煤气泄漏，造成12名工人急性中毒，均已脱离危险。")
    assert d.level == "III" and d.clock == "48h"
    assert any("计入重伤" in r for r in d.reasons)
    assert clf.classify("某钢厂煤气泄漏", "检修时发生煤气泄漏，造成9名工人急性中毒。").level == "IV"


@pytest.mark.parametrize("text,level,clock,review", [
    ("某县发生5.2级地震，震中周边村镇分布密集，属人口密集地区。", "II", "5h", False),
    ("某县发生6.0级地震，属人口稠密地区，暂无人员伤亡报告。", "I", "5h", False),
    ("某县发生5.2级地震，震中附近乡镇人口较密集。", "III", "48h", False),
    ("某县发生5.6级地震，震中位于无人区边缘，人口稀少。", "III", "48h", False),
    ("某县发生5.2级地震，暂无人员伤亡报告。", "III", "5h", True),
])
def test_quake_density_stated_in_the_text_settles_the_reading(clf, text, level, clock, review):
    """人口密集 makes the dense rows the stated level; 较密集 or 稀少 rules them out; silence keeps the
    conservative reading with a review flag (《国家地震应急预案》2012 初判)."""
    d = clf.classify("某县发生地震", text)
    assert (d.level, d.clock, d.needs_review) == (level, clock, review), d.reasons


def test_eating_then_falling_ill_is_food_poisoning(clf):
    """用餐后…呕吐 names food poisoning without the word 食物中毒; graded by the food rules, routed to 市场监管局:
    over 100 ill with a death is 重大; a death in a family of five is 较大."""
    banquet = clf.classify("某村丧宴多人中毒", "宾客用餐后陆续出现呕吐、腹痛等症状，截至目前累计发病105人，其中1人经抢救无效死亡。")
    family = clf.classify("一家五口中毒 二人死亡", "5人食用自制发酵米面后出现恶心、呕吐等症状，其中2人经抢救无效死亡。")
    for d in (banquet, family):
        assert d.category == "公共卫生事件" and d.department == "县市场监管局", d.reasons
    assert (banquet.level, banquet.clock) == ("II", "5h")
    assert (family.level, family.clock) == ("III", "48h")


def test_a_deliberate_vehicle_attack_is_graded_as_social_security(clf):
    """A ramming by a suspect is a criminal attack (2006 standard: ≥30 injured → 特别重大), not a traffic accident."""
    d = clf.classify("步行街发生驾车冲撞行人案件",
                     "一辆越野车高速冲入人群，造成5人死亡、43人受伤。犯罪嫌疑人系报复社会，蓄意驾车冲撞，已被控制。")
    assert d.category == "社会安全事件" and d.level == "I" and d.clock == "5h"


def test_a_national_road_blocked_for_eight_hours_is_especially_major(clf):
    """2006 standard: blocking a 国道 or main railway for 8 hours or more → 特别重大; 5 hours is not."""
    d = clf.classify("村民堵路", "约400名村民聚集在318国道上设置路障，双向交通中断长达9个小时。")
    assert d.level == "I" and d.clock == "5h" and any("交通干线阻断" in r for r in d.reasons)
    assert clf.classify("村民堵路", "约400名村民聚集在318国道上，双向交通中断5个小时。").clock == "48h"


def test_evacuation_after_an_earthquake_is_the_response_not_a_leak(clf):
    """The environmental plan's evacuation rows apply to accidents, not to people moved out after a quake."""
    quake = clf.classify("某县发生4.8级地震", "地震造成2人受伤，紧急转移安置群众1.3万人。震中附近乡镇人口较密集。")
    assert quake.clock == "48h"
    leak = clf.classify("某化工厂爆炸", "化工厂发生爆炸，2人死亡，周边1.2万名群众紧急疏散。")
    assert leak.clock == "5h" and leak.needs_review


def test_about_n_states_n(clf):
    """约1200万元 states 1200万 (较大火灾), not 960万; 约 only widens the conservative upper bound."""
    d = clf.classify("仓库火灾", "仓库发生火灾，未造成人员伤亡，直接经济损失约1200万元。")
    assert d.level == "III"


def test_a_level_three_response_is_not_read_as_level_one(clf):
    """NFKC turns Ⅲ into III, whose tail reads I级响应: the markers refuse a numeral before them."""
    d = clf.classify("某县发生5.6级地震", "震中附近人口较密集。省地震局启动地震应急Ⅲ级响应，2人轻伤。")
    assert d.level == "III" and d.clock == "48h", d.reasons
    assert not any("I级响应" in r and "III级" not in r for r in d.reasons)
    assert clf.classify("某省启动Ⅱ级应急响应").level == "II"


def test_magnitudes_of_past_earthquakes_are_not_this_events(clf):
    """据史料记载，1303年曾发生8级大地震 is history: the 5.0 of today grades the event."""
    d = clf.classify("某县发生5.0级地震", "2024年2月14日某县发生5.0级地震，震中附近人口较密集，4人轻伤。"
                     "据史料记载，1303年该地曾发生8级大地震。1976年唐山发生7.8级地震。")
    assert d.level == "III" and d.clock == "48h", d.reasons


def test_arson_on_a_bus_is_a_criminal_attack(clf):
    """故意纵火 by a suspect is graded by the 2006 social-security standard (≥10 deaths → 特别重大), not as a fire."""
    d = clf.classify("一公交车遭人纵火 死亡人数升至十一人", "公交车突然起火。此案系一男子携带汽油上车故意纵火，死亡人数升至十一人。")
    assert d.category == "社会安全事件" and d.level == "I"


@pytest.mark.parametrize("text,deaths,missing", [
    ("三人中毒窒息死亡", 3, None),
    ("又有3名失联工人的遗体被找到，死亡人数升至九人", 9, None),
    ("3人中毒，其中1人死亡", 1, None),
    ("仍有5人失联", None, 5),
])
def test_a_count_whose_state_ends_in_death_is_a_death(text, deaths, missing):
    """"3人中毒窒息死亡" counts three dead; three 失联 workers whose bodies were found are no longer missing."""
    f = extract(prepare("", text))
    assert (f.get("deaths").low if f.get("deaths") else None) == deaths
    assert (f.get("missing").low if f.get("missing") else None) == missing


def test_buried_workers_all_rescued_do_not_hold_the_toll_open(clf):
    """多名工人被埋压 … 全部被救出: the count is closed, as for the trapped; 6 deaths is 较大 with a 48-hour clock."""
    d = clf.classify("工地高支模坍塌", "在建工地发生坍塌，多名工人被埋压。至8日凌晨，被埋压人员全部被救出。事故共造成6人死亡、2人受伤。")
    assert (d.level, d.clock) == ("III", "48h"), d.reasons
    held = clf.classify("工地高支模坍塌", "在建工地发生坍塌，多名工人被埋压，搜救仍在进行。事故已造成6人死亡。")
    assert held.clock == "5h" and held.needs_review
    fire = clf.classify("高层住宅起火", "住宅起火。消防员疏散、营救被困群众160余人。火灾造成两人死亡。")
    assert fire.clock == "48h", fire.reasons
