"""Pull the graded facts (counts, money, magnitude) out of a report.

Duty officers read a report clause by clause and pair each count with the word
it counts ("3人死亡，2人受伤"; "死亡3人"; "7死23伤"). This module does the same:
inside one clause it lists the count mentions and the metric words in order
and binds each count to its neighbouring word. Counts need a person measure
word (人/名/位/例/口) or the 死/伤 shorthand, which keeps ages (17岁), times,
road numbers (208国道) and vehicles (百余辆车) out. Reports are cumulative, so
per metric the largest figure wins rather than a sum (rules.md §4.2).

Pure: text in, :class:`Facts` out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from .background import THIS_EVENT_RE, _remembered, may_have_background, opens_background
from .magnitude import _magnitude
from .numerals import CN_CHARS, INF, NumeralError, Quantity, normalise, parse_quantity

_PRE = "不少于|至少|最少|超过|多于|不足|不到|少于|将近|接近|大约|逾|近|约"
_NUM = rf"(?:\d+(?:\.\d+)?[{CN_CHARS}]*|[{CN_CHARS}]+)"
_BODY = (rf"(?:[数几上](?=[十百千万亿])[十百千万亿]+[余多来]?|{_NUM}(?:[余多来几][十百千万亿]*)?"
         rf"(?:(?:至|到|-|~)\d+(?:\.\d+)?[十百千万亿]*[余多]?)?)")
PERSON_RE = re.compile(
    rf"(?P<q>(?:{_PRE})?(?:{_BODY}|多|若干|数|几))(?P<m>名|人|位|例|口|具|个人|号人|个(?=[，,。；;！!？?、\s”\"）)]|$|还|仍|都|也|没|未)|号(?=工人|村民|群众|职工|业主))(?P<post>左右|上下|以上)?(?!次|民|类|们|员|士|选)"
    rf"|(?P<q2>(?:{_PRE})?{_BODY})(?=[死伤亡]|失联|失踪)"
)
MONEY_RE = re.compile(rf"(?P<q>(?:{_PRE})?(?:{_BODY}))(?:元|人民币)")
LOSS_RE = re.compile(r"(?<![无没未])(?:直接)?(?:经济|财产)?损失")
LOSS_NUM_RE = re.compile(rf"损失(?:达到?|约|超过|近|高达|为|上)?(?P<q>(?:{_PRE})?(?:{_BODY}))(?![元\d])")
BLOCKADE_RE = re.compile(
    rf"(?:国道|省道|高速公路|高速|铁路|干线|交通枢纽|车站|机场)[^。；;]{{0,30}}?(?:中断|阻断|堵塞|瘫痪|封堵|堵路)"
    rf"[^。；;\d{{CN_CHARS}}]{{0,6}}(?P<q>(?:{_PRE})?{_BODY})个?(?:多|半)?(?:小时|钟头)"
    rf"|(?:拦堵|堵塞|阻断|封堵|堵住|占据|围堵|拦截|堵)[^，。；]{{0,4}}?(?:国道|省道|高速公路|高速|铁路|干线)(?:[A-Za-z]*\d+线?)?"
    rf"[^。；;\d]{{0,8}}?(?P<q2>(?:{_PRE})?{_BODY})个?(?:多)?(?:小时|钟头)"
    rf"|(?:国道|省道|高速公路|铁路)(?:[A-Za-z]*\d+线?)?[^。；;]{{0,12}}?(?:堵了|被堵|堵住|堵塞了)"
    rf"(?P<q3>(?:{_PRE})?{_BODY})个?(?:多)?(?:小时|钟头)")
"""A main road or railway cut for hours (2006 standard: 国道、铁路干线、枢纽 8 hours → 特别重大)."""
CLAUSE_SPLIT = re.compile(r"[，,。；;！!？?\n\r]+")

# Metric words, longest first so 死伤 wins over 死, 伤亡 over 伤 (the regex takes the first
# alternative that matches at a position). Vocabulary: rules.md §4.1.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "casualties": ("伤亡", "死伤"),
    "missing": ("失踪", "失联", "下落不明", "生死未卜", "被掩埋", "被埋", "去向不明", "失去联系", "联系不上", "生死不明",
                "被冲走", "被卷走", "被洪水冲走", "未联系上", "没联系上", "仍未联系上", "仍在搜寻", "正在搜寻", "尚未找到", "仍未找到", "搜寻中", "搜救中", "没挖出来", "未挖出", "没救出来", "未被救出", "冲走", "没找着", "还没找到"),
    "serious_injuries": ("重伤", "危重", "病危", "伤势严重", "伤势较重", "伤情严重", "生命垂危", "重症", "伤重"),
    "deaths": ("死亡", "遇难", "罹难", "身亡", "丧生", "殒命", "丧命", "毙命", "遇害", "溺亡", "离世", "去世",
               "死者", "遇难者", "罹难者", "牺牲", "烧死", "熏死", "砸死", "压死", "撞死", "淹死", "炸死", "闷死",
               "砍死", "杀死", "摔死", "致死", "被杀", "遗体", "尸体", "抢救无效", "不治", "无生命体征", "没有生命体征",
               "没救过来", "没能救过来", "没抢救过来"),
    "injuries": ("受伤", "负伤", "伤者", "伤员", "轻伤", "轻微伤", "擦伤", "伤病员"),
    "poisoned": ("中毒", "发病", "不适", "症状", "病例", "患者"),
    "trapped": ("被困", "未能逃出", "没能逃出", "未逃出", "未能逃生", "未能升井", "未升井", "困在井下", "未能撤出", "未撤出", "未能撤离", "涉险", "受困", "困于",
                "坠落", "落水", "被卷入", "坠入水中"),
    "evacuated": ("疏散", "转移", "撤离", "安置", "避险"),
    "affected": ("受灾",),
    "participants": ("聚集", "围堵", "堵路", "静坐", "上访", "围住", "围镇政府", "围乡政府", "围县政府", "游行", "参与人数", "参与者", "参加人数", "参与械斗", "参加械斗",
                     "参与斗殴", "参与聚集"),
    "hospitalized": ("送医", "入院", "住院", "就医", "就诊", "留观", "送往医院", "送院"),
}
_SINGLE = {"死": "deaths", "亡": "deaths", "伤": "injuries"}
_COLLOQUIAL = {"死了": "deaths", "走了": "deaths", "没了": "deaths"}
"""死了十几个人 (a post, a witness) counts the dead; 热死了, 气死了 alone say nothing, so the word is never
noted as a death without a count."""
_WORD_METRIC = {w: m for m, ws in _KEYWORDS.items() for w in ws}
_ALL_WORDS = sorted([*_WORD_METRIC, *_COLLOQUIAL], key=len, reverse=True) + list(_SINGLE)
KEYWORD_RE = re.compile("|".join(re.escape(w) + ("(?![亡伤者])" if w.endswith("死") and len(w) > 1 else "")
                                  + ("(?!性)" if w == "聚集" else "")
                                  for w in _ALL_WORDS))
"""炸死 must not swallow the 死 of 爆炸死亡30人 (the count then bound to nothing)."""
NEGATION_RE = re.compile(r"(?:无|未|没有|暂无|尚无|未见|并无|不会)(?:造成)?(?:人员|人)?(?:[^，。；\d]{1,4}?[和、及与或])?$")
"""无人死亡 49人重伤: the death word is denied and the count after it belongs to 重伤; 无危重和死亡病例
denies both words of the list."""

VAGUE_CASUALTY_RE = re.compile(r"伤亡惨重|死伤惨重|大量人员伤亡|重大人员伤亡|死伤无数|死伤枕藉")

_MAX_AFTER_GAP = 24
"""Chars between a count and the word after it ("79名学生先后出现…中毒症状")."""
_MAX_BEFORE_GAP = 8
"""Chars between a word and the count after it ("死亡人数上升到27人")."""


@dataclass(frozen=True)
class Mention:
    metric: str
    quantity: Quantity
    evidence: str
    pos: int = -1
    """Offset of the clause in the text: lets a later sentence close (无人员伤亡) or reopen the toll."""
    extra: bool = False
    """Counted in addition to an earlier figure (另有3人经抢救无效死亡): rules.md §4.2, 另有 adds."""
    part: bool = False
    """Named as a part of the figure before it (其中危重12人): never added to it."""


@dataclass
class Facts:
    mentions: list[Mention] = field(default_factory=list)
    magnitude: float | None = None
    magnitude_evidence: str = ""
    unnumbered: set[str] = field(default_factory=set)
    """Metrics named without a count (部分学生被掩埋): noted, not graded."""
    vague_casualties: str = ""
    background: list[Mention] = field(default_factory=list)
    """Figures in background sentences (今年以来全市…死亡7人, 去年…): not this event's, not graded."""
    set_aside: list[str] = field(default_factory=list)
    """Numbers read but deliberately not graded (a building's population, a felt-like comparison)."""
    population: list[Quantity] = field(default_factory=list)
    """How many people a place or vehicle held (车上共有20名学生): the most that can be missing when the
    text says only 其余…下落不明."""
    loss_parts: bool = False
    """The losses listed are parts of one total (以上均为直接财产损失): they add up."""
    body_start: int = 0
    """Offset after the headline (the first line): a headline's figure is a summary, not a base to add to."""

    def get(self, metric: str) -> Quantity | None:
        """Largest figure for a metric; exact counts supersede wordings without digits."""
        found = [m for m in self.mentions if m.metric == metric]
        if not found:
            return None
        ms = [m.quantity for m in found]
        numeric = [q for q in ms if not q.vague] or ms
        best = max(numeric, key=lambda q: (q.low, q.high))
        high = max(q.high for q in numeric)
        if metric == "economic_loss" and self.loss_parts:
            parts = [m.quantity for m in found if not m.quantity.vague]
            if len(parts) >= 2:
                total = Quantity(sum(q.low for q in parts), sum(q.high for q in parts))
                if total.low > best.low:
                    best, high = total, max(high, total.high)
        if metric in ("deaths", "serious_injuries"):
            split = _split_toll(found, self.body_start) if metric == "deaths" else _split_serious(found)
            if split is not None and split.low > best.low:
                best, high = split, max(high, split.high)
        extras = [m for m in found if m.extra and not m.quantity.vague]
        if extras:
            # 7人当场死亡，另有3人…死亡: the figure before the first 另有, plus what is added (not the largest).
            # Only when no later figure states the new total (死亡人数升至9人), and never from the headline,
            # which already sums up.
            first = min(m.pos for m in extras)
            body = [m for m in found if not m.extra and not m.quantity.vague and m.pos >= self.body_start]
            before = [m.quantity for m in body if m.pos < first]
            if before and not any(m.pos > first for m in body):
                base = max(before, key=lambda q: (q.low, q.high))
                low = base.low + sum(m.quantity.low for m in extras)
                if low > best.low:
                    return Quantity(low, max(high, base.high + sum(m.quantity.high for m in extras)), open=base.open)
        return Quantity(best.low, high, open=best.open, vague=best.vague)

    def evidence(self, metric: str) -> str:
        q = self.get(metric)
        for m in self.mentions:
            if m.metric == metric and q is not None and m.quantity.low == q.low:
                return m.evidence
        return ""

    def to_json(self) -> dict:
        out: dict = {}
        for metric in dict.fromkeys(m.metric for m in self.mentions):
            q = self.get(metric)
            if q is not None:
                out[metric] = q.as_pair()
        if self.magnitude is not None:
            out["magnitude"] = [self.magnitude, self.magnitude]
        if self.unnumbered:
            out["unnumbered"] = sorted(self.unnumbered)
        return out


ON_SITE_RE = re.compile(r"当场|现场|遇难者|遗体")
LATER_DEATH_RE = re.compile(r"抢救无效|医治无效|送医途中|送医后|送院后|途中|不治|伤重")


def _split_toll(found: list[Mention], body_start: int) -> Quantity | None:
    """The body's two groups, else the headline's (9名老人遇难 1名护工不治): a headline figure is a summary and
    never a base for the body's later deaths (化工厂爆炸 死亡人数升至9人 … 又有3名伤员经抢救无效死亡)."""
    body = [m for m in found if m.pos >= body_start]
    return _split_groups(body) or _split_groups([m for m in found if 0 <= m.pos < body_start])


def _split_groups(found: list[Mention]) -> Quantity | None:
    """Deaths reported in two disjoint groups (7人当场死亡 … 4人经抢救无效死亡): those who died at the
    scene and those who died later are different people, so the toll is their sum (11, 重大 under 493号
    第三条), whichever order the report gives them in. The first group is the on-site one when named
    (当场, 遇难者, 遗体), else the figures given before the later deaths (9名老人遇难 1名护工不治). None unless both
    groups are stated with digits. Where the report also states the total, the total is never smaller."""
    body = [m for m in found if not m.quantity.vague]
    late = [m for m in body if LATER_DEATH_RE.search(m.evidence) and not ON_SITE_RE.search(m.evidence)]
    later = [m.quantity for m in late]
    first_late = min((m.pos for m in late), default=-1)
    on_site = [m.quantity for m in body if ON_SITE_RE.search(m.evidence)]
    plain = [m for m in body if m not in late and not ON_SITE_RE.search(m.evidence)]
    before = [m.quantity for m in plain if m.pos < first_late]
    after = [m.quantity for m in plain if m.pos > first_late]
    if before and any(q.low > max(b.low for b in before) for q in after):
        before = []  # a larger figure after the later deaths states the new total (事故已造成9人死亡)
    here = on_site or before  # 共造成9人死亡，其中7人当场死亡: the on-site part is the base, not the total
    if not here or not later:
        return None
    a = max(here, key=lambda q: (q.low, q.high))
    b = max(later, key=lambda q: (q.low, q.high))
    return Quantity(a.low + b.low, a.high + b.high, open=a.open or b.open)


CRITICAL_RE = re.compile(r"危重|病危|生命垂危")


def _split_serious(found: list[Mention]) -> Quantity | None:
    """危重12人，重伤41人: the critically and the seriously hurt listed side by side are different people
    (53, 重大 under 493号: 50 重伤). Not when the critical are named as part of the others (其中危重12人)."""
    body = [m for m in found if not m.quantity.vague]  # a headline's 危重12人重伤41人 lists two groups too
    crit = [m.quantity for m in body if CRITICAL_RE.search(m.evidence) and not m.part]
    hurt = [m.quantity for m in body if "重伤" in m.evidence and not CRITICAL_RE.search(m.evidence)]
    if not crit or not hurt:
        return None
    a = max(crit, key=lambda q: (q.low, q.high))
    b = max(hurt, key=lambda q: (q.low, q.high))
    return Quantity(a.low + b.low, a.high + b.high, open=a.open or b.open)


def _quantity(raw: str, post: str | None = None) -> Quantity | None:
    try:
        return parse_quantity(raw + (post or ""))
    except NumeralError:
        return None


def person_quantity(m: re.Match) -> Quantity | None:
    """The quantity a :data:`PERSON_RE` match counts (its number with 左右/以上 after it), or None."""
    return _quantity(m.group("q") or m.group("q2"), m.group("post") if m.group("q") else None)


_SENTENCE_RE = re.compile(r"[^。；;！!？?\n\r]+")
_CLAUSE_RE = re.compile(r"[^，,。；;！!？?\n\r]+")
_SEGMENT_SPLIT = re.compile(r"(?<=[^\d\s])\s+(?=[^\d\s])")
"""Headlines separate their parts with spaces: 起火致3人死亡 今年以来全市火灾已致12人死亡."""


LOSS_PARTS_RE = re.compile(r"以上(?:均为|都是|均属|合计|共计)[^，,。；;]{0,6}损失|(?:两|各)项(?:损失)?合计")


def extract(text: str, reported: dt.date | None = None) -> Facts:
    """Facts from already-normalised text (see :func:`responder.classify.numerals.normalise`). ``reported``, the
    report's date when known, lets a clause dated well before it open a background sentence."""
    facts = Facts(body_start=text.find("\n") + 1)
    any_background = may_have_background(text, reported)
    for sm in _SENTENCE_RE.finditer(text):
        background = False
        base = sm.start()
        for cm in _CLAUSE_RE.finditer(sm.group(0)):
            clause = cm.group(0)
            pos = base + cm.start()
            for seg, off in (_segments(clause) if any_background else ((clause, 0),)):
                if any_background:
                    if opens_background(seg, reported):
                        background = True
                    elif background and THIS_EVENT_RE.search(seg):
                        background = False
                here = background or (any_background and _remembered(seg))
                _clause(seg, facts, pos + off, here)
                _money(seg, facts, here)
                if not here:
                    every = ALL_DIED_RE.search(seg) is not None
                    if (every or THEN_DIED_RE.search(seg.strip())) and not PERSON_RE.search(seg):
                        _all_died(sm.group(0)[:cm.start()], facts, pos, only_unbound=not every)
    _magnitude(text, facts)
    _blockade(text, facts)
    m = VAGUE_CASUALTY_RE.search(text)
    if m:
        facts.vague_casualties = m.group(0)
    facts.loss_parts = LOSS_PARTS_RE.search(text) is not None
    return facts


ALL_DIED_RE = re.compile(r"(?:全部|均|都|全都|全员)(?:已|经抢救无效|抢救无效|不幸)?(?:死亡|遇难|身亡|罹难|丧生|没气|没了气|无生命体征)"
                         r"|无一生还")
"""5名工人先后进入化粪池施救，均中毒倒地，经抢救无效全部死亡; 捞上来13个人，全都没气了: the count given earlier
in the sentence died."""
THEN_DIED_RE = re.compile(r"^(?:后|最终|终因|但|随后|后经|经医院)?(?:经)?(?:全力)?(?:抢救|救治|医治)无效(?:死亡|身亡|离世)?|^不幸(?:死亡|身亡|离世|遇难)"
                          r"|^(?:送医后|送医途中)?不治身亡")
"""其中一名73岁老人因…脱水，经抢救无效死亡: the one person counted in the clause before died, when that count
was not already bound to a word of its own (3人受伤，经抢救无效死亡 stays open)."""


def _all_died(before: str, facts: Facts, pos: int, only_unbound: bool = False) -> None:
    """The last person count before a clause saying they all died, in the same sentence, is a death count."""
    last = None
    for m in PERSON_RE.finditer(before):
        last = m
    if last is None:
        return
    if only_unbound:
        end = CLAUSE_SPLIT.search(before, last.end())
        if KEYWORD_RE.search(before[last.end():end.start() if end else len(before)]):
            return
    q = person_quantity(last)
    if q is not None and q.high > 0:
        facts.mentions.append(Mention("deaths", q, before[last.start():last.end()] + "…全部死亡", pos))


def _segments(clause: str) -> list[tuple[str, int]]:
    """The clause, split at a headline space only where a background cue starts a new part."""
    if not may_have_background(clause, None):
        return [(clause, 0)]
    out, start = [], 0
    for m in _SEGMENT_SPLIT.finditer(clause):
        out.append((clause[start:m.start()], start))
        start = m.end()
    out.append((clause[start:], start))
    return [(seg, off) for seg, off in out if seg]


POPULATION_RE = re.compile(r"(车上|船上|车内|船内|机上|当班|井下作业人员|住有|居住(?:着|有)?|共有|共住|容纳|常住|入住|在校|在读|就读|在岗|户籍|人口|座位|载有|搭载|核载|实载|满载|乘坐)[^\d，]{0,8}$")
_GENERIC_TOTAL = ("共有", "共住", "载有", "搭载", "满载", "乘坐", "车上", "船上", "车内", "船内", "机上")
"""共有 opens a total of anything: 共有10人在事故中丧生 is a toll, 楼内共有300名居民 a population."""
"""A count after these words is how many people a place holds (楼内住有300余名居民), not how many were
at risk: rules.md §4.1 counts the dead, missing, injured and trapped, never a building's population."""


_RESIDENTS = ("常住", "户籍", "人口")
"""A township's 常住人口2.1万人 were never all in one place: no bound on who may be missing (probe set g)."""


ADDED_RE = re.compile(r"(?:另有|另外有|此外有|还有|又有|另)$")
"""A count added to one already given (另有2人失联: rules.md §4.2 — add, do not take the larger)."""


def _states_harm(after: str) -> bool:
    """The words after a count say what happened to those people (在事故中丧生, 出现呕吐症状)."""
    for m in KEYWORD_RE.finditer(after):
        if m.group(0) in _WORD_METRIC and _WORD_METRIC[m.group(0)] not in ("evacuated", "participants"):
            return not NEGATION_RE.search(after[max(0, m.start() - 6):m.start()])
    return False


def _clause(clause: str, facts: Facts, pos: int = -1, background: bool = False) -> None:
    tokens: list[tuple[int, int, str, object]] = []  # (start, end, kind, payload)
    for m in PERSON_RE.finditer(clause):
        raw = m.group("q") or m.group("q2")
        window = clause[max(0, m.start() - 12):m.start()]
        pop = POPULATION_RE.search(window)
        if pop and not (pop.group(1) in _GENERIC_TOTAL and (_states_harm(clause[m.end():m.end() + _MAX_AFTER_GAP])
                                                            or _states_harm(window[pop.end(1):]))):
            facts.set_aside.append(f"“{clause[max(0, m.start() - 6):m.end()]}”是场所容纳或居住的人数，不是伤亡或被困人数")
            q = _quantity(raw, m.group("post") if m.group("q") else None)
            if q is not None and not background and not any(w in pop.group(0) for w in _RESIDENTS):
                facts.population.append(q)
            continue
        q = _quantity(raw, m.group("post") if m.group("q") else None)
        if q is not None and q.high > 0:
            tokens.append((m.start(), m.end(), "N", q))
    for m in KEYWORD_RE.finditer(clause):
        word = m.group(0)
        if NEGATION_RE.search(clause[max(0, m.start() - 6):m.start()]):
            continue
        metric = _WORD_METRIC.get(word) or _COLLOQUIAL.get(word) or _SINGLE[word]
        tokens.append((m.start(), m.end(), "K", (word, metric)))
    if not tokens:
        return
    tokens.sort(key=lambda t: (t[0], t[2] == "K"))
    # Drop keywords overlapping a count (the 死 of "7死" is part of the shorthand, kept as K).
    claimed: set[int] = set()
    bound_n: set[int] = set()
    sink = facts.background if background else facts.mentions
    start_count = len(sink)
    for i, (s, e, kind, payload) in enumerate(tokens):
        if kind != "N":
            continue
        q = payload
        prev = tokens[i - 1] if i > 0 else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        target = None
        subset = (prev is not None and nxt is not None and nxt[2] == "K" and nxt[3][0] not in _SINGLE
                  and SUBSET_RE.search(clause[prev[1]:s]) is not None)
        if (prev is not None and prev[2] == "K" and (i - 1) not in claimed and not subset
                and s - prev[1] <= _MAX_BEFORE_GAP and prev[3][0] not in _SINGLE):
            target = i - 1
        elif nxt is not None and nxt[2] == "K":
            word = nxt[3][0]
            gap = nxt[0] - e
            if word in _SINGLE:
                if gap == 0:
                    target = i + 1
            elif gap <= _MAX_AFTER_GAP:
                target = i + 1
        if target is None:
            continue
        claimed.add(target)
        bound_n.add(i)
        metric = tokens[target][3][1]
        lo, hi = min(s, tokens[target][0]), max(e, tokens[target][1])
        died = _died_after(tokens, target, claimed, clause) if target == i + 1 else None
        if died is not None:
            # "3人中毒窒息死亡", "3名失联工人的遗体": the people counted died. A missing or trapped
            # count that ends in a death is a death only; any other state is kept as well.
            claimed.add(died)
            sink.append(Mention("deaths", q, clause[lo:tokens[died][1]], pos + lo if pos >= 0 else -1,
                                bool(ADDED_RE.search(clause[max(0, s - 4):s]))))
            if metric in ("missing", "trapped"):
                continue
        sink.append(Mention(metric, q, clause[lo:hi], pos + lo if pos >= 0 else -1,
                            bool(ADDED_RE.search(clause[max(0, s - 4):s])), clause[max(0, lo - 3):lo].endswith("其中")))
    _by_place(clause, sink, pos, start_count)
    if background:
        return
    for i, (s, e, kind, payload) in enumerate(tokens):
        if kind == "K" and i not in claimed and payload[0] not in _SINGLE and payload[0] not in _COLLOQUIAL:
            facts.unnumbered.add(payload[1])


PLACE_BEFORE_RE = re.compile(r"[镇乡村县区组]$|[镇乡村县区组](?:转移|疏散|安置|死亡|遇难|失联|受伤)$")


def _by_place(clause: str, sink: list, pos: int, start: int) -> None:
    """茭洲镇转移6200人、獭溪镇转移4100人: one figure per place, listed with 、, add up to the event's (10300,
    the environmental plan's 1万 row). Added as one more mention; the largest figure per metric wins."""
    new = sink[start:]
    by_metric: dict[str, list[Mention]] = {}
    for m in new:
        if not m.quantity.vague and m.pos >= 0:
            by_metric.setdefault(m.metric, []).append(m)
    for metric, ms in by_metric.items():
        if len(ms) < 2:
            continue
        offs = [m.pos - pos for m in ms]
        joined = all("、" in clause[offs[k] + len(ms[k].evidence):offs[k + 1]] for k in range(len(ms) - 1))
        placed = all(PLACE_BEFORE_RE.search(clause[max(0, o - 6):o + 2].split("、")[-1][:8] or "")
                     or PLACE_BEFORE_RE.search(clause[max(0, o - 3):o]) for o in offs)
        if joined and placed:
            q = Quantity(sum(m.quantity.low for m in ms), sum(m.quantity.high for m in ms))
            sink.append(Mention(metric, q, "、".join(m.evidence for m in ms), ms[0].pos))


SUBSET_RE = re.compile(r"中(?:有|的)?$")
"""伤者中有4人经抢救无效死亡: the count is a part of the group named before it and belongs to the word after."""

_CHAIN_GAP = 4
"""Chars between a count's word and a death word that still speaks of the same people (中毒窒息死亡)."""
_LATER_GAP = 12
LATER_DIED_RE = re.compile(r"不幸|最终|终因|抢救|医治|送医|送院|途中")
"""另有1名重伤者在医院抢救中不幸离世: a longer way from the state to the death, when the words between tell
how the person died later (the one death that makes the toll 10, 重大 under 493号)."""


def _died_after(tokens: list, k: int, claimed: set[int], clause: str = "") -> int | None:
    """Index of a death word right after keyword ``k`` (no count between), else None."""
    end = tokens[k][1]
    for j in range(k + 1, len(tokens)):
        s, _e, kind, payload = tokens[j]
        if kind == "N":
            return None
        if s - end > _CHAIN_GAP and not (s - end <= _LATER_GAP and LATER_DIED_RE.search(clause[end:s])):
            return None
        if payload[1] == "deaths" and j not in claimed and payload[0] not in _SINGLE:
            return j
        end = tokens[j][1]
    return None


def _money(clause: str, facts: Facts, background: bool = False) -> None:
    """Losses in one clause; a background clause's (去年全县火灾…损失2100万元) go to ``facts.background``."""
    sink = facts.background if background else facts.mentions
    if LOSS_RE.search(clause):
        found = False
        for m in MONEY_RE.finditer(clause):
            q = _quantity(m.group("q"))
            if q is not None and q.high > 0:
                sink.append(Mention("economic_loss", q, clause[max(0, m.start() - 8):m.end()]))
                found = True
        if not found:
            for m in LOSS_NUM_RE.finditer(clause):
                q = _quantity(m.group("q"))
                if q is not None and q.high > 0 and re.search("[万亿]", m.group("q")):
                    sink.append(Mention("economic_loss", q, m.group(0)))


def _blockade(text: str, facts: Facts) -> None:
    for m in BLOCKADE_RE.finditer(text):
        q = _quantity(m.group("q") or m.group("q2") or m.group("q3"))
        if q is not None and 0 < q.high < 24 * 365:
            facts.mentions.append(Mention("blocked_hours", q, m.group(0)))


def prepare(title: str, text: str) -> str:
    """Title and body as one normalised text; the title ends its own clause."""
    return normalise(f"{title}\n{text}") if text else normalise(title)


__all__ = ["Facts", "Mention", "extract", "prepare", "INF"]
