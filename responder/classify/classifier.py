"""Severity, category and routing of one public-opinion item, with reasons in Chinese.

Which response clock runs depends on one judgement: does the item concern a
特别重大 (I) or 重大 (II) emergency? Then an authoritative release is due in
5 hours; otherwise a response within 48 hours (石政公办〔2022〕1号 附件1 第23项,
国办发〔2016〕80号). Missing a major event costs the county its promise; a false
alarm costs a phone call, so the classifier is conservative: whatever the text
leaves open (vague counts, missing people, population density, event types
that escalate) may start the 5-hour clock, always with ``needs_review`` so a
person confirms or downgrades it.

``level`` is what the stated facts and explicit markers support; ``clock`` is
the stricter of that and what the open facts could reach. Pure: no clock, no
I/O after construction.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from responder.data import load_domains

from .cues import (BLOCKERS_RE, BURIED_RE, DEBUNK_RE, escalation_word, RESCUED_RE, RUMOUR_RE, STILL_BURIED_RE,
                   WEAK_DEBUNK_RE, _closure, _described_rows, _felt_elsewhere, _intake_cut, _missing_of_population,
                   _open_missing, _open_trapped, _qty, _top_per_metric, debunk_phrase)
from .extract import Facts, extract
from .headlines import no_event_now
from .event_type import SYMPTOMS_RE, settle_kind
from .grade import BY_RANK, LEVEL_NAMES, RANK, Thresholds, fmt_value, grade, load_thresholds, parse_level, reason_for
from .numerals import normalise
from .route import DomainMatcher, Kind, Routing, Segmenter, is_outside, kind_scores, load_routing, routing_words, top_kind
from .values import cases_seen, evacuation_rank, values

NOT_THIS_LEVEL_BEFORE = re.compile(r"防范|遏制|防止|杜绝|避免|预防|坚决|严防|涉及|对于|针对|分为|包括|标准|"
                                   r"(?:将|可|应|需|才|拟|时|的[，,])启动")
"""…的，启动Ⅱ级响应, 县防指将启动Ⅰ级应急响应: a plan's rule for when a level applies, not a level declared now."""
LEVEL_LIST_AFTER = re.compile(r"[、和及与或]")
LEVEL_COUNTED_AFTER = re.compile(r"[^，。；]{0,2}?(?:\d+|[一二三四五六七八九十两几]+)次")
"""其中Ⅲ级响应2次: responses counted over a year's statistics, not this event's level."""
LIST_JOINERS = ("、", "和", "及", "与", "或")
"""A level named in a policy sentence or a list of levels (特别重大、重大、较大和一般) is not this event's."""
FIVE_HOUR_RANK = RANK["II"]
RIVAL_MIN_SCORE = 2
"""A second kind counts as a rival reading when named twice in the body or once in the headline."""
OFFICE = "县政务公开办"
CLOCK_5H = "涉及特别重大、重大突发事件：5小时内发布权威信息，24小时内举行新闻发布会（石政公办〔2022〕1号附件1第23项；国办发〔2016〕80号）"
CLOCK_48H = "其他舆情：48小时内予以回应（石政公办〔2022〕1号附件1第23项；国办发〔2016〕61号）"
_HEAD_CHARS = 240
"""Opening of the body used for routing and place detection: the lead says who and where."""

class ClassifyError(ValueError):
    """The input cannot be classified (not text); the message says why."""


@dataclass(frozen=True)
class Decision:
    level: str | None
    level_name: str | None
    category: str | None
    domain: str | None
    department: str | None
    co_departments: tuple[str, ...]
    clock: str
    needs_review: bool
    reasons: tuple[str, ...]
    facts: dict = field(default_factory=dict)
    doubts: tuple[str, ...] = ()
    """For a 5-hour clock the stated facts do not reach: the unknown or contradictory facts that drove it."""
    set_aside: tuple[str, ...] = ()
    """Numbers read and deliberately not graded (evacuated, background, felt far away), with why."""

    def to_json(self, id=None) -> dict:
        """Exactly the ``--jsonl`` fields other tools read."""
        return {"id": id, "level": self.level, "level_name": self.level_name, "category": self.category,
                "domain": self.domain, "department": self.department, "clock": self.clock,
                "needs_review": self.needs_review, "reasons": list(self.reasons)}


class Classifier:
    """Holds the loaded data files; :meth:`classify` is pure and thread-safe."""

    def __init__(self, thresholds: Thresholds, routing: Routing):
        self.thresholds = thresholds
        self.routing = routing
        self._seg = Segmenter(routing_words(routing))
        self._domains = DomainMatcher(routing, self._seg)

    @classmethod
    def from_paths(cls, thresholds: Path, routing: Path, domains: Path) -> "Classifier":
        th = load_thresholds(thresholds)
        doms = load_domains(domains)
        return cls(th, load_routing(routing, doms, set(th.standards)))

    # ------------------------------------------------------------------ public
    def classify(self, title: str, text: str = "", *, declared_level: str | None = None,
                 declared_category: str | None = None, reported: dt.date | dt.datetime | None = None) -> Decision:
        """``reported`` is when the report was published, if known: a toll dated months or years before it
        (2016年11月3日…12名矿工遇难 in a 2026 feature) is another event's."""
        if not isinstance(title, str) or not isinstance(text, str):
            raise ClassifyError("title 和 text 必须是文本 / title and text must be strings")
        if not title.strip() and not text.strip():
            raise ClassifyError("标题和正文都为空，无法判断 / empty title and text")
        ntitle, nbody = normalise(title), normalise(text)
        full = f"{ntitle}\n{nbody}"
        head = nbody[:_HEAD_CHARS]
        reasons: list[str] = []
        review: list[str] = []

        declared = None
        if declared_level is not None and str(declared_level).strip():
            declared = parse_level(declared_level)
            if declared is None:
                review.append(f"来源标注的等级“{declared_level}”无法识别，已忽略")
        ranked = kind_scores(self.routing, ntitle, nbody, self._seg)
        kind, _score, kind_words = top_kind(self.routing, ranked)
        kind, kind_words = settle_kind(self.routing, self._seg, kind, kind_words, full, reasons)
        if declared_category:
            kind = self._declared_kind(declared_category, kind, reasons)
        not_now = no_event_now(ntitle)
        if not_now is not None:
            return self._ordinary(ntitle, head, [not_now], review)
        markers = self._markers(full)
        facts = extract(full, reported.date() if isinstance(reported, dt.datetime) else reported)

        if kind is None:
            casualties = (any(facts.get(m) for m in ("deaths", "missing", "serious_injuries", "casualties", "trapped"))
                          or bool(facts.unnumbered & {"deaths", "missing"}))  # 女孩不幸身亡: a death, no count
            crowd = self._crowd_kind(facts, full)
            if crowd is not None:
                kind, kind_words = crowd, []
        if kind is None:
            if not (markers or declared or casualties or self._escalates(full)):
                return self._ordinary(ntitle, head, reasons, review)
            kind = min((k for k in self.routing.kinds if k.standard == "safety_493"), key=lambda k: k.id != "safety")
            review.append("未能判断事件类型，暂按生产安全事故标准分级")
            kind_words = []
        before = (list(reasons), list(review))
        decision = self._emergency(kind, kind_words, facts, markers, declared, full, ntitle, head, reasons, review)
        if decision.clock != "5h" and not markers and not declared:
            decision = self._rival_reading(decision, kind, ranked, facts, full, ntitle, head, before)
        debunk = debunk_phrase(ntitle, head)
        if debunk and not markers and not declared:
            major = (decision.level in ("I", "II") and "如不实" not in full) or self._escalates(full) or facts.vague_casualties
            # The facts reported beside the denial decide when they start the 5-hour clock themselves
            # (县城停水系水源污染 … 网传“投毒”系谣言: the intake cut is 重大 whatever the rumour said).
            beside = self._beside_rumour(ntitle, nbody, reported)
            if beside is not None and (beside.clock == "5h" or not major):
                return beside
            return self._debunked(decision, debunk.group(0), ntitle, head, bool(major))
        rumour = RUMOUR_RE.search(ntitle) or RUMOUR_RE.search(head)
        if rumour and decision.clock == "5h" and not markers and not declared:
            # The figures may be the rumour's, not the facts: the stricter clock stays, a person checks.
            ask = f"文中称“{rumour.group(0)}”，分级所依据的数字可能来自传言而非核实的事实，请核实"
            return replace(decision, needs_review=True, reasons=(*decision.reasons, f"需人工确认：{ask}"),
                           doubts=(*decision.doubts, f"数字可能来自传言（“{rumour.group(0)}”），未经核实（谣言规则）"))
        return decision

    def _rival_reading(self, decision: Decision, kind: Kind, ranked: list, facts: Facts, full: str, title: str,
                       head: str, before: tuple[list[str], list[str]]) -> Decision:
        """The stricter reading when the report also names another kind of event whose standard puts the
        same facts at 重大 (a gas release in a canteen: food plan 一般, environmental plan 重大). Which plan
        applies is then the fact in doubt, and missing a 5-hour obligation is the worse error: the stricter
        clock runs and a person is asked (issue 20, sets d–i)."""
        crowd = self._crowd_kind(facts, full)
        candidates = [*ranked, *([((), RIVAL_MIN_SCORE, crowd, [])] if crowd is not None else [])]
        for _key, score, rival, words in candidates:
            if rival is kind or rival.standard == kind.standard or score < RIVAL_MIN_SCORE:
                continue
            other = self._emergency(rival, words, facts, [], None, full, title, head, list(before[0]), list(before[1]))
            if other.clock == "5h":
                named = f"（{'、'.join(words[:3])}）" if words else ""
                ask = (f"文中也提到{rival.name}{named}，按该类标准可能达到{other.level_name or '重大'}，"
                       f"按{kind.name}标准为{decision.level_name or '一般'}：事件类型待确认，先按5小时时限处理")
                return replace(other, needs_review=True, reasons=(*other.reasons, f"需人工确认：{ask}"),
                               doubts=(*other.doubts, f"事件类型不确定（{kind.name}或{rival.name}），按可能达到重大的一类计"))
        return decision

    def _beside_rumour(self, title: str, body: str, reported=None) -> Decision | None:
        """The decision on the sentences that neither quote nor deny a rumour, when it is a 5-hour one: a
        debunk of one claim (网传被困矿工已全部遇难系谣言) does not close the facts reported beside it
        (15名矿工被困，救援仍在进行)."""
        def keep(part: str) -> str:
            return "。".join(x for x in re.split(r"[。；;！!？?\n]", part)
                            if x and not (RUMOUR_RE.search(x) or DEBUNK_RE.search(x) or WEAK_DEBUNK_RE.search(x)))
        t, b = keep(title), keep(body)
        if not (t.strip() or b.strip()):
            return None
        rest = self.classify(t or b, b if t else "", reported=reported)
        if rest.level is None or (rest.clock != "5h" and RANK[rest.level] < RANK["III"]):
            return None  # a slight event beside the denial: the item is the debunk (opinion, 48 hours)
        if rest.clock != "5h":
            # 关于“多人死亡”的说法不实，事故造成1人受伤: the facts reported beside the denial are graded.
            return replace(rest, reasons=("文中否认了传言中的说法，按辟谣之外报告的事实定级", *rest.reasons))
        note = "需人工确认：文中辟谣的是传言中的说法，辟谣之外报告的事实仍可能达到重大，先按5小时时限处理"
        return replace(rest, needs_review=True, reasons=(*rest.reasons, note))

    def _debunked(self, rumoured: Decision, phrase: str, title: str, head: str, major: bool) -> Decision:
        """An item saying the story is false (辟谣): no emergency, but a rumour is still opinion to answer
        within 48 hours. When the rumour itself states a major event (二十多人死亡, an escalating type
        such as 溃坝), the stricter clock runs until a person confirms the debunk: the claim and the denial
        contradict on the fact that decides the level (when in doubt, the 5-hour obligation is the one not
        to miss). A rumour that states no major toll (多人受伤) is not held at 5 hours only because its
        vague count has no upper bound (issue 20)."""
        d = self._ordinary(title, head, [], [])
        routing = [r for r in d.reasons if r.startswith(("公开领域", "未匹配到公开领域"))]
        facts = {**rumoured.facts, "debunked": phrase}
        if rumoured.clock == "5h" and major:
            # A rumoured 溃坝 with no figures is graded 一般 on its numbers; what it may reach is 重大.
            claimed = rumoured.level_name if rumoured.level in ("I", "II") else "重大"
            reasons = (f"文中称相关说法“{phrase}”，但传言所称事件可能达到{claimed}："
                       "确认辟谣属实前按5小时时限处理", *routing, CLOCK_5H,
                       "需人工确认：请核实辟谣属实，再降为一般舆情（responder reclassify CASE none）")
            doubts = (f"传言所称事件达到{claimed}，与“{phrase}”的说法矛盾，辟谣尚未经人工确认（谣言规则）",)
            return Decision(None, None, rumoured.category, d.domain, d.department, d.co_departments, "5h", True,
                            reasons, facts, doubts)
        reasons = (f"文中称相关说法“{phrase}”，按一般舆情（澄清、辟谣）处理，不定应急等级", *routing, CLOCK_48H)
        return Decision(None, None, None, d.domain, d.department, d.co_departments, "48h", False, reasons, facts)

    def _declared_kind(self, declared_category: str, kind: Kind | None, reasons: list[str]) -> Kind | None:
        """A feed's category that names an emergency kind is taken; any other (a topic label such as
        教育 in an RSS <category>) is noted and ignored — it cannot make the clock less strict."""
        cat = str(declared_category).strip()
        matching = [k for k in self.routing.kinds if k.category == cat or k.name == cat or k.id == cat]
        if not matching:
            reasons.append(f"来源标注的类别“{declared_category}”不是突发事件类别，仅作参考")
            return kind
        if kind is not None and kind in matching:
            return kind
        return max(matching, key=lambda k: k.priority)

    def _crowd_kind(self, facts: Facts, text: str) -> Kind | None:
        """A crowd of 200 or more (聚集, 上访 …) or a main road blocked for hours is a 社会安全事件 even when
        no event word names it (2006 分级标准: 参与人数, 阻断国道、铁路干线8小时)."""
        p, b = facts.get("participants"), facts.get("blocked_hours")
        if (p is None or p.low < 200) and (b is None or not BLOCKERS_RE.search(text)):
            return None
        return next((k for k in self.routing.kinds if k.standard == "social_2006"), None)

    def _markers(self, text: str) -> list[tuple[str, str]]:
        found = []
        for mk in self.thresholds.markers:
            for m in mk.pattern.finditer(text):
                # 防范遏制特别重大事故, 特别重大、重大突发事件的分级标准: the words, not this event's level.
                before = text[max(0, m.start() - 10):m.start()]
                if (NOT_THIS_LEVEL_BEFORE.search(before) or before.endswith(LIST_JOINERS) or LEVEL_LIST_AFTER.match(text, m.end())
                        or LEVEL_COUNTED_AFTER.match(text, m.end())):
                    continue
                found.append((mk.level, m.group(0)))
                break
        return found

    def _escalates(self, text: str) -> str | None:
        return escalation_word(self.thresholds.escalate, text)

    def _ordinary(self, title: str, head: str, reasons: list[str], review: list[str]) -> Decision:
        scored = self._domains.score(title, head)
        if scored:
            name, _s, words = scored[0]
            dom = self.routing.domains[name]
            co = [d for d in dom.departments[1:]]
            for other, s, _w in scored[1:3]:
                if s >= max(2, scored[0][1] // 2):
                    lead = self.routing.domains[other].lead
                    if lead != dom.lead and lead not in co:
                        co.append(lead)
            reasons.append("未发现突发事件的事实或等级表述，按一般舆情处理（无应急等级）")
            reasons.append(f"公开领域：{name}（依据：{'、'.join(words[:4])}），牵头部门：{dom.lead}"
                           + (f"，配合部门：{'、'.join(co)}" if co else ""))
            domain, department = name, dom.lead
        else:
            co = []
            reasons.append("未发现突发事件的事实或等级表述，按一般舆情处理（无应急等级）")
            reasons.append(f"未匹配到公开领域，由{OFFICE}分办")
            domain, department = None, OFFICE
        reasons.append(CLOCK_48H)
        reasons.extend(f"需人工确认：{r}" for r in review)
        return Decision(None, None, None, domain, department, tuple(co), "48h", bool(review),
                        tuple(reasons), {"kind": None})

    def _emergency(self, kind: Kind, kind_words: list[str], facts: Facts, markers: list[tuple[str, str]],
                   declared: str | None, full: str, title: str, head: str,
                   reasons: list[str], review: list[str]) -> Decision:
        std = self.thresholds.standards[kind.standard]
        metrics = self.thresholds.metrics
        doubts: list[str] = []
        set_aside = list(facts.set_aside)
        for m in facts.background:
            set_aside.append(f"“{m.evidence}”是背景统计（往年、今年以来或累计数字），不是本次事件的伤亡")
        closure = _closure(facts, full)
        if closure is not None:
            # A definitive 无人员伤亡 closes the toll read before it: vague counts (多人死亡) and open ones
            # (被困, 失踪: see _open_trapped, _open_missing). Exact earlier counts contradict it and stay.
            toll = ("deaths", "missing", "serious_injuries", "casualties", "trapped")
            vague = [m for m in facts.mentions if m.metric in toll and m.quantity.vague and 0 <= m.pos < closure[0]]
            if vague:
                facts.mentions = [m for m in facts.mentions if m not in vague]
                set_aside.extend(f"“{m.evidence}”：文中随后称“{closure[1]}”，不计入" for m in vague)
            early = [m for m in facts.mentions if m.metric in ("deaths", "serious_injuries") and 0 <= m.pos < closure[0]]
            if early:
                review.append(f"文中先称“{early[0].evidence}”，后称“{closure[1]}”，前后矛盾，请核实伤亡人数")
                doubts.append(f"伤亡表述前后矛盾（“{early[0].evidence}”与“{closure[1]}”），按较重的表述计")
        felt = _felt_elsewhere(kind, std, facts, full)
        stated, possible, shown = values(self.thresholds, std, facts, full, closure, felt, set_aside)
        if kind.id == "food_poisoning" or (kind.standard == "env_2014" and SYMPTOMS_RE.search(full)):
            # 氯气泄漏…周边居民出现咳嗽、胸闷…累计送医62人: those sent to hospital with symptoms are the poisoned.
            cases_seen(facts, stated, possible, shown, reasons)

        settled = std.strict_stated_when.search(full) if std.strict_stated_when else None
        ruled_out = std.strict_ignored_when.search(full) if std.strict_ignored_when and not settled else None
        ruled_phrase = ruled_out.group(0) if ruled_out else None
        if felt is not None and felt[0] != "damage":
            settled, ruled_out, ruled_phrase = None, True, felt[1]
        stated_hits = grade(std, stated, strict=bool(settled))
        possible_hits = grade(std, possible, strict=not ruled_out)
        fact_rank = RANK[stated_hits[0].rule.level] if stated_hits else 0
        possible_rank = RANK[possible_hits[0].rule.level] if possible_hits else 0

        basis = f"（依据：{'、'.join(kind_words)}）" if kind_words else ""
        reasons.append(f"事件类型：{kind.name}，属{kind.category}{basis}；按{std.name}{'' if std.name.endswith('分级') else '分级'}")

        if settled:
            reasons.append(f"文中称“{settled.group(0)}”，按该条件下的标准定级")
        elif ruled_out and grade(std, possible, strict=True) != possible_hits:
            reasons.append(f"文中称“{ruled_phrase}”，不按人口密集地区的标准作保守判断")
        for metric, as_metric, cite in std.count_as:
            if metric in stated:
                reasons.append(f"{metrics[metric][0]}{shown.get(metric, '')}计入{metrics[as_metric][0]}（{cite}）")
        intake = _intake_cut(full) if kind.standard == "env_2014" else None
        if intake is not None:
            reasons.append(f"文中称“{intake[1]}”：因污染造成{intake[2]}集中式饮用水水源地取水中断"
                           f"（{std.name}，{LEVEL_NAMES[intake[0]]}）")
            fact_rank = max(fact_rank, RANK[intake[0]])
            if intake[3]:
                possible_rank = max(possible_rank, RANK["II"])
                doubts.append("取水中断的供水范围（乡镇还是县级城市）未说明，按县级城市计")
        for row, phrase in _described_rows(std, facts, stated, possible, full):
            if row.strict:
                possible_rank = max(possible_rank, RANK[row.level])
                reasons.append(f"保守判断：文中称“{phrase}”（{std.name}，{row.cite}，{LEVEL_NAMES[row.level]}）")
                doubts.append(f"文中称“{phrase}”，是否达到“{row.cite}”的程度未知，按{LEVEL_NAMES[row.level]}计")
            else:
                reasons.append(f"文中称“{phrase}”（{std.name}，{row.cite}，{LEVEL_NAMES[row.level]}）")
                fact_rank = max(fact_rank, RANK[row.level])
        env_rank, env_stated = evacuation_rank(self.thresholds, kind, std, possible, metrics, reasons, full, set_aside,
                                               closure is not None, stated)
        if env_stated:
            fact_rank = max(fact_rank, env_rank)
            # An accident graded by another plan's row: the pollution's extent is for 生态环境分局 to confirm.
            review.append("按《国家突发环境事件应急预案》的疏散标准定级，请与县生态环境分局核实污染范围")
        rank = fact_rank
        for hit in _top_per_metric(stated_hits, fact_rank):
            reasons.append(reason_for(hit, metrics, shown))
        marker_rank = 0
        for level, phrase in markers:
            reasons.append(f"文中明确表述“{phrase}”，按{LEVEL_NAMES[level]}（{level}级）")
            marker_rank = max(marker_rank, RANK[level])
        if declared:
            reasons.append(f"来源标注等级为{LEVEL_NAMES[declared]}（{declared}级）")
        rank = max(fact_rank, marker_rank, RANK[declared] if declared else 0)
        if rank > fact_rank and fact_rank:
            reasons.append(f"文中数字对应{LEVEL_NAMES[BY_RANK[fact_rank]]}，以较高的明确表述为准")
        if rank == 0:
            reasons.append("文中数字未达到分级标准的下限，按一般（Ⅳ级）或以下处理")
            rank = RANK["IV"]

        # Conservative reading: what the open facts could reach.
        strict_rank = possible_rank
        missing = _open_missing(facts, full, closure)
        trapped, _why = _open_trapped(facts, full, closure)
        if strict_rank > rank:
            for hit in _top_per_metric(possible_hits, strict_rank):
                if hit not in stated_hits:
                    reasons.append("保守判断：" + reason_for(hit, metrics))
                    if hit.rule.strict:
                        doubts.append("震中人口密度未知，按人口密集地区的初判标准计（《国家地震应急预案》）")
                    elif hit.rule.metric in ("deaths", "deaths_incl_missing") and (missing is not None or trapped is not None):
                        pass  # the missing / trapped doubt below says it
                    else:
                        doubts.append(f"{metrics[hit.rule.metric][0]}为约数或不确定表述，按可能的上限"
                                      f"{fmt_value(hit.value)}{metrics[hit.rule.metric][1]}计")
        if missing is not None and not std.deaths_include_missing:
            reasons.append(f"失踪{_qty(missing)}人，5小时判断中计入死亡（保守口径）")
        if missing is not None and possible_rank > rank:
            doubts.append(f"失踪{_qty(missing)}人下落未知，按可能死亡计")
        if trapped is not None:
            reasons.append(f"被困{_qty(trapped)}人，5小时判断中按可能死亡计入（保守口径）")
            if possible_rank > rank:
                doubts.append(f"被困{_qty(trapped)}人未见获救，按可能死亡计")
        if felt is not None and felt[0] == "silent" and possible_rank > rank:
            doubts.append(f"震中在外地或海域（“{felt[1]}”），本地灾情未说明，按该震级在人口较密集地区的初判计")
        if not env_stated and env_rank > strict_rank:
            strict_rank = env_rank
            doubts.append("疏散转移人数达到《国家突发环境事件应急预案》的重大标准，污染范围未知")
        esc = self._escalates(full)
        if esc and strict_rank < FIVE_HOUR_RANK:
            reasons.append(f"“{esc}”属易升级事件，先按重大以上处理")
            doubts.append(f"“{esc}”属易升级事件，后果未知")
            strict_rank = FIVE_HOUR_RANK
        if facts.vague_casualties and strict_rank < FIVE_HOUR_RANK:
            doubts.append(f"文中称“{facts.vague_casualties}”，伤亡人数未知")
            strict_rank = FIVE_HOUR_RANK
        if (facts.unnumbered & {"missing"} and facts.get("missing") is None and facts.get("deaths") is None
                and strict_rank < FIVE_HOUR_RANK and BURIED_RE.search(full)
                and (not RESCUED_RE.search(full) or STILL_BURIED_RE.search(full)) and closure is None):
            # Homes or people buried in unknown numbers (a landslide, a collapse): the toll is open.
            reasons.append("被埋人数不详，死亡人数可能达到重大，保守按5小时处理")
            doubts.append("被埋人数未知，按可能达到重大计")
            strict_rank = FIVE_HOUR_RANK
        rest = _missing_of_population(facts, full, closure) if strict_rank < FIVE_HOUR_RANK else None
        if rest is not None:
            d = possible.get("deaths", 0) + rest[0]
            hits = grade(std, {**possible, "deaths": d, "deaths_incl_missing": d}, strict=True)
            if hits and RANK[hits[0].rule.level] > strict_rank:
                strict_rank = RANK[hits[0].rule.level]
                reasons.append(f"保守判断：在场{fmt_value(rest[1])}人中下落不明的人数未说明，按{fmt_value(rest[0])}人可能死亡计："
                               + reason_for(hits[0], metrics))
                doubts.append(f"下落不明人数未说明，按在场{fmt_value(rest[1])}人减去获救人数（{fmt_value(rest[0])}人）计")
        five = max(rank, strict_rank) >= FIVE_HOUR_RANK
        if five and rank < FIVE_HOUR_RANK:
            review.append(f"现有事实定为{LEVEL_NAMES[BY_RANK[rank]]}，但可能达到{LEVEL_NAMES[BY_RANK[max(strict_rank, FIVE_HOUR_RANK)]]}，"
                          "先按5小时时限处理，请确认或降级")
        elif strict_rank > rank:
            review.append(f"保守判断可能达到{LEVEL_NAMES[BY_RANK[strict_rank]]}，请确认")
        for metric in ("deaths", "missing"):
            q = facts.get(metric)
            if q is not None and q.open:
                review.append(f"{metrics[metric][0]}人数为“至少/超过”类表述，可能继续上升")
        if facts.unnumbered & {"missing"} and missing is None:
            review.append("文中提到失踪或被埋人员，人数不详")
        weak = self.thresholds.weak_marker.search(full) if self.thresholds.weak_marker else None
        if weak and rank < FIVE_HOUR_RANK and not markers:
            reasons.append(f"文中称“{weak.group(0)}”属新闻用语（“特大”为已废止的旧标准），按事实定级")
        place = is_outside(self.routing, title, head)
        if place:
            review.append(f"事件发生在境外或港澳台（{place}），请确认是否需要本县回应")

        level = BY_RANK[rank]
        department, co = kind.department, list(kind.co_departments)
        domain = kind.domain
        scored = self._domains.score(title, head)
        for name, s, _w in scored[:3]:
            lead = self.routing.domains[name].lead
            if s >= 2 and name != domain and lead != department and lead not in co:
                co.append(lead)
                break
        reasons.append(f"牵头部门：{department}" + (f"，配合部门：{'、'.join(co)}" if co else "")
                       + (f"；公开领域：{domain}" if domain else ""))
        reasons.append(CLOCK_5H if five else CLOCK_48H)
        reasons.extend(f"需人工确认：{r}" for r in review)
        fj = facts.to_json()
        fj["kind"] = kind.id
        fj["standard"] = std.id
        if place:
            fj["outside"] = place
        if set_aside:
            fj["set_aside"] = list(set_aside)
        return Decision(level, LEVEL_NAMES[level], kind.category, domain, department, tuple(co),
                        "5h" if five else "48h", bool(review), tuple(reasons), fj,
                        tuple(dict.fromkeys(d for d in doubts if five and (rank < FIVE_HOUR_RANK or "矛盾" in d))),
                        tuple(set_aside))


def default_paths() -> dict[str, Path]:
    """The repository's shipped data files (source checkout / editable install)."""
    root = Path(__file__).resolve().parent.parent.parent / "config"
    return {"thresholds": root / "thresholds.toml", "routing": root / "routing.toml", "domains": root / "domains.toml"}


_DEFAULT: Classifier | None = None


def load_default() -> Classifier:
    """Classifier over <repo>/config, built once per process (jieba's dictionary load costs ~0.5 s)."""
    global _DEFAULT
    if _DEFAULT is None:
        p = default_paths()
        _DEFAULT = Classifier.from_paths(p["thresholds"], p["routing"], p["domains"])
    return _DEFAULT
