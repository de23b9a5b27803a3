"""What the text itself answers: the cue phrases and readings that close or keep open a fact that
decides the level (issue 20).

The conservative rule (missing and trapped people may be dead, a quake's population density is
unknown, a rumour's figures are unchecked) is for facts that are genuinely open. These readings say
where a report answers the question — a definitive 无人员伤亡, people moved to safety, a quake felt far
away with no damage here, a water intake cut by pollution — so the classifier applies the stricter
clock only where the doubt is real. Pure functions over normalised text.
"""

from __future__ import annotations

import re

from .extract import PERSON_RE, Facts, person_quantity
from .grade import RANK, Hit, fmt_value
from .background import in_background
from .numerals import INF, Quantity
from .route import Kind

RUMOUR_RE = re.compile(r"网传|网曝|网帖称|传言|谣传|网上流传|网民称|网友称|有消息称|据传|听说|据说|听人说")
BURIED_RE = re.compile(r"被(?:掩)?埋")
DEBUNK_RE = re.compile(r"(?:系|属|为|是)(?:谣言|不实信息|不实|虚假信息|编造)|纯属谣言|辟谣|网络谣言")
WEAK_DEBUNK_RE = re.compile(r"并未发生|不实|失实|不属实|与事实不符|并非事实")
"""A denial that debunks the story only when a claim is quoted (网传…, 关于“多人死亡”的说法不实); 并未发生有毒气体泄漏
in a report of an explosion denies one detail, not the event."""
CLAIM_RE = re.compile(r"说法|传言|传闻|消息|网传|网上|网络|视频|帖子|爆料|流传")


def debunk_phrase(title: str, head: str):
    """The phrase by which an item says the story is false, or None (see WEAK_DEBUNK_RE)."""
    for part in (title, head):
        m = DEBUNK_RE.search(part)
        if m:
            return m
    claimed = RUMOUR_RE.search(title) or RUMOUR_RE.search(head)
    for part in (title, head):
        for m in WEAK_DEBUNK_RE.finditer(part):
            if claimed or CLAIM_RE.search(part[max(0, m.start() - 14):m.start()]):
                return m
    return None
RESCUED_RE = re.compile(r"救出|获救|救起|救上岸|(?<!未能)(?<!未)升井|全部转移|均已转移|已被转移|转移疏散|疏散转移|成功转移|脱险|脱困|解救|营救出|全部救|(?:疏散|成功|已|先后)[、和及]?营救|被救|救下|救援出|"
                        r"安全转移|转移(?:至|到)安全|安全撤离|撤离(?:至|到)安全|安全疏散|已疏散|已撤离|全部撤离|均已撤离|"
                        r"安全撤出|全部撤出|均已撤出|平安|安然无恙|安全转运|转运上岸")
"""Evacuated, moved-to-safety and rescued people are not trapped (issue 20): rules §4.1 lists 被困 with
the missing because each may die; a person already out of danger cannot raise the toll."""
REMAINING_RE = re.compile(r"(?:仍有|尚有|还有|仍|尚|剩余|其余)$")
ALL_RESCUED_RE = re.compile(r"全部|全员|均|所有|悉数|都|无一")
STILL_TRAPPED_RE = re.compile(r"仍(?:被困|在井下|未|有)|尚(?:未|有)|正在(?:全力)?(?:救援|搜救|营救|施救)|救援(?:工作)?正在|生死不明|下落不明")
ALL_FOUND_RE = re.compile(r"(?:已全部|均已|全部|均|都已?)(?:找到|寻获|搜寻到|找回|打捞出水)"
                          r"|(?:失联|失踪)的?[^，,。；;]{0,16}?(?:被找到|已被找到|已找到|平安返回|已联系上)")
"""失联的9名矿工已全部找到，均已遇难: the missing and trapped are accounted for (as the dead, counted once)."""

# A statement that nobody was killed or hurt (issue 20). Only a definitive one closes the open toll
# (trapped, missing, 伤亡N人): "暂无人员伤亡报告" speaks of what is known so far and closes nothing.
NO_CASUALTY_RE = re.compile(
    r"(?<![其另余])(?:无|未|没有|并无|未发生|未出现|不存在)(?:造成|导致|发生)?(?:任何)?(?:人员)?(?:伤亡|死伤|死亡)(?!报告|情况报告)"
    r"|(?<![其另余])无人(?:员)?(?:伤亡|死亡|遇难|受伤|被困)|无一(?:人)?伤亡|人员(?:均|全部|都)(?:安全|平安|无恙)")
TENTATIVE_RE = re.compile(r"暂|尚|目前|初步|截至|报告|据了解")

# Felt far away (issue 20): the quake plan's 初判 grades the epicentre's area; a report that a distant
# or offshore quake was felt here is graded by what happened where it was felt.
QUAKE_ELSEWHERE_RE = re.compile(r"(?:邻省|外省|邻国|邻县|邻市|相邻|周边(?:省|市|县)|境外|(?:距|离)(?:我|本|该)?(?:市|县|区|镇|城区)[^，。；]{0,8}(?:公里|千米))"
                                r"[^。；]{0,20}?(?:\d(?:\.\d)?级|地震)")
EPICENTRE_DISTANCE_RE = re.compile(r"(?:震中|震源)[^。；，]{0,6}?(?:距|离|距离)(?:我|本)(?:市|县|区|镇|城区|省)[^，。；\d]{0,4}(\d+)(?:多)?(?:公里|千米)"
                                   r"|受[^，。；]{0,16}?地震(?:的)?影响")
"""震中距我县约150公里 (after the magnitude), 受某省6.5级地震影响: the epicentre is elsewhere. A distance under 50 km
may still be inside the county (距县城30公里的某镇), so it does not count."""
QUAKE_OFFSHORE_RE = re.compile(r"(?:海域|近海|远海|海上|海底)[^，。；]{0,12}?(?:\d(?:\.\d)?级|地震)")
FELT_RE = re.compile(r"震感|有感|感觉到|感到|晃动|摇晃|波及")
LOCAL_DAMAGE_RE = re.compile(r"倒塌|垮塌|坍塌|损毁|毁坏|受损|损坏|开裂|裂缝|掉落|伤亡|死亡|遇难|受伤|被困|失踪")
SERIOUS_LOCAL_RE = re.compile(r"倒塌|垮塌|坍塌|损毁|毁坏|受损|损坏|开裂|裂缝|伤亡|死亡|遇难|重伤|被困|失踪|被埋")
"""Local harm that keeps the epicentre's magnitude in play (the 5-hour clock stays): a building
damaged, a person dead, trapped or missing. Goods fallen from shelves and a light scrape do not."""
HURT_RE = re.compile(r"受伤|伤者|伤员|轻伤|擦伤|划伤|扭伤|磕伤")
FELL_RE = re.compile(r"掉落|脱落|坠落")
TRIVIAL_FALL_RE = re.compile(r"(?:商品|货物|物品|东西|杂物|杯|碗|盘|瓶|书|摆件|饰品|花盆)[^，。；]{0,6}?(?:掉落|掉下|落地|摔落|散落)")
"""Goods and household objects fallen: trivial. A wall, tiles or a ceiling falling (墙体掉落) is damage."""
LIGHT_INJURY_RE = re.compile(r"轻微|轻伤|擦伤|皮外伤|扭伤|划伤|磕伤")
MINOR_INJURED = 3
"""A few lightly hurt people where a distant quake was felt (probe set e): the rules grade a felt-far-away
report by what happened where it was felt; a handful of scrapes is not 较大 there."""
LOCAL_NONE_RE = re.compile(r"(?:无|未|没有|暂无|尚无|未收到|未接到|未发现|未见)(?:造成)?(?:任何)?(?:人员伤亡|伤亡|灾情|损失|房屋(?:倒塌|损坏|受损)|"
                           r"财产损失|险情|损坏|破坏|明显震感|震感)")
"""我县无震感 (a quake in a neighbouring country): nothing was felt here, so nothing happened here."""
_NEG_IN_CLAUSE = re.compile(r"(?:无|未|没有|暂无|尚无|并无)(?!限)")
_NEG_BEFORE = re.compile(r"(?:无|未|没有|暂无|尚无|未发现|未见|不|未收到|未接到)(?:造成|导致)?(?:人员|房屋|任何)?$")

# The environmental plan's qualitative rows (国办函〔2014〕119号 附件1; rules.md §2.3.8): pollution that
# interrupts the water intake of a centralised drinking source is 特别重大 for a 设区的市, 重大 for a
# 县级城市, 较大 for a 乡镇 (the last UNVERIFIED in rules.md).
INTAKE_CUT_RE = re.compile(r"(?:取水|供水|水源地?|水厂|自来水)[^。；，]{0,8}?(?:中断|暂停|停止|受阻|停运|关闭)|"
                           r"(?:停止|暂停|中断|关闭)[^。；，]{0,4}取水|启用(?:应急|备用)水源|大面积停水|(?:全城|全县|城区)[^。；，]{0,4}停水")
INTAKE_SCALE = (("I", re.compile(r"设区的市|地级市")), ("II", re.compile(r"县城|县级|城关|县自来水|全县|城区|市区")),
                ("III", re.compile(r"乡镇|镇区|镇自来水|集镇")))

# The environmental plan (国办函〔2014〕119号) grades evacuations caused by a release of pollutants;
# a crowd leaving a smoky mall is not a 突发环境事件.
POLLUTANT_RE = re.compile(r"泄漏|泄露|毒气|有毒|有害|污染|化学品|危化|化工|氯气|氨|硫化氢|苯|光气|氰|农药|油品|燃油|柴油|汽油|"
                          r"尾矿|废水|废气|排放|扩散|刺激性气味")
HAZARD_RE = re.compile(r"液氯|氯气|液氨|氨气|硫化氢|光气|氰化|苯|甲醛|硫酸|盐酸|硝酸|农药|危化品|危险化学品|有毒气体|毒气|"
                       r"化学品|油品|燃油|柴油|汽油|原油")
"""A hazardous substance named (not the bare word 化工): with a stated release it makes the evacuation the
environmental plan's own row."""
RELEASE_RE = re.compile(r"泄漏|泄露|毒气|有毒|有害|污染|废水|废气|排放|扩散|刺激性气味|毒烟|外溢|溢出")
"""A release named in words. A substance alone (化工园区 … 储罐起火 … 未造成人员伤亡) is a fire at a chemical
site whose people were moved as a precaution, not a 突发环境事件, when the text also closes the toll."""



def _open_missing(facts: Facts, text: str, closure=None):
    """Missing people who may still raise the toll. People only *buried* (被埋压) are closed, like
    the trapped, when the report says they were rescued (被埋压人员全部被救出); 失踪/失联 are not,
    unless a later, definitive statement says nobody was hurt (issue 20)."""
    q = facts.get("missing")
    if q is None:
        return None
    ms = [m for m in facts.mentions if m.metric == "missing"]
    if all(BURIED_RE.search(m.evidence) for m in ms) and RESCUED_RE.search(text) and not STILL_TRAPPED_RE.search(text):
        return None
    if closure is not None and all(0 <= m.pos < closure[0] for m in ms) and not STILL_TRAPPED_RE.search(text):
        return None
    if ALL_FOUND_RE.search(text) and not STILL_TRAPPED_RE.search(text):
        return None  # 失联9人已全部找到，均已遇难: they are the dead now, counted once
    return q


_INTAKE_NEGATED = re.compile(r"未|没|不|无|并非")


def intake_cut_phrase(text: str):
    """The first affirmed intake cut (取水口暂停取水), not a denied one (取水未中断, 没有停止取水)."""
    for m in INTAKE_CUT_RE.finditer(text):
        if not _INTAKE_NEGATED.search(m.group(0)) and not _INTAKE_NEGATED.search(text[max(0, m.start() - 2):m.start()]):
            return m
    return None


def _intake_cut(text: str):
    """(level, phrase, scale, scale unknown) when pollution cut a drinking-water intake, else None."""
    m = intake_cut_phrase(text)
    if m is None:
        return None
    # The clause that names the intake says whose it is (芦堰乡集镇供水站暂停取水 … 县城供水不受影响).
    a, b = clause_bounds(text, m.start(), m.end())
    for level, rx in INTAKE_SCALE:
        if rx.search(text[a:b]):
            return level, m.group(0), {"I": "设区的市", "II": "县级城市", "III": "乡镇"}[level], False
    for level, rx in INTAKE_SCALE:
        if rx.search(text):
            return level, m.group(0), {"I": "设区的市", "II": "县级城市", "III": "乡镇"}[level], False
    return "III", m.group(0), "乡镇（范围未说明）", True


def _closure(facts: Facts, text: str) -> tuple[int, str] | None:
    """Where the text states definitively that nobody was killed or hurt (无人员伤亡, 未造成人员伤亡):
    the toll read before that point is closed; a count after it (a later sentence) reopens it."""
    found = None
    for m in NO_CASUALTY_RE.finditer(text):
        start = max(text.rfind(c, 0, m.start()) for c in "，,。；;！!？?\n") + 1
        if TENTATIVE_RE.search(text[start:m.end() + 2]):
            continue
        found = (m.start(), m.group(0))
    return found


CAUSE_RE = re.compile(r"(?:(?:查明|证实|认定|经查|调查发现)(?:系|为|是)?|实为|实系)(?P<what>[^，。；\s]{2,24})")
STILL_BURIED_RE = re.compile(r"(?:其余|剩余|其他)(?:人员|的人|群众|居民|工人)?(?:仍|尚|还)?(?:被埋|被掩埋|被埋压)")
"""已救出23人，其余人员仍被埋压: how many are still under the rubble is not said, so the toll stays open."""

BODY_FOUND_RE = re.compile(r"遗体|尸体|打捞")


def _open_trapped(facts: Facts, text: str, closure=None):
    """Trapped people who may still die, and why the others are closed (rules §4.1 lists 被困 with the
    missing). Rescued, evacuated or moved to safety closes them; a partial rescue (已救出3人) only
    lowers the count; a definitive 无人员伤亡 after the count closes it."""
    ms = [m for m in facts.mentions if m.metric == "trapped"]
    if not ms:
        return None, None
    q = facts.get("trapped")
    still = STILL_TRAPPED_RE.search(text)
    if closure is not None and not still and all(0 <= m.pos < closure[0] for m in ms):
        return None, f"被困{_qty(q)}人：文中随后称“{closure[1]}”，不按可能死亡计"
    if ALL_FOUND_RE.search(text) and not still:
        return None, f"被困{_qty(q)}人：文中称已全部找到，不按可能死亡计"
    remaining = [m for m in ms if m.pos >= 0 and REMAINING_RE.search(text[max(0, m.pos - 4):m.pos])]
    if remaining:
        # 已升井36人，仍有11人被困: the count after 仍有 is what is left; the rescued are not taken off it.
        return max((m.quantity for m in remaining), key=lambda x: (x.low, x.high)), None
    saved: set[float] = set()
    for r in RESCUED_RE.finditer(text):
        a, b = clause_bounds(text, r.start(), r.end())
        clause = text[a:b]
        counts = [x for x in _rescue_counts(clause, r.start() - a, r.end() - a) if x > 0]
        if ALL_RESCUED_RE.search(clause) or not counts:
            if still:
                continue
            return None, f"被困{_qty(q)}人：文中称“{r.group(0)}”，已脱离危险，不按可能死亡计"
        saved.update(counts)
    # A headline repeats the body (5人升井 … 其中5人自行升井): the same figure twice is counted once, which
    # can only leave more people open, never fewer.
    rescued = sum(saved)
    # 10名学生落水…4人被救起，6人遗体已被找到: the bodies found are of the people trapped, not more of them.
    found = sum(m.quantity.low for m in facts.mentions
                if m.metric == "deaths" and not m.quantity.vague and BODY_FOUND_RE.search(m.evidence))
    if rescued or found:
        aboard = max((p.high for p in facts.population if p.high != INF), default=0)
        net = bool(aboard) and rescued + found + q.high <= aboard
        # 当班下井28人，16人自行升井，12人被困: the 12 are those still down, already net of the 16
        if rescued + found >= q.low and not still and not net:
            how = "、".join(x for x in (f"获救{fmt_value(rescued)}人" if rescued else "",
                                        f"找到遗体{fmt_value(found)}人" if found else "") if x)
            return None, f"被困{_qty(q)}人已{how}，均有下落，不按可能死亡计"
        left = 0 if net else rescued + found
        rest = Quantity(max(q.low - left, 0), max(q.high - left, 0), open=q.open, vague=q.vague)
        if facts.population and "trapped" in facts.unnumbered:
            # 当班15人，其中5人升井，其余人员被困 (and a headline's 9人被困, already net of the 5): those on shift
            # less the saved and the dead known is the bound that cannot be too low.
            dead = facts.get("deaths")
            bound = aboard - rescued - (dead.low if dead else 0)
            if bound > rest.high:
                rest = Quantity(bound, bound)
        return rest, None
    return q, None


DEAD_AFTER_RE = re.compile(r"[^，,。；;]{0,3}?(?:遇难|死亡|遗体|尸体|罹难)")


def _rescue_counts(clause: str, start: int, end: int) -> list[float]:
    """The people a rescue word counts: the count just before it (5人升井) or just after it (救出5人). A headline
    that packs a whole story into one clause (15人中5人升井 1人遇难9人被困) rescued 5, not 30."""
    matches = list(PERSON_RE.finditer(clause))
    before = [m for m in matches if 0 <= start - m.end() <= 8]
    after = [m for m in matches if 0 <= m.start() - end <= 6]
    near = before[-1:] or after[:1]
    if not near:
        return _person_count(clause)
    if DEAD_AFTER_RE.match(clause, near[0].end()):
        return []  # 搜救出3名遇难矿工: bodies brought out, nobody saved
    return [q.high for q in map(person_quantity, near) if q is not None]


def _person_count(clause: str) -> list[float]:
    return [q.high for q in map(person_quantity, PERSON_RE.finditer(clause)) if q is not None]


_CLAUSE_ENDS = "，,。；;！!？?\n"


def clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the clause holding ``text[start:end]`` begins and ends."""
    a = max(text.rfind(c, 0, start) for c in _CLAUSE_ENDS) + 1
    b = min([i for i in (text.find(c, end) for c in _CLAUSE_ENDS) if i >= 0] or [len(text)])
    return a, b


def _affirmed(rx: re.Pattern, text: str) -> str | None:
    """The first match of ``rx`` that is not negated (无房屋倒塌 is no collapse)."""
    for m in rx.finditer(text):
        start = max(text.rfind(c, 0, m.start()) for c in "，,。；;！!？?\n") + 1
        # The negation covers a coordinated list: 未发现人员伤亡和房屋倒塌.
        if not _NEG_BEFORE.search(text[max(0, m.start() - 8):m.start()]) and not _NEG_IN_CLAUSE.search(text[start:m.start()]):
            return m.group(0)
    return None


def _felt_elsewhere(kind: Kind, std, facts: Facts, text: str):
    """A quake whose epicentre is elsewhere (邻省…发生5.7级地震) or offshore (海域), reported where it was
    felt: ("none", phrase) when no damage is reported here, ("minor", phrase) when only trivial effects
    are (goods fell, a light scrape: graded like "none"), ("damage", phrase) when some is (the
    magnitude then counts as before), ("silent", phrase) when the text does not say. The quake plan
    (2012) grades the epicentre's area by magnitude and population; this county answers for what
    happened here (issue 20)."""
    if kind.id != "earthquake" or facts.magnitude is None or "交界" in text:
        return None
    m = QUAKE_OFFSHORE_RE.search(text)
    if m is None:
        m = QUAKE_ELSEWHERE_RE.search(text) or _far_epicentre(text)
        if m is None or not FELT_RE.search(text):
            return None
    phrase = m.group(0)
    if any(facts.get(x) for x in ("deaths", "missing", "serious_injuries", "trapped", "casualties")):
        return ("damage", phrase)
    inj = facts.get("injuries")
    if inj is not None and not (inj.high <= MINOR_INJURED and LIGHT_INJURY_RE.search(text)):
        return ("damage", phrase)
    if inj is None and _affirmed(HURT_RE, text):
        return ("damage", phrase)  # people hurt, how many unknown
    if _affirmed(SERIOUS_LOCAL_RE, text) or _affirmed(FELL_RE, TRIVIAL_FALL_RE.sub("", text)):
        return ("damage", phrase)
    if inj is not None or TRIVIAL_FALL_RE.search(text):
        return ("minor", phrase)
    if LOCAL_NONE_RE.search(text):
        return ("none", phrase)
    return ("silent", phrase)


def _qty(q) -> str:
    return _range(q.low, q.high) + ("以上" if q.open else "")


def _range(lo: float, hi: float) -> str:
    if lo == hi:
        return fmt_value(lo)
    if hi == INF:
        return f"{fmt_value(lo)}以上（上限不详）"
    return f"{fmt_value(lo)}—{fmt_value(hi)}"


def _top_per_metric(hits: list[Hit], rank: int) -> list[Hit]:
    seen: set[str] = set()
    out = []
    for h in hits:
        if RANK[h.rule.level] == rank and h.rule.metric not in seen:
            seen.add(h.rule.metric)
            out.append(h)
    return out



def _described_rows(std, facts: Facts, stated: dict, possible: dict, text: str):
    """The plan's criteria in words that the text affirms (跨省界污染, not 未造成跨省界影响), with the phrase.
    A metric named without a count (接种疫苗后死亡) counts as one for a row's ``also``."""
    out = []
    for row in std.described:
        phrase = _affirmed(row.pattern, text)
        if phrase is None:
            continue
        values = {**{m: 1.0 for m in facts.unnumbered}, **(possible if row.strict else stated)}
        if all(values.get(m, 0) >= b for m, b in row.also):
            out.append((row, phrase))
    return out


def _rescued_count(text: str) -> float:
    """People counted in rescue clauses (已救起8人)."""
    total = 0.0
    for r in RESCUED_RE.finditer(text):
        a, b = clause_bounds(text, r.start(), r.end())
        total += sum(x for x in _rescue_counts(text[a:b], r.start() - a, r.end() - a) if x > 0)
    return total


def _missing_of_population(facts: Facts, text: str, closure=None):
    """(people unaccounted for, total) when the text says only that the rest are missing (车上共有20名学生，
    已救起8人，其余下落不明): the place's population less those rescued. None when it gives a count."""
    if (not facts.population or not facts.unnumbered & {"missing", "trapped"} or closure is not None
            or facts.get("missing") is not None or facts.get("trapped") is not None):
        return None
    total = max(q.high for q in facts.population if q.high != INF) if any(q.high != INF for q in facts.population) else 0
    left = total - _rescued_count(text)
    return (left, total) if left > 0 else None


BLOCKERS_RE = re.compile(r"(?:村民|群众|民众|工人|业主|居民|家属|学生|人群|人员|商户|司机)[^。；]{0,16}?(?:堵|拦|围|阻断|占据|静坐|卧轨|设置路障)"
                         r"|堵路|拦路|设置路障|卧轨")
"""People blocking the road: the 2006 standard's 阻断交通 row is about a crowd, not fog or snow."""


def _far_epicentre(text: str):
    for m in EPICENTRE_DISTANCE_RE.finditer(text):
        if m.group(1) is None or int(m.group(1)) >= 50:
            return m
    return None


RUMOUR_QUOTE_RE = re.compile(r"(?:网传|传言|谣传|网曝|有人说|据说)[“\"「][^”\"」]*$")
OTHER_DIAGNOSIS_RE = re.compile(r"(?:系|为|是|确诊为)(?:普通|一般)?[^，,。；;“”]{0,8}(?:肺炎|感冒|流感|恙虫病|胃肠炎|肠炎|皮炎)|排除[^，,。；;]{0,6}(?:鼠疫|霍乱|炭疽)")
EXCLUDED_BEFORE_RE = re.compile(r"(?:排除|并非|不是|未发现|没有|无)[^，,。；;]{0,4}$")
FOUND_AGAIN_RE = re.compile(r"找回|追回|寻回|已收回")


def escalation_word(rx, text: str) -> str | None:
    """An event type known to escalate (issue 4), unless the text says it is over: a lost source found
    again. A plague, cholera or anthrax case keeps the stricter clock even with its count stated below
    the plan's 重大 row (1例肺炭疽 is 较大 by rules.md §2.3.6): these spread within days, and the rows for
    spread (linked cases in a second county or city) are seldom in the first report."""
    for m in rx.finditer(text) if rx else ():
        word = m.group(0)
        if in_background(text, m.start()):
            continue  # 老人说五几年溃坝淹死几百人: a remembered dam break is no escalating event now
        if word.startswith("放射源") and FOUND_AGAIN_RE.search(text):
            continue
        if ((RUMOUR_QUOTE_RE.search(text[max(0, m.start() - 16):m.start()]) and OTHER_DIAGNOSIS_RE.search(text))
                or EXCLUDED_BEFORE_RE.search(text[max(0, m.start() - 8):m.start()])):
            continue  # 网传“县医院收治鼠疫病人” 县卫健委：系普通肺炎; 检测排除鼠疫
        return word
    return None
