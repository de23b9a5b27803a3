"""Issue 20's four false-alarm classes in further wordings of our own (generalisation round).

tests/test_classify_false_alarms.py holds one rule per class with its counterpart; these are other
texts for the same classes, written for this file (fictional places, not copied from the corpus or a
probe set), so the rules are not tied to one phrasing. Each false alarm teaches people to ignore the
next 5-hour clock; the counterparts below must still start it (missing one is worse).
"""

from __future__ import annotations

import pytest

from responder.classify import load_default

# Where the text answers the question: no 5-hour clock.
NOT_FIVE = {
    "never_at_risk": [  # class a: never at risk
        ("化工园区一储罐起火 园区1.5万名职工有序撤离", "储罐起火后，园区按预案组织职工撤离，明火于两小时后扑灭，事故未造成人员伤亡。"),
        ("某小学发生火情 800余名师生安全疏散", "学校一间储物室冒烟，全校800余名师生在10分钟内疏散至操场，火情很快被扑灭，无人受伤。"),
        ("高层住宅起火 楼内百余名居民被疏散", "火灾发生后，消防员疏散楼内居民100余人，起火房屋内无人，所幸没有造成人员伤亡。"),
        ("暴雨致景区山洪 1200名游客被紧急转移", "景区管理方提前发布预警，1200余名游客全部转移至安全地带，无人员伤亡。"),
        ("地铁隧道冒烟 列车上300余名乘客撤离", "列车在区间停车后，工作人员引导车上300余名乘客步行撤离至车站，未有人员受伤。"),
        ("电梯故障 12名乘客被困半小时", "救援人员赶到后将12名乘客全部救出，均无大碍。"),
        ("游船发动机故障 船上46名游客滞留湖心", "海事部门派出救援船只将46名游客全部接回岸边，无人员伤亡。"),
        ("矿井停电 井下56名矿工安全升井", "因供电线路故障，井下56名矿工全部安全升井，未造成人员伤亡。"),
        ("商场火灾 上千名顾客撤离", "商场一层店铺起火，上千名顾客有序撤离，火灾未造成人员死亡，仅1名店员轻微呛伤。"),
        ("洪水围困村庄 60余名村民被困后获救", "消防救援人员用冲锋舟将被困的60余名村民全部转移，未发生伤亡。"),
        ("学校宿舍楼起火", "该宿舍楼住有学生600余人，起火时学生均在教室上课，火灾未造成人员伤亡。"),
        ("医院住院部配电室起火", "住院部共有患者300余名，医护人员将靠近起火点的40余名患者转移，无人员伤亡。"),
    ],
    "felt_far_away": [  # class b: felt far away
        ("外省发生6.8级地震 本市部分高楼有震感", "外省某地发生6.8级地震，本市部分高层住宅居民感到明显摇晃。据应急部门了解，本市未接到人员伤亡和房屋损坏报告。"),
        ("邻国发生7.2级强震 我县有轻微震感", "邻国发生7.2级地震，我县部分群众反映有轻微震感，经排查未发现灾情。"),
        ("近海发生5.9级地震 沿海多市有感", "某近海海域发生5.9级地震，沿海城市普遍有感，各地均未收到人员伤亡和财产损失报告。"),
        ("相邻省份6.0级地震 我市震感明显", "相邻省份发生6.0级地震，我市震感明显，不少市民跑到楼下避险。目前全市无人员伤亡，未发现房屋倒塌。"),
        ("居民反映夜间楼房晃动 疑似地震", "多名居民称夜间感觉楼房晃动，好像发生了5级左右的地震。地震部门称当晚本地区未发生地震，晃动系附近工地施工所致。"),
        ("采石场爆破引发震感", "附近村民称震感堪比4级地震，部分窗户玻璃被震碎，无人员受伤。"),
    ],
    "reassurance": [  # class c: reassurance is not a debunk
        ("化工厂异味引关注 官方：空气质量正常 不会对健康造成影响", "生态环境部门监测显示，周边空气各项指标正常，异味系厂区检修所致，不会对居民健康造成影响。"),
        ("县城停电 供电公司：已恢复正常", "因线路故障，县城部分区域停电约2小时，目前供电已全部恢复正常。"),
        ("自来水发黄 水务部门：水质达标 可放心饮用", "水务部门称，管网冲洗导致部分小区自来水短暂发黄，经检测水质符合标准。"),
        ("景区游客拥挤 景区：已限流 秩序井然", "景区节假日客流较大，管理方启动限流措施，目前景区秩序良好。"),
        ("网传某医院发生医闹 医院：系患者家属情绪激动 已妥善处理", "医院表示，当天一名患者家属因对诊疗不满在门诊大厅争吵，经调解已离开，未发生人员受伤。"),
        ("网传高速大堵车 交警：车流量大 正常通行", "交警部门表示，因节假日车流量大，部分路段车辆行驶缓慢，未发生交通事故。"),
        ("网传我县某校学生集体中毒 县教体局：系谣言", "经核查，该校仅有2名学生因感冒就医，网传信息不实。"),
        ("网传某镇发生枪击案 警方辟谣", "警方表示，该视频系外地旧视频，本地未发生相关案件。"),
    ],
    "background": [  # class d: background figures
        ("一货车侧翻致1人受伤", "货车在弯道侧翻，司机受轻伤。据统计，全县去年共发生道路交通事故126起，死亡38人。"),
        ("一民房起火 无人员伤亡", "某村一民房起火，无人员伤亡。今年1至10月，全县共发生火灾213起，死亡11人，直接财产损失2800万元。"),
        ("某工地发生高处坠落事故1人死亡", "一名工人从脚手架坠落死亡。近三年来，全市建筑施工领域共发生事故17起，死亡21人。"),
        ("池塘溺水事故 1名儿童身亡", "一名儿童在池塘边玩耍时不慎落水身亡。据统计，我省每年因溺水死亡的中小学生超过百人。"),
        ("某化工厂发生小型泄漏", "泄漏很快被控制，无人员受伤。该企业曾在2015年发生爆炸，造成14人死亡。"),
        ("春运首日交通平稳", "春运首日全县道路交通平稳，未发生亡人事故。去年春运期间全县发生交通事故12起，造成13人死亡。"),
        ("全市安全生产形势通报", "今年以来，全市共发生各类生产安全事故45起，死亡51人，同比下降12%。"),
        ("县里召开防汛工作会议", "会议通报，去年汛期洪涝灾害造成全县12人死亡、3人失踪，直接经济损失3.2亿元。"),
    ],
}

# The same situations where the text does not answer it: the 5-hour clock runs.
STILL_FIVE = [
    ("化工园区储罐泄漏 园区1.5万名职工紧急撤离", "储罐发生泄漏，刺激性气体向周边扩散，园区1.5万名职工和周边居民紧急撤离。"),
    ("某小学发生火灾", "学校教学楼起火，大部分师生已疏散，仍有10余名学生被困在四楼，消防员正在营救。"),
    ("外省发生6.8级地震 本市多处房屋倒塌", "外省某地发生6.8级地震，本市多处老旧房屋倒塌，造成3人死亡。"),
    ("网传化工厂爆炸死亡多人 官方：事故造成12人死亡", "网传某化工厂爆炸死亡人数超过百人的消息不实，经核实，事故造成12人死亡、30人受伤。"),
    ("一煤矿发生瓦斯爆炸 12人遇难", "事故造成12名矿工遇难。去年全省煤矿事故共死亡23人。"),
    ("电梯故障 12名乘客被困", "电梯在运行中突然坠落至负一层，轿厢内12名乘客被困，救援人员正在破拆施救。"),
]


@pytest.fixture(scope="module")
def clf():
    return load_default()


CASES = [(cls, t, b) for cls, rows in NOT_FIVE.items() for t, b in rows]


@pytest.mark.parametrize("cls,title,body", CASES, ids=[f"{c}-{i}" for i, (c, _t, _b) in enumerate(CASES)])
def test_text_that_answers_the_question_gives_no_five_hour_clock(clf, cls, title, body):
    """Evacuees and a building's population are not casualties (rules §4.1); a quake felt far away is graded
    by what happened here; reassurance is not a debunk; background statistics are not this event's toll."""
    d = clf.classify(title, body)
    assert d.clock == "48h", (cls, title, d.level, d.reasons)


@pytest.mark.parametrize("title,body", STILL_FIVE, ids=[f"five-{i}" for i in range(len(STILL_FIVE))])
def test_the_counterparts_still_start_it(clf, title, body):
    d = clf.classify(title, body)
    assert d.clock == "5h", (title, d.level, d.reasons)
