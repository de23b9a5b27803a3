"""Every 特别重大/重大 row of every plan the county answers to, in ordinary news wording (generalisation round).

Each row of rules.md §2.3 that makes an event 重大 or 特别重大 has here at least one short report
written for this file (fictional places, never copied from the corpus or a probe set), with Chinese
and Arabic numerals and the 余/近/约/多 qualifiers, and asserts the 5-hour clock. Beside them, reports
just below each threshold whose text answers the question assert no 5-hour clock: missing a 5-hour
matter is far worse than a false alarm, but a false one teaches people to ignore the next.

Columns: id (the plan and row), title, body, expected clock, expected level (None: not checked,
because the stated facts leave the level to a person while the clock must run).
"""

from __future__ import annotations

import pytest

from responder.classify import load_default

FIVE = [
    # --- 生产安全事故 (国务院令第493号 第三条): 死亡10 / 重伤50 / 损失5000万 → 重大; 30 / 100 / 1亿 → 特别重大
    ("493-deaths-II-arabic", "某化工园区反应釜爆炸", "爆炸发生后，截至记者发稿时已确认11人遇难，另有数人受伤送医。", "II"),
    ("493-deaths-II-chinese", "矿井透水事故", "井下作业的工人中，十二人不幸罹难，其余人员已安全升井。", "II"),
    ("493-deaths-II-yu", "建筑工地脚手架整体坍塌", "工地脚手架突然整体倒塌，事故已造成10余名工人死亡。", "II"),
    ("493-deaths-II-near-open", "在建隧道塌方 死亡人数升至近20人", "塌方发生在隧道掌子面附近，死亡人数已升至近20人。", "II"),
    ("493-deaths-I", "烟花厂爆炸事故", "据当地应急部门通报，事故共造成三十二人死亡、数十人受伤。", "I"),
    ("493-deaths-I-duo", "煤矿瓦斯爆炸", "这起瓦斯爆炸事故已致30多名矿工身亡。", "I"),
    ("493-serious-II", "商场自动扶梯事故", "扶梯在客流高峰时发生逆行，造成50余人重伤，另有多人轻伤。", "II"),
    ("493-serious-II-chinese", "厂房屋顶垮塌", "车间屋顶垮塌，压伤工人中有五十六人伤势严重，正在医院抢救。", "II"),
    ("493-poisoned-as-serious", "化工厂车间发生急性工业中毒", "车间管道破裂，57名工人出现急性中毒症状被送医。", "II"),
    ("493-loss-II", "仓储企业爆燃", "事故未造成人员死亡，初步估算直接经济损失约6000万元。", "II"),
    ("493-loss-II-chinese", "冷库氨制冷系统爆炸", "爆炸造成厂房损毁，直接经济损失达七千万元，无人员死亡。", "II"),
    ("493-loss-I", "港口码头危化品仓库爆炸", "据初步统计，此次爆炸造成直接经济损失超过1.5亿元。", "I"),
    ("493-missing-II", "尾矿库坝体滑塌", "坝体局部滑塌冲毁下游工棚，目前已有4人死亡、8人失联，搜救仍在进行。", None),
    ("493-trapped-II", "铁矿井下冒顶 16人被困", "井下突发冒顶，16名矿工被困，救援队伍正在全力施救。", None),
    # --- 道路交通事故 (graded with 493号)
    ("traffic-II", "高速公路大客车与货车追尾", "事故造成14人死亡、20余人受伤，伤者已送往附近医院救治。", "II"),
    ("traffic-II-chinese", "客车坠入山崖", "一辆载有三十余名乘客的中巴车坠入山崖，车上十一人当场死亡。", "II"),
    ("traffic-I", "特大交通事故", "两辆大客车在隧道内相撞起火，事故已造成31人死亡。", "I"),
    ("boat-II", "游船翻沉", "一艘游船在湖面遭遇大风翻沉，已打捞起10具遗体，另有5人下落不明。", "II"),
    # --- 火灾 (公安部2007)
    ("fire-II", "居民楼火灾", "凌晨一栋居民楼起火，火灾造成十人死亡、十五人受伤。", "II"),
    ("fire-II-yu", "批发市场大火", "大火持续燃烧数小时，已致10多人死亡。", "II"),
    ("fire-I-loss", "物流仓库火灾", "火灾过火面积约三万平方米，直接财产损失1.2亿元。", "I"),
    ("fire-serious-II", "歌厅火灾", "歌厅内烟雾弥漫，52人吸入浓烟后重伤，目前仍在医院救治。", "II"),
    ("forest-fire-deaths", "林场森林火灾 扑火队员牺牲", "在扑救过程中，风向突变，有10名扑火队员不幸牺牲。", "II"),
    # --- 地震 (国家地震应急预案2012): 初判6.0 (较密集) / 5.0 (密集, strict); 死亡含失踪50 → 重大
    ("quake-6-arabic", "本县发生6.2级地震", "中国地震台网正式测定，震源深度10千米，震中位于本县某镇。", "II"),
    ("quake-6-chinese", "我县发生六点一级地震", "地震发生后，县里立即启动应急机制，派出工作组赶赴震中。", "II"),
    ("quake-7", "某县发生7.1级强烈地震", "震中附近房屋大量倒塌，伤亡情况正在统计。", "I"),
    ("quake-5-open-density", "本县山区发生5.3级地震", "震中附近部分老旧房屋出现裂缝，县应急局已派员核查。", None),
    ("quake-deaths-II", "地震灾区伤亡统计", "截至今日8时，地震已造成47人遇难、6人失踪。", "II"),
    # --- 自然灾害 (县级救助预案门槛, 死亡含失踪10 → strict 重大)
    ("flood-county", "山洪冲毁村庄", "暴雨引发山洪，已造成7人死亡、5人失踪，搜救工作仍在进行。", None),
    ("landslide-county", "山体滑坡掩埋民房", "山体突然滑坡，掩埋民房十余间，目前已有9人遇难，仍有3人失联。", None),
    ("landslide-buried-unknown", "村庄发生特大山体滑坡", "滑坡体掩埋了半个村庄，多户村民被埋，具体人数正在核实。", None),
    ("typhoon-deaths", "台风登陆致多地受灾", "受台风影响，全县已有12人因灾死亡，紧急转移安置群众3万余人。", None),
    ("dam-break", "水库溃坝", "强降雨导致上游一座小型水库溃坝，下游多个村庄被淹。", None),
    # --- 食物中毒 / 食品安全 (卫生预案2006, 食品预案2011)
    ("food-II-poisoned-death", "婚宴后百余人食物中毒", "参加婚宴的宾客出现呕吐腹泻，120余人就诊，其中1人经抢救无效死亡。", "II"),
    ("food-II-deaths", "误食毒蘑菇致多人死亡", "村民聚餐误食野生毒蘑菇，已有10人死亡。", "II"),
    ("food-II-chinese", "学校食堂集体食物中毒", "一百零五名学生出现中毒症状，一名学生抢救无效死亡。", "II"),
    # --- 突发公共卫生事件 (2006 预案): 疫情与不明原因疾病
    ("plague", "发现肺鼠疫病例", "疾控部门确认一例肺鼠疫病例，已对密切接触者实施隔离。", None),
    ("cholera", "出现霍乱疫情", "县疾控中心报告，近一周内发现霍乱病例9例。", None),
    ("anthrax", "牧区出现炭疽病例", "某村报告3例皮肤炭疽病例，疾控人员已赶赴现场处置。", None),
    ("unknown-cluster", "多名村民出现不明原因发热", "某村近日出现群体性不明原因疾病，20余名村民发热、咳嗽。", None),
    ("avian-flu-human", "发现人感染H7N9禽流感病例", "该县一名患者被确诊为人感染H7N9禽流感病例，病情危重。", "II"),
    ("sars-like", "医院报告不明原因肺炎聚集病例", "一家医院接诊多名不明原因肺炎患者，已上报疾控。", None),
    ("vaccine-death", "疫苗接种后1名儿童死亡", "该儿童在乡镇卫生院接种疫苗后出现严重不良反应，经抢救无效死亡。", "II"),
    ("occupational-II", "电子厂发生群体性职业中毒", "厂内工人接触有机溶剂后，先后有55人被诊断为职业中毒。", "II"),
    ("h2s-deaths-II", "污水池清淤发生硫化氢中毒", "工人在清理污水池时发生硫化氢中毒，事故共造成10人死亡。", "II"),
    # --- 突发环境事件 (国办函〔2014〕119号)
    ("env-intake-county", "化工厂泄漏污染河流 县城自来水厂停止取水", "污染团进入县城水源地，自来水厂已暂停取水。", "II"),
    ("env-intake-county-2", "上游企业违法排污 县城集中供水中断", "因上游河段被偷排的废水污染，县城供水中断。", "II"),
    ("env-intake-city", "跨区污染导致地级市水厂取水中断", "受上游污染影响，设区的市主城区水厂取水中断。", "I"),
    ("env-cross-province", "河流污染跨省", "上游化工企业泄漏的污染物已随河水进入下游邻省境内，造成跨省界污染。", "II"),
    ("env-evacuated-II", "危化品槽罐车泄漏 周边群众紧急转移", "槽罐车侧翻后氯气泄漏，周边1.5万名群众被紧急疏散。", None),
    ("env-evacuated-II-chinese", "化工厂有毒气体泄漏", "泄漏发生后，周边村庄约一万二千名村民连夜转移。", "II"),
    ("env-poisoned-II", "工业园区废气泄漏致群众中毒", "有毒气体扩散至附近村庄，60余名村民出现中毒症状入院。", "II"),
    ("env-deaths-II", "化工厂有毒气体泄漏致死", "有毒气体泄漏已造成11人死亡。", "II"),
    ("env-loss-II", "河流污染致大面积死鱼", "污染事件造成的直接经济损失约2500万元。", "II"),
    ("env-radiation", "放射源丢失", "一家探伤公司的放射源丢失，公安和生态环境部门正在全力搜寻。", None),
    # --- 社会安全事件 (2006 分级标准): 死亡3 / 受伤10 / 参与1000 → 重大
    ("social-deaths-II", "持刀行凶致3死", "一男子在菜市场持刀行凶，造成三人死亡，嫌疑人已被控制。", "II"),
    ("social-injured-II", "街头砍人事件", "男子在街头持刀砍人，致12人受伤，嫌疑人当场被抓获。", "II"),
    ("social-participants-II", "千余名群众聚集", "因征地补偿纠纷，一千余名村民聚集在镇政府门前。", "II"),
    ("social-participants-I", "数千人聚集堵路", "约5000余人聚集并堵塞国道，交通一度中断。", "I"),
    ("social-blockade-I", "村民堵塞国道", "数百名村民因拆迁纠纷堵塞107国道，交通中断长达9个小时。", "I"),
    ("terror", "火车站发生暴力恐怖袭击", "数名暴徒持刀在火车站广场袭击群众，伤亡情况不明。", None),
    ("stampede", "景区发生踩踏事件", "节日期间景区通道发生拥挤踩踏，造成4人死亡、十多人受伤。", "II"),
    ("ramming", "轿车冲撞人群", "一辆轿车蓄意冲入人群，造成5人死亡、18人受伤。", "II"),
    ("school-attack", "幼儿园发生伤害儿童事件", "一男子闯入幼儿园持刀伤人，致11名儿童受伤。", "II"),
    ("explosion-case", "居民楼发生爆炸案", "警方通报，一起人为爆炸案件造成3人死亡、多人受伤。", "II"),
    # --- markers and vague tolls
    ("marker-II", "县政府启动防汛Ⅱ级应急响应", "受持续强降雨影响，县防指决定启动防汛二级应急响应。", "II"),
    ("vague-heavy", "工厂爆炸现场伤亡惨重", "现场一片狼藉，伤亡惨重，具体人数尚在统计。", None),
    ("rumour-held", "网传化工厂爆炸死亡数十人", "网传某化工厂爆炸已致数十人死亡，相关部门尚未回应。", None),
]

# Just below a threshold, where the text answers the question: no 5-hour clock.
BELOW = [
    ("493-deaths-9", "建筑工地坍塌", "工地基坑坍塌，事故造成9人死亡，无人员失踪。", "III"),
    ("493-deaths-near-ten", "矿山事故", "事故造成近十人死亡，具体人数正在核实。", None),
    ("493-serious-49", "扶梯事故", "事故造成49人重伤，其余乘客无大碍。", "III"),
    ("493-loss-4900", "厂房火灾", "火灾直接财产损失四千九百万元，未造成人员伤亡。", "III"),
    ("traffic-8", "大货车与面包车相撞", "事故造成8人死亡、3人受伤。", "III"),
    ("quake-4", "本县发生4.6级地震", "地震未造成人员伤亡和房屋倒塌，群众生产生活秩序正常。", "IV"),
    ("quake-5-sparse", "无人区发生5.4级地震", "震中位于人烟稀少的高原无人区，未收到人员伤亡报告。", "III"),
    ("food-99", "公司食堂食物中毒", "员工午餐后陆续出现腹泻症状，共96人就诊，均无生命危险，无死亡病例。", "IV"),
    ("food-100-no-death", "学校食堂疑似食物中毒", "共有一百余名学生出现呕吐症状，经治疗全部出院，无人死亡。", "III"),
    ("env-poisoned-40", "化工厂废气泄漏", "泄漏导致附近40名村民出现不适，经治疗已全部出院。", "III"),
    ("env-evacuated-8000", "工厂液氨泄漏", "泄漏后周边约8000名群众被疏散，无人员伤亡，险情已排除。", None),
    ("env-intake-town", "污染导致镇自来水厂暂停取水", "上游排污导致乡镇水厂暂停取水，镇区临时启用备用水源。", "III"),
    ("social-2-deaths", "持刀伤人事件", "嫌疑人持刀伤人，致2人死亡、3人受伤，已被警方抓获。", "IV"),
    ("social-800", "村民聚集讨要补偿", "约800名村民聚集在镇政府门口，经劝说后已散去。", "III"),
    ("flood-relocated", "暴雨致城区内涝 群众转移", "暴雨造成城区多处内涝，已转移群众2000余人，无人员伤亡。", None),
    ("blockade-3h", "村民堵路", "部分村民因补偿问题堵塞省道，交通中断约3小时后恢复。", None),
]


# The same rows in other everyday wordings (tolls that rise, shorthand, bodies, 共有, no event word):
# each must start the 5-hour clock.
WORDINGS = [
    ("煤矿事故死亡人数上升至十一人", ""),
    ("事故遇难者增至10人", ""),
    ("某市化工厂爆炸", "爆炸已造成10名工人不幸遇难。"),
    ("隧道施工事故", "事故造成包括3名儿童在内的11人死亡。"),
    ("工地事故", "现场11人经抢救无效死亡。"),
    ("渣土车侧翻压扁面包车", "事故已致11死3伤。"),
    ("金矿透水", "十一名矿工遇难。"),
    ("矿难遇难人数达到12人", ""),
    ("救援人员找到12具遗体", ""),
    ("确认12人罹难", ""),
    ("被困矿工全部遇难", "此前被困井下的10名矿工已全部遇难。"),
    ("暴雨致死亡和失踪人数达10人", ""),
    ("客车侧翻", "事故造成12人伤亡，伤亡人数还在统计。"),
    ("酒店食物中毒", "逾百人出现中毒症状，其中1人死亡。"),
    ("工厂氯气泄漏", "约五十名工人重伤。"),
    ("宴席食物中毒", "中毒人数超过百人，其中一人死亡。"),
    ("民房坍塌", "已造成死亡10人。"),
    ("火灾遇难人数升至10人", ""),
    ("化工企业爆炸事故", "事故已造成9人死亡、1人失踪。"),
    ("商场火灾", "死者共13人。"),
    ("高速连环相撞", "共有10人在事故中丧生。"),
    ("铁路道口事故", "火车与大巴相撞，车上乘客中有10名遇难。"),
    ("船只倾覆", "船上20人落水，目前已救起8人，12人仍下落不明。"),
    ("山体垮塌", "现场搜救出遗体10具。"),
    ("爆炸事故", "爆炸共造成10人死亡、5人重伤。"),
    ("工厂爆炸 已致10死", ""),
    ("养老院火灾", "火灾导致11名老人死亡。"),
    ("校车事故", "事故造成11名学生遇难。"),
    ("电梯坠落", "事故导致电梯内12名工人全部遇难。"),
    ("烟花爆竹仓库爆炸", "爆炸造成18死24伤。"),
    ("某地发生6级地震", ""),
    ("某县发生里氏6.5级地震", ""),
    ("震级为6.0的地震", ""),
    ("某地发生M6.4地震", ""),
    ("矿山透水事故 13人失联", "事故发生后13名矿工失联，救援正在进行。"),
    ("景区突发山洪 多名游客被冲走", "山洪冲走游客，目前已找到5具遗体，仍有7人失踪。"),
    ("违规排污导致县城饮用水源地污染", "县城水厂被迫停止供水。"),
    ("工厂爆炸", "爆炸造成直接经济损失5000万元。"),
    ("商场火灾", "火灾直接财产损失约一亿二千万元。"),
    ("群众聚集", "约1200人聚集在县政府门前。"),
    ("恶性伤人事件", "事件造成4人死亡。"),
    ("县城发生持刀伤人案", "嫌疑人持刀捅伤路人，致10人受伤。"),
    ("村民械斗", "两村村民发生大规模械斗，双方参与人数达300余人。"),
    ("群众冲击县政府", "数百名群众冲击县政府大楼，打砸办公设施。"),
    ("监狱发生暴动", ""),
    ("人感染禽流感", "该县报告1例人感染H5N6禽流感确诊病例。"),
    ("村民堵塞高速公路", "交通中断超过10小时。"),
    ("化工厂爆炸现场 大量人员伤亡", ""),
    ("江水污染流入下游邻省", ""),
    ("污染物随河水进入邻国", ""),
    ("接种疫苗后出现群体性不良反应 1名学生死亡", ""),
]


@pytest.fixture(scope="module")
def clf():
    return load_default()


@pytest.mark.parametrize("row,title,body,level", FIVE, ids=[r[0] for r in FIVE])
def test_every_major_row_starts_the_five_hour_clock(clf, row, title, body, level):
    d = clf.classify(title, body)
    assert d.clock == "5h", (row, d.level, d.reasons)
    if level is not None:
        assert d.level == level, (row, d.level, d.reasons)
    else:
        assert d.needs_review, (row, d.reasons)


@pytest.mark.parametrize("row,title,body,level", BELOW, ids=[r[0] for r in BELOW])
def test_just_below_a_row_is_not_a_five_hour_matter(clf, row, title, body, level):
    d = clf.classify(title, body)
    assert d.clock == "48h", (row, d.level, d.reasons)
    if level is not None:
        assert d.level == level, (row, d.level, d.reasons)


@pytest.mark.parametrize("title,body", WORDINGS, ids=[f"w{i:02d}" for i in range(len(WORDINGS))])
def test_everyday_wordings_of_major_rows_start_the_five_hour_clock(clf, title, body):
    d = clf.classify(title, body)
    assert d.clock == "5h", (title, body, d.level, d.reasons)
