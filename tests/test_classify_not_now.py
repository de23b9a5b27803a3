"""Figures that are not this event's toll, and tolls written in pieces (issue 20, third round).

Written for this file before probe sets f and g were read (fictional places and events; nothing
copied from a corpus). Each rule is tested beside the counterpart that must still start the
5-hour clock, and the docstring names the threshold it protects.
"""

import pytest

from responder.classify import load_default


@pytest.fixture(scope="module")
def clf():
    return load_default()


# --- tolls written in pieces ----------------------------------------------------------------------

def test_deaths_at_the_scene_and_later_are_added_in_either_order(clf):
    """493号 第三条: 10 deaths is 重大. 7 who died at the scene and 4 who died in hospital are 11 people,
    whichever the report names first; "伤者中有4人" counts the dead among the injured, not the injured."""
    later_first = clf.classify("乡道车祸", "伤者中有4人经抢救无效不治，此前已有7人当场死亡。")
    assert later_first.level == "II" and later_first.clock == "5h", later_first.reasons
    scene_first = clf.classify("烟花作坊爆炸", "6人当场死亡，5人送医后经抢救无效死亡。")
    assert scene_first.level == "II" and scene_first.clock == "5h"
    below = clf.classify("乡道车祸", "3人当场死亡，2人送医后经抢救无效死亡。")
    assert below.level == "III" and below.clock == "48h"  # 5 dead: 较大, summed but below 10


def test_a_stated_total_is_not_added_to_its_parts(clf):
    """共造成9人死亡，其中7人当场死亡，2人抢救无效: the parts make the total, not 9 + 9 (below 重大)."""
    d = clf.classify("货车侧翻", "事故共造成9人死亡，其中7人当场死亡，2人经抢救无效死亡。")
    assert d.level == "III" and d.clock == "48h", d.reasons


def test_a_colloquial_count_of_the_dead_is_read(clf):
    """A post saying 死了十几个人 reports a possible 重大 toll (≥10, 493号): the stricter clock with review,
    because the figure is hearsay (听说). 热死了 alone counts no one."""
    post = clf.classify("网友发帖", "听说河对面那个厂炸了，死了十几个人，有没有知情的？")
    assert post.clock == "5h" and post.needs_review, post.reasons
    moan = clf.classify("网友反映", "小区停水一整天，热死了，物业电话也打不通。")
    assert moan.clock == "48h" and moan.level is None


# --- figures of other events ----------------------------------------------------------------------

def test_a_trial_or_an_anniversary_is_not_a_new_event(clf):
    """突发事件应对法 第2条 is about what happens now: a verdict on a 2019 mine flood (12 dead) and the tenth
    anniversary of a gas explosion (33 dead) were graded when they happened. A new explosion is graded."""
    trial = clf.classify("县法院一审宣判一起重大责任事故案", "该案系2019年一起煤矿透水事故，造成12人死亡。")
    assert trial.clock == "48h" and trial.level is None, trial.reasons
    memorial = clf.classify("“7·15”矿难十周年 家属前来祭奠", "2016年7月15日，该矿发生瓦斯爆炸，造成33人遇难。")
    assert memorial.clock == "48h", memorial.reasons
    new = clf.classify("煤矿发生瓦斯爆炸", "7月15日，该矿发生瓦斯爆炸，造成12人遇难。")
    assert new.clock == "5h" and new.level == "II"


def test_a_cited_case_a_scene_in_a_drama_and_a_simulated_toll_are_background(clf):
    """A training example (以某地2021年一起火灾为例，…14人死亡), a drama's plot (剧中…100人死亡) and an
    exercise's scenario (模拟…30名群众被困) are no event of this county: graded as the opinion they are."""
    cited = clf.classify("冬季消防安全培训会召开", "会上以某地2021年一起火灾为例，该火灾造成14人死亡。")
    assert cited.clock == "48h", cited.reasons
    year_only = clf.classify("安全生产培训", "2015年某地一起火灾造成15人死亡，教训深刻。")
    assert year_only.clock == "48h", year_only.reasons
    drama = clf.classify("电视剧在我县取景", "剧中再现了一场造成100人死亡的矿难。")
    assert drama.clock == "48h", drama.reasons
    drill = clf.classify("县消防救援大队开展高层建筑灭火实战拉练", "拉练模拟高层住宅起火，30名群众被困。")
    assert drill.clock == "48h", drill.reasons


def test_a_dated_event_this_year_is_still_graded(clf):
    """The year cue covers a year named without a month (2015年某地): an event dated 2026年5月3日 is this
    event, and a building 2015年建成 that collapses today is graded on today's toll (493号: 12 dead)."""
    dated = clf.classify("化工厂爆炸", "2026年5月3日，县化工园区一企业发生爆炸，造成12人死亡。")
    assert dated.clock == "5h" and dated.level == "II"
    built = clf.classify("厂房坍塌", "该厂房2015年建成，今日上午突然坍塌，造成11人遇难。")
    assert built.clock == "5h" and built.level == "II", built.reasons


def test_a_figureless_rumour_of_a_dam_break_names_what_it_may_reach(clf):
    """A rumoured 溃坝 with no figures is held at 5 hours until the debunk is confirmed; the reason says it
    may reach 重大, not the 一般 its absent figures would give."""
    d = clf.classify("网传“水库溃坝” 官方辟谣", "县水利局：水库运行正常，不存在溃坝，网传视频系外地旧视频。")
    assert d.clock == "5h" and d.needs_review
    assert any("可能达到重大" in r for r in d.reasons), d.reasons


def test_people_still_being_searched_for_count_with_the_dead(clf):
    """rules.md: missing count with the dead for the 5-hour clock. 6 bodies found and 4 仍在搜寻 are 10
    (重大 by every casualty table); 6 found and all accounted for are not."""
    open_ = clf.classify("学生溺水事件", "10名学生到河边游玩时落水，目前已有6人遗体被找到，4人仍在搜寻。")
    assert open_.clock == "5h", open_.reasons
    closed = clf.classify("学生溺水事件", "10名学生到河边游玩时落水，4人被救起，6人遗体已被找到。")
    assert closed.clock == "48h", closed.reasons
    beside = clf.classify("厂房坍塌", "事故造成3人死亡，另有10人被困，已救出2人。")
    assert beside.clock == "5h", beside.reasons  # dead beside the trapped: 3 + 8 still open
    searching = clf.classify("矿井透水", "井下12人被困，已找到2具遗体，救援仍在进行。")
    assert searching.clock == "5h", searching.reasons  # 10 still unaccounted for


def test_a_later_death_of_an_injured_person_is_a_death(clf):
    """9 dead and 另有1名重伤者…不幸离世 make 10 (493号 第三条: 重大); 1 still being treated does not."""
    died = clf.classify("KTV火灾", "火灾已造成9人死亡，另有1名重伤者在医院抢救中不幸离世。")
    assert died.level == "II" and died.clock == "5h", died.reasons
    alive = clf.classify("KTV火灾", "火灾已造成9人死亡，另有1名重伤者正在医院抢救。")
    assert alive.level == "III" and alive.clock == "48h", alive.reasons


def test_statistics_for_a_range_of_months_are_background(clf):
    """今年1至11月…死亡32人 is a year's statistics, not one accident (493号 grades one accident)."""
    stats = clf.classify("交警：全县交通事故死亡人数同比下降", "今年1至11月，全县交通事故死亡32人，同比下降15%。")
    assert stats.clock == "48h", stats.reasons
    one = clf.classify("高速公路连环相撞", "11月3日，高速公路发生多车相撞事故，造成14人死亡。")
    assert one.clock == "5h" and one.level == "II"


def test_a_quake_abroad_not_felt_here_is_not_graded_by_its_magnitude(clf):
    """The quake plan grades the epicentre's area; a neighbouring country's M7.2 that nobody here felt
    is opinion, not this county's 特别重大 event. One that killed 3 here is graded on that."""
    far = clf.classify("邻国发生7.2级地震", "据中国地震台网测定，某邻国发生7.2级地震，我县无震感。")
    assert far.clock == "48h", far.reasons
    here = clf.classify("邻县6.5级地震波及我县", "受邻县6.5级地震影响，我县多处房屋倒塌，3人遇难。")
    assert here.clock == "5h", here.reasons


def test_the_rest_of_those_aboard_are_missing_until_found(clf):
    """rules.md: missing count with the dead. 45 aboard, 12 saved, 8 dead: the rest are unaccounted for and
    the toll may pass 10 (重大, 493号). A boat whose 40 passengers were all saved is not."""
    bus = clf.classify("客车坠江 车上45人", "客车坠入江中，已救起12人，确认死亡8人，其余人员下落不明，搜救仍在进行。")
    assert bus.clock == "5h" and bus.needs_review, bus.reasons
    boat = clf.classify("游船倾覆", "一艘载有40余名游客的游船在水库倾覆，已救起28人，其余人员正在搜救中。")
    assert boat.clock == "5h" and boat.needs_review, boat.reasons
    saved = clf.classify("游船倾覆", "一艘载有40余名游客的游船在水库倾覆，所有游客全部获救，无人员伤亡。")
    assert saved.clock == "48h", saved.reasons


def test_people_who_could_not_escape_a_fire_may_be_dead(clf):
    """多名病人未能逃出 is an open toll (2007 fire standard: 10 deaths 重大): the stricter clock with review."""
    d = clf.classify("县中医院住院部起火", "浓烟滚滚，据现场人员称有多名病人未能逃出。")
    assert d.clock == "5h" and d.needs_review, d.reasons


# --- found on probe set f (texts written here, not copied from it) ---------------------------------

def test_a_driver_ramming_a_crowd_is_a_violent_crime(clf):
    """2006 standard (社会安全): 3 deaths in a violent crime are 重大. Read as a road accident (493号) 4 deaths
    would be 较大 and the 5-hour clock would be missed. A car that hits a railing is an accident."""
    d = clf.classify("男子驾车冲撞广场人群", "一男子驾驶轿车冲撞正在晨练的人群，造成4人死亡、9人受伤，嫌疑人已被控制。")
    assert d.clock == "5h" and d.category == "社会安全事件", d.reasons
    crash = clf.classify("轿车撞上护栏", "一辆轿车撞上路边护栏，造成1人死亡。")
    assert crash.clock == "48h" and crash.category != "社会安全事件"


def test_gen_si_de_is_a_comparison_too(clf):
    """"跟地震了似的" describes an explosion's blast: graded as an explosion (493号: loss ≥5000万 → 重大)."""
    d = clf.classify("“跟地震了似的” 仓库爆炸", "居民说房子晃得跟地震了似的。事故造成2人死亡，直接经济损失5200万元。")
    assert d.clock == "5h" and d.level == "II" and d.category == "事故灾难", d.reasons


def test_a_class_b_disease_spreading_across_counties_at_over_twice_the_norm_is_major(clf):
    """国家突发公共卫生事件应急预案 (2006): 乙、丙类传染病 in ≥2 counties at over twice the five-year weekly
    average is 重大. Twice exactly, or one county, is not."""
    spread = clf.classify("流行性腮腺炎疫情波及两县", "本周发病率为近五年同期平均水平的3.1倍。")
    assert spread.clock == "5h" and spread.level == "II", spread.reasons
    twice = clf.classify("流行性腮腺炎疫情波及两县", "本周发病率为近五年同期平均水平的2倍。")
    assert twice.clock == "48h", twice.reasons


def test_nobody_died_keeps_the_count_after_it_for_its_own_word(clf):
    """无人死亡 38人重伤: 38 seriously injured is 较大 (493号: 10–49 重伤), not 38 dead (特别重大)."""
    d = clf.classify("大巴侧翻 无人死亡 38人重伤", "事故未造成人员死亡。")
    assert d.level == "III" and d.clock == "48h", d.reasons


def test_responses_counted_in_a_year_are_not_this_events_level(clf):
    """全年启动应急响应5次，其中Ⅲ级响应1次 is a year's statistics: no level marker of an event."""
    d = clf.classify("全县防汛工作总结", "全年启动防汛应急响应5次，其中Ⅲ级响应1次，无人员伤亡。")
    assert d.level in (None, "IV") and d.clock == "48h", d.reasons
    now = clf.classify("我县启动防汛Ⅲ级应急响应", "受强降雨影响，县防指决定启动防汛Ⅲ级应急响应。")
    assert now.level == "III"


def test_people_still_under_rubble_in_unknown_numbers_keep_the_toll_open(clf):
    """已救出23人，其余人员仍被埋压: how many remain is unsaid, and they may be dead (493号: 10 → 重大), so the
    stricter clock runs with review. All of them out: no open toll."""
    open_ = clf.classify("居民楼倒塌", "一栋六层居民楼突然倒塌，目前已救出23人，其余人员仍被埋压。")
    assert open_.clock == "5h" and open_.needs_review, open_.reasons
    out = clf.classify("居民楼倒塌", "一栋六层居民楼突然倒塌，被埋人员已全部救出，无人员死亡。")
    assert out.clock == "48h", out.reasons


def test_an_unexplained_illness_spreading_beyond_the_county_is_major(clf):
    """国家突发公共卫生事件应急预案 (2006): 群体性不明原因疾病 spreading beyond one county is 重大; inside one
    county it is 较大 at most."""
    spread = clf.classify("村民不明原因发热", "近一周有20余名村民出现不明原因发热、皮疹，已扩散至邻县。")
    assert spread.clock == "5h" and spread.level == "II", spread.reasons
    local = clf.classify("村民不明原因发热", "近一周有20余名村民出现不明原因发热、皮疹，均在本村。")
    assert local.clock == "48h", local.reasons


# --- found on probe set g after its one held-out measurement (texts written here) ------------------

def test_a_toxic_gas_release_is_graded_as_an_environmental_event(clf):
    """国办函〔2014〕119号: 50–99 poisoned by a pollution release is 重大. Read as food poisoning, 52 ill
    would be 一般 and the 5-hour clock missed."""
    d = clf.classify("化工厂氨气外溢 52人中毒送医", "周边居民52人吸入有毒气体后出现中毒症状，已送医治疗。")
    assert d.clock == "5h" and d.level == "II" and "环境" in (d.category or "") + "".join(d.reasons), d.reasons
    meal = clf.classify("婚宴后52人腹泻送医", "宾客食用婚宴菜肴后出现呕吐、腹泻等中毒症状，无人死亡。")
    assert meal.clock == "48h" and meal.level == "IV"  # food poisoning 30–99, no death: 一般


def test_another_county_reporting_the_same_unexplained_illness_is_spread(clf):
    """The 2006 public-health plan: 群体性不明原因疾病 beyond one county is 重大; a neighbouring county
    reporting similar cases is that spread, however it is worded."""
    d = clf.classify("某镇出现不明原因发热病例", "某镇近期累计报告不明原因发热病例15例，相邻的西岭县亦报告4例相似病例。")
    assert d.clock == "5h" and d.level == "II", d.reasons


def test_a_statistics_bulletin_and_counted_accidents_are_not_one_event(clf):
    """A year's bulletin (全年…死亡47人) and a sentence counting accidents (发生交通事故31起，死亡34人)
    total many events; 493号 grades one."""
    bulletin = clf.classify("某县2025年国民经济和社会发展统计公报", "全年发生道路交通事故1204起，死亡47人，受伤356人。")
    assert bulletin.clock == "48h", bulletin.reasons
    counted = clf.classify("安委会全体会议召开", "会议通报，2025年全县发生道路交通亡人事故31起，死亡34人。")
    assert counted.clock == "48h", counted.reasons
    one = clf.classify("安委会通报粉尘爆炸事故", "8月25日一企业车间发生粉尘爆炸，造成14人死亡。2025年全县发生道路交通亡人事故31起，死亡34人。")
    assert one.level == "II" and one.clock == "5h", one.reasons


def test_a_townships_population_bounds_nobody_missing(clf):
    """常住人口2.1万人 were never all on the road: a rescued driver does not make 21,000 possibly dead."""
    d = clf.classify("货车侧翻 司机轻伤", "货车在弯道侧翻，司机被困驾驶室，经消防员破拆救出，仅受轻伤。该乡共有常住人口2.1万人。")
    assert d.clock == "48h", d.reasons


# --- further wordings of our own, written while sets h and i were being written ---------------------

def test_they_all_died_counts_the_people_named_before(clf):
    """一艘船上12人落水，…全部遇难: the 12 died (493号: 10 → 重大). 全部救出 closes the count instead."""
    died = clf.classify("渔船翻沉", "渔船在水库翻沉，船上12名村民落水，经连夜搜救，全部遇难。")
    assert died.level == "II" and died.clock == "5h", died.reasons
    sewer = clf.classify("化粪池清掏中毒", "5名工人先后进入化粪池施救，均中毒倒地，经抢救无效全部死亡。")
    # 5 dead: 较大 under 493号, 重大 under the acute occupational-poisoning row (≥5 deaths, rules.md §2.3.6,
    # UNVERIFIED there): a sewer pit names the occupational kind, and the stricter row decides.
    assert sewer.facts.get("deaths") == [5, 5] and sewer.clock == "5h", sewer.reasons
    saved = clf.classify("渔船翻沉", "渔船在水库翻沉，船上12名村民落水，经连夜搜救，全部获救。")
    assert saved.clock == "48h", saved.reasons


def test_a_letter_saying_people_are_still_under_a_landslide_is_an_open_toll(clf):
    """县长信箱: 还有十几个人没挖出来 — 11 to 19 people buried (missing, counted with the dead: ≥10)."""
    d = clf.classify("县长信箱：后山塌了", "昨天我们村后山塌了，埋了好几户人家，到现在还有十几个人没挖出来，政府快来救人啊！")
    assert d.clock == "5h" and d.needs_review, d.reasons


# --- found on probe set h (texts written here, not copied from it) ---------------------------------

def test_what_the_inquiry_found_names_the_event(clf):
    """原以为…查明系一氧化碳泄漏: 58 workers poisoned at work are 重伤 under 493号 (50 → 重大), not a
    food poisoning of 30–99 (一般). 查明系人为投毒 makes a poisoning a crime (2006 standard: 3 deaths → 重大)."""
    gas = clf.classify("工人集体不适 原以为饭菜问题", "起初怀疑食堂饭菜出了问题，经查系车间一氧化碳泄漏，58名工人急性中毒。")
    assert gas.clock == "5h" and gas.level == "II", gas.reasons
    crime = clf.classify("小吃店顾客食物中毒", "经查系人为投毒，已造成3人死亡，嫌疑人已被抓获。")
    assert crime.clock == "5h" and crime.category == "社会安全事件", crime.reasons
    meal = clf.classify("小吃店顾客食物中毒", "经查系食材变质引起，已造成3人死亡。")
    assert meal.clock == "48h" and meal.level == "III", meal.reasons  # food: any death 较大


def test_a_national_road_blocked_for_hours_in_either_word_order(clf):
    """2006 standard: blocking a 国道 for 8 hours is 特别重大, written 国道被堵10小时 or 拦堵国道十个小时."""
    d = clf.classify("县长信箱：村民拦堵国道十个小时", "因补偿款问题，一些村民拦堵国道十个小时，车辆排起长龙。")
    assert d.clock == "5h" and d.level == "I", d.reasons
    short = clf.classify("村民拦堵国道", "因补偿款问题，一些村民拦堵国道两个小时，经劝导后散去。")
    assert short.clock == "48h", short.reasons


def test_a_denied_list_denies_each_word(clf):
    """无危重和死亡病例 denies deaths too: 120 ill with no death is 较大 (>100, food plan), not 120 dead."""
    d = clf.classify("企业食堂一百二十余人腹泻 无危重和死亡病例", "员工晚餐后陆续出现腹痛、腹泻，系食物中毒，均已就医。")
    assert d.level == "III" and d.clock == "48h", d.reasons


def test_an_exercise_named_with_its_scenario_is_still_an_exercise(clf):
    """危化品事故综合应急演练 模拟“30人死亡” names an exercise and its scenario: no event (48 hours)."""
    drill = clf.classify("县举行危化品事故综合应急演练 模拟“30人死亡”", "演练模拟园区储罐爆炸，按特别重大事故启动响应。")
    assert drill.clock == "48h", drill.reasons
    real = clf.classify("应急演练中发生意外 1人死亡", "演练过程中一名队员不慎坠落身亡。")
    assert real.level == "IV" and any("死亡" in r for r in real.reasons)


def test_a_polluted_intake_is_an_environmental_event_even_when_reassuring(clf):
    """国办函〔2014〕119号: a 县级城市's drinking-water intake interrupted is 重大, even when the notice says
    nobody's water is affected (the backup source took over)."""
    d = clf.classify("水务集团：市民用水不受影响", "上游河段水质监测发现苯胺超标，县城自来水厂取水口暂停取水，已切换至备用水源。")
    assert d.clock == "5h" and d.level == "II", d.reasons


def test_a_disease_rising_in_named_neighbouring_counties_is_spread(clf):
    """The 2006 health plan: 乙、丙类 disease in ≥2 counties at over twice the norm is 重大, with the
    neighbours named (相邻的甲县、乙县也明显上升) in the next sentence."""
    d = clf.classify("手足口病疫情通报", "本周全县报告病例140例，周发病率是近五年同期平均水平的2.5倍。相邻的松溪县、柳塘县病例也明显上升。")
    assert d.clock == "5h" and d.level == "II", d.reasons


# --- found on probe set i after its one held-out measurement (texts written here) ------------------

def test_one_counted_person_who_then_died_is_a_death(clf):
    """Food plan: >100 ill with a death is 重大. 其中一名老人因…，经抢救无效死亡 is that death; 3人受伤，经抢救无效死亡
    does not say how many died, so nothing is counted from it."""
    d = clf.classify("寿宴后宾客集体腹泻", "宾客食用寿宴菜肴后陆续出现呕吐、腹泻，累计就诊一百零八人，其中一名老人因重度脱水，经抢救无效死亡。")
    assert d.level == "II" and d.clock == "5h", d.reasons
    vague = clf.classify("两车相撞", "事故造成3人受伤，经抢救无效死亡。")
    assert vague.facts.get("deaths") is None, vague.facts


def test_all_of_them_without_breath_are_dead(clf):
    """A witness: 捞上来12个人，全都没气了 — 12 dead (493号: 10 → 重大)."""
    d = clf.classify("网友：客车掉进河里了", "我就在岸边，刚刚看着捞上来12个人，全都没气了，还有人在水里找。")
    assert d.clock == "5h", d.reasons


def test_a_spill_that_cuts_a_towns_intake_is_graded_as_pollution(clf):
    """国办函〔2014〕119号: a 县级城市's intake interrupted is 重大, whatever vehicle overturned to cause it; a
    notice that the intake was not cut (取水未中断) is no such row."""
    cut = clf.classify("苯酚运输车侧翻 县城取水泵站暂停取水", "受上游运输车侧翻泄漏影响，县城取水泵站暂停取水，改由应急水源供水。")
    assert cut.clock == "5h" and cut.level == "II", cut.reasons
    fine = clf.classify("自来水有点浑？", "受洪水影响原水浊度升高，水厂加强处理，出厂水检测达标，取水未中断，请放心饮用。")
    assert fine.clock == "48h", fine.reasons


def test_workers_poisoned_at_work_are_graded_by_the_occupational_rows(clf):
    """急性职业中毒 (rules.md §2.3.6): 50 poisoned → 重大, 10–49 → 较大. Not an epidemic's case count."""
    many = clf.classify("制鞋厂工人急性苯中毒", "经职业病防治院诊断，该厂共有55名工人被确诊为急性苯中毒，均已住院治疗。")
    assert many.clock == "5h" and many.level == "II", many.reasons
    fewer = clf.classify("电镀厂有毒气体逸出", "车间氰化氢气体逸出，共有40名工人发生急性中毒，均已住院，无人员死亡。")
    assert fewer.clock == "48h" and fewer.level == "III", fewer.reasons


def test_a_worry_about_what_might_happen_is_no_event(clf):
    """12345: 担心像某地那样烧死几十个人 fears a fire; nobody died."""
    d = clf.classify("12345工单：楼道堆放杂物", "来电人担心万一着火会像某地那样烧死几十个人，要求尽快清理。")
    assert d.clock == "48h", d.reasons


def test_facts_beside_a_denied_rumour_decide_when_they_are_major(clf):
    """县城停水系水源污染 … 网传“投毒”系谣言: the intake cut stated officially is 重大 (国办函〔2014〕119号)
    and is graded as such, not held only as a debunk awaiting confirmation."""
    d = clf.classify("县城停水系水源污染 网传“投毒”不实", "上游企业废水进入县城饮用水水源地，县自来水厂暂停取水，县城停水18小时。网传“水厂被人投毒”系谣言。")
    assert d.level == "II" and d.clock == "5h", d.reasons


# --- the rival reading: which plan applies is itself the fact in doubt -----------------------------

def test_a_second_kind_that_would_make_the_facts_major_asks_with_the_stricter_clock(clf):
    """60 poisoned: 一般 as a food poisoning (30–99, no death), 重大 as an acute occupational poisoning
    (≥50). A canteen case that names workers poisoned together and a gas is both: the stricter clock runs
    and the reason names the two readings. A wedding feast names only food: 48 hours."""
    both = clf.classify("工厂食堂就餐后工人集体中毒", "疑似车间有毒气体扩散至食堂，共60名工人中毒送医。")
    assert both.clock == "5h" and both.needs_review, both.reasons
    assert any("事件类型待确认" in r for r in both.reasons) and any("事件类型不确定" in x for x in both.doubts)
    assert not any("分级分级" in r for r in both.reasons)  # a standard named "…分级" is not said twice
    feast = clf.classify("婚宴食物中毒 60人送医", "宾客食用婚宴后出现呕吐腹泻，共60人送医，无人死亡。")
    assert feast.clock == "48h" and not feast.needs_review, feast.reasons


# --- found on probe sets j, k and l (texts written here, not copied from them) ---------------------

@pytest.mark.parametrize("title,body,clock,level", [
    # 2006 standard: 1000 participants → 重大; 一千三四百 is 1300–1400.
    ("村民聚集镇政府", "因补偿问题，高峰时聚集群众一千三四百人。", "5h", "II"),
    # A national road blocked by people for 9 hours: 特别重大, with the road's number between.
    ("村民阻断国道", "三百余名村民阻断国道G241线约9小时。", "5h", "I"),
    ("抖音：国道被堵了", "G359国道鹳坡段被村民堵了九个多小时。", "5h", "I"),
    # Prisoners rioting, 10 or more: 特别重大 (2006 standard); a quarrel of three is not.
    ("监狱发生聚集滋事事件", "某监狱部分服刑人员聚集滋事，砸毁设施，参与人数12人。", "5h", "I"),
    # A death after mass preventive medication: 重大 (2006 public-health plan).
    ("小学集体服用驱虫药后1名学生死亡", "学生集体服用驱虫药后出现腹痛，一名学生经抢救无效死亡。", "5h", "II"),
    # Contaminated food that reached two cities with a death: 重大 (food-safety plan).
    ("湿米粉流入两市 2人死亡", "某厂湿米粉流入两个地市，疑似米酵菌酸中毒30人，其中2人死亡。", "5h", "II"),
    # A typhoid rise at three times the norm, spreading to neighbouring counties: 重大 (乙类 row).
    ("伤寒疫情周报", "本周报告伤寒病例40例，周发病率为近五年同期平均水平的3倍，疫情已由本县向周边县区扩散。", "5h", "II"),
    # 危重12人，重伤41人 are 53 seriously hurt (493号: 50 → 重大); 其中危重12人 are part of the 41.
    ("锅炉爆裂", "事故造成2人死亡，伤者中危重12人，重伤41人。", "5h", "II"),
    ("锅炉爆裂", "事故造成2人死亡，重伤41人，其中危重12人。", "48h", "III"),
    # Losses listed as the parts of one total (以上均为直接财产损失): 5549万 ≥ 5000万 → 重大 (fire standard).
    ("仓库火灾损失核定", "火灾烧毁厂房设备，损失3912万元；烧毁原料成品，损失1637万元。以上均为直接财产损失。", "5h", "II"),
    # A toxic gas that made people ill around it: the environmental rows (50–99 poisoned → 重大).
    ("水厂氯气泄漏", "水厂加氯间氯气泄漏，周边居民出现咳嗽、胸闷等症状，累计送医62人。", "5h", "II"),
])
def test_rows_met_in_other_words(clf, title, body, clock, level):
    d = clf.classify(title, body)
    assert (d.clock, d.level) == (clock, level), d.reasons


@pytest.mark.parametrize("title,body", [
    # A lost radioactive source found again: nothing left to escalate.
    ("Ⅴ类放射源丢失后找回", "一水泥厂料位计放射源丢失，次日已找回，未造成辐射污染。"),
    # A township's intake is 较大 at most, whatever the county town's supply (县城供水不受影响) is.
    ("集镇供水站停止取水", "上游企业排放废水致溪水锰超标，某乡集镇供水站暂停取水，县城供水不受影响。"),
    # An old man's memory of a dam break in the fifties is no dam break now.
    ("县长信箱：坝脚渗水", "坝脚渗水，老人说五几年溃坝淹死几百人。水利局答复：系正常排水。"),
    # Another province's explosion taken as a lesson at a meeting.
    ("县安委会全体会议", "3月20日外省某化工园区发生爆炸事故，造成40余人遇难，我县必须以案为鉴。"),
    # A plan's rule for when each level starts is no level declared now.
    ("防汛新闻发布会", "新预案规定，造成3人以上死亡（含失踪）的，启动Ⅱ级响应。目前全县无险情。"),
    # The missing all found, all dead: nine dead, counted once (较大).
    ("石膏矿冒顶", "9名矿工被困失联。经42小时救援，失联的9名矿工已全部找到，均已遇难。"),
])
def test_texts_that_answer_the_question_keep_48_hours(clf, title, body):
    d = clf.classify(title, body)
    assert d.clock == "48h", d.reasons


def test_a_toll_dated_months_before_the_report_is_another_events():
    """A 2026 feature recalling 2016年11月3日…12名矿工遇难 reports no 重大 event now; the same text without a
    report date keeps the stricter reading, and an event of 2025年12月31日 reported on 2026-01-01 is this one."""
    import datetime as dt

    clf = load_default()
    body = "2016年11月3日，某乡一煤矿发生透水事故，12名矿工遇难。今年6月8日，一名工人从脚手架坠落，经抢救无效死亡。"
    assert clf.classify("安全生产月特稿", body, reported=dt.date(2026, 6, 15)).clock == "48h"
    assert clf.classify("安全生产月特稿", body).clock == "5h"
    recent = clf.classify("客车侧翻", "2025年12月31日晚，一辆客车侧翻，造成11人死亡。", reported=dt.date(2026, 1, 1))
    assert recent.clock == "5h" and recent.level == "II"


def test_headlines_of_old_cases_and_exercises_that_report_a_new_event(clf):
    """An anniversary headline that also reports a crash today, an exercise day that was a real flood,
    and a trial of an explosion case (its name holds 爆炸, no new event)."""
    both = clf.classify("洪灾十周年纪念活动举行；某镇客车与货车相撞 10人遇难", "两车相撞，造成10人遇难。")
    assert both.clock == "5h" and both.level == "II", both.reasons
    real = clf.classify("原定演练日真实险情：铁矿透水 10人被困井下", "井下10人被困，救援正在进行。")
    assert real.clock == "5h", real.reasons
    trial = clf.classify("“2024·10·17”烟花厂爆炸案一审开庭", "该事故曾造成12人死亡。")
    assert trial.clock == "48h", trial.reasons


def test_colloquial_deaths_and_the_swept_away(clf):
    """语音转文字: 河坝组没了五个，还冲走六个 — 5 dead and 6 missing reach 11 (≥10, missing counted with the
    dead); 没了五个 alone is 5 dead."""
    d = clf.classify("山洪 语音转文字", "河坝组没了五个，栎阳乡还冲走六个。")
    assert d.clock == "5h" and d.facts.get("deaths") == [5, 5], (d.facts, d.reasons)
    five = clf.classify("山洪 语音转文字", "河坝组没了五个。")
    assert five.clock == "48h" and five.facts.get("deaths") == [5, 5], five.reasons


def test_a_tank_that_smokes_and_moves_ten_thousand_is_graded_by_the_environmental_plan(clf):
    """苯乙烯储罐自聚冒烟 names a hazardous-chemical accident; 1.03万 moved is the environmental plan's 重大 row."""
    d = clf.classify("苯乙烯储罐自聚冒烟 两镇一万零三百余名群众转移", "储罐温度异常升高冒烟，伴有刺激性气味，两镇一万零三百余名群众紧急转移，无人员伤亡。")
    assert d.clock == "5h", d.reasons


# --- found on probe set m after its one held-out measurement (texts written here) ------------------

def test_a_headline_that_packs_the_story_counts_the_rescued_once(clf):
    """当班12人，其中4人升井，其余被困 and a headline 12人中4人升井 1人遇难7人被困: 7 trapped + 1 dead may be 8;
    with 13 on shift they may be 9 — below 10. With 15 on shift and 5 out, 10 may be dead (493号: 重大)."""
    d = clf.classify("某煤矿透水 15人中5人升井 1人遇难9人被困", "当班井下作业人员15人，其中5人自行升井，其余人员被困井下。救援正在进行。")
    assert d.clock == "5h" and d.needs_review, d.reasons
    small = clf.classify("某煤矿透水 8人中5人升井 3人被困", "当班井下作业人员8人，其中5人自行升井，其余人员被困井下。救援正在进行。")
    assert small.clock == "48h", small.reasons


WORDINGS_M = [
    # A road cut for 十个半小时 by villagers: 特别重大 (2006 standard, 8 hours).
    ("国道被村民阻断 双向交通中断十个半小时", "约三百名村民在国道聚集，用车辆阻断道路。", "5h"),
    # Evacuations listed by township add up: 6200 + 4100 = 10300 (environmental plan: 1万 → 重大).
    ("液氯槽罐车相撞泄漏", "槽罐车泄漏后，县政府组织下风向群众转移，其中甲镇转移6200人、乙镇转移4100人，未造成人员伤亡。", "5h"),
    # The province's drownings this summer are statistics; one boy drowned here.
    ("一男孩游泳溺亡 全省今年暑期溺亡学生逾百人", "一名12岁男孩在河中游泳时溺水身亡。", "48h"),
    # A film's story of 32 trapped miners is no event.
    ("电影在废弃煤矿取景 讲述32名矿工被困的故事", "影片讲述了一场矿难中32名矿工被困井下的故事。", "48h"),
    # The one passenger missing was found: 9 dead of 10 is 较大.
    ("农用车侧翻坠沟", "车上10人中9人遇难。此前一度失联的1名乘客于次日凌晨被找到，仅受轻伤。", "48h"),
]


def test_the_engine_passes_the_beijing_date_an_item_was_published():
    """reported_on: published_at (else first_seen_at), in Beijing: 17:00 UTC on 1 January is 2 January there."""
    import datetime as dt
    from types import SimpleNamespace

    from responder.engine.inputs import reported_on

    utc = dt.timezone.utc
    late = SimpleNamespace(published_at=dt.datetime(2026, 1, 1, 17, 0, tzinfo=utc), first_seen_at=None)
    assert reported_on(late) == dt.date(2026, 1, 2)
    seen = SimpleNamespace(published_at=None, first_seen_at=dt.datetime(2026, 6, 15, 1, 0))  # naive UTC (SQLite)
    assert reported_on(seen) == dt.date(2026, 6, 15)
    assert reported_on(SimpleNamespace(published_at=None, first_seen_at=None)) is None


# --- found on probe set n after its one held-out measurement (texts written here) ------------------

WORDINGS_N = [
    # 两千来号人 around a township government: 1000 participants → 重大 (2006 standard).
    ("微博：两千来号人围镇政府讨要征地款", "我估计得有两千来号人，乡政府大门被堵，干部出不来。", "5h"),
    # 3 bodies brought out are not 3 saved: 3 dead + 8 still trapped may be 11 (493号: 重大).
    ("铁矿冒顶事故", "已搜救出3名遇难矿工，另有8名矿工仍被困，生死未卜，救援正在进行。", "5h"),
    # A new blow on the eve of an old disaster's anniversary is a new event.
    ("泥石流灾害三十周年前夕 某乡再遭泥石流 14人遇难", "昨夜某乡突发泥石流，已造成14人遇难。", "5h"),
    # Another province's mine disaster, and our county's inspections.
    ("外省煤矿事故21人遇难 我县连夜部署非煤矿山排查", "我县各矿山生产经营正常，未发现重大隐患。", "48h"),
    # A quake in a place stated as 人口较密集 (非人口密集): M5.9 is 较大 by the 2012 plan, not 重大.
    ("某镇发生5.9级地震", "震中所在的某镇属人口较密集地区（非人口密集地区），部分房屋墙体开裂，无人员死亡。", "48h"),
    # A trial attended by the old fire's families is no new event.
    ("“某书店火灾”案公开审理 12名遇难者家属旁听", "法院今日公开审理该案。", "48h"),
    # A rumoured plague patient who had pneumonia; plague excluded by the lab.
    ("网传“县医院收治鼠疫病人” 县卫健委：系普通肺炎", "县卫健委辟谣：近日网传“县医院收治鼠疫病人”。经核实，该患者诊断为社区获得性肺炎，经检测排除鼠疫。", "48h"),
]


# --- found on probe set o after its one held-out measurement (texts written here) ------------------

WORDINGS_O = [
    # A headline listing 危重 and 重伤 side by side: 53 seriously hurt (493号: 50 → 重大).
    ("烟花门店爆炸 危重12人重伤41人", "伤员已送医救治。", "5h"),
    # 其他感染性腹泻病在甲、乙两县发病为近五年同期2.7倍: the 乙/丙类 spread row (重大).
    ("传染病疫情通报", "其他感染性腹泻病在甲、乙两县发病为近五年同期平均水平的2.7倍。", "5h"),
    # A canteen's cluster (聚集性) is no crowd: food plan, 101 ill with a death → 重大.
    ("职工食堂聚集性腹泻 就诊101人 一名老人死亡", "晚餐后发生聚集性腹泻，累计就诊101人，其中1名老人经抢救无效死亡。", "5h"),
    # 9 workers not yet reached (仍未联系上) are missing: 2 + 9 = 11.
    ("在建厂房坍塌 2人死亡 9名工人仍未联系上", "厂房坍塌，已确认2人死亡，另有9名工人仍未联系上。", "5h"),
    # 11人没救过来: 11 dead (493号: 10 → 重大).
    ("网友视频：中巴翻沟 11人没救过来", "盘山路一辆中巴翻下山沟，听说11人没救过来。", "5h"),
    # A foretold 7-magnitude quake is a rumour, not a measured magnitude.
    ("网传“下周将发生7级地震” 县地震局：系谣言", "县地震局：地震无法准确预测，网传“下周将发生7级地震”系谣言。", "48h"),
    # 147 passengers all brought ashore safely: nobody is unaccounted for.
    ("客渡船故障漂航 147名乘客全部安全转运", "一艘载有147名游客的客渡船主机故障，搜救船只将全部乘客安全转运上岸。", "48h"),
]


@pytest.mark.parametrize("title,body,clock", WORDINGS_M + WORDINGS_N + WORDINGS_O)
def test_further_wordings_from_sets_m_n_o(clf, title, body, clock):
    d = clf.classify(title, body)
    assert d.clock == clock, d.reasons


# --- found on the final held-out set p, after its one measurement (texts written here) ------------

@pytest.mark.parametrize("title,body,clock", [
    # A toxic gas that poisoned 60 villagers, with no other event word: the environmental rows (50 → 重大).
    ("倾倒废酸致硫化氢逸出 60名村民中毒住院", "有人非法倾倒废酸，产生硫化氢气体逸出，附近60名村民中毒住院。", "5h"),
    # Bodies found and people who died later in hospital are different people: 7 + 3 = 10.
    ("厂房坍塌 搜救出7名遇难者 另3人送医后不治", "搜救工作结束。", "5h"),
    # A headline listing the dead and one who died later: 9 + 1 = 10 (fire standard: 重大).
    ("养老院火灾 9名老人遇难 1名护工不治", "火灾原因正在调查。", "5h"),
    # 当班下井28人，16人自行升井，12人被困: the 12 are those still down.
    ("萤石矿透水", "当班下井28人，16人自行升井，12人被困井下、与地面失去联系。", "5h"),
    # 两千三百来号工人: a crowd over 1000 (2006 standard: 重大).
    ("工人聚集讨要工资", "两千三百来号工人聚集在厂门口讨要工资。", "5h"),
    # An unexplained illness that spread to a named county: beyond the county (重大).
    ("不明原因发热病例扩散至蕨溪县", "不明原因发热伴皮疹病例已扩散至蕨溪县。", "5h"),
    # 没了六个人 and 五个还没找着: 6 dead and 5 missing reach 11.
    ("网友：一个组没了六个人", "一个组没了六个人，隔壁组五个还没找着。", "5h"),
    # A total after later deaths states the toll: 6 + 3 are the 9, not 12 (较大).
    ("化工厂爆炸 死亡人数升至9人", "事故已造成6人死亡。次日又有3名伤员经抢救无效死亡，死亡人数升至9人。", "48h"),
])
def test_wordings_from_set_p(clf, title, body, clock):
    d = clf.classify(title, body)
    assert d.clock == clock, d.reasons
