"""What identifies an event, and whether two texts report the same one (issue 14).

Two decisions stop or merge legal clocks without a person: attaching a release to
an open case (its clocks stop) and joining a report to an open case (it gets no
clock of its own). Word overlap cannot make them: two reports of one event by
different outlets overlap no more than two different events do. What separates
events is where it happened (a specific place from the county's gazetteer or a
named village, road or facility — never a generic facility word such as 人民医院
or 多名小学, never the hospital victims were taken to), what happened (the
classifier's kind of event), the casualty facts and the time.

Rules, conservative on purpose (a wrong join silently loses a clock, a duplicate
case only costs a closure):

* same event = same kind of event (both classified, same kind), within the window,
  no conflicting fact (different earthquake magnitudes, a different specific place
  on both sides), and either a shared specific place (village, street, named
  facility, road) or a shared wider place (township, county or city elsewhere, a
  river) together with an agreeing casualty count or magnitude;
* a join or an automatic attachment only when exactly one open case qualifies;
  a release whose best case is not clearly alone is proposed, with the reasons.

Pure: text and classifier output in, evidence out. The places come from
``places`` (the gazetteer is data, ``config/gazetteer.toml``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from responder.engine.places import FINE, LEVEL_NAMES, TOWN, WIDE, Gazetteer, Places, named_events, normalise, places

JOIN_WINDOW = dt.timedelta(hours=72)
"""Independent reports of one event arrive within three days (same window as reposts, docs/ingest.md)."""
MAGNITUDE_TOLERANCE = 0.35
"""Agencies revise a magnitude by a few tenths (7.8 → 8.0); a different quake differs by more."""


# ------------------------------------------------------------------ identity


DAY_RE = re.compile(r"(?:(\d{1,2})月)?(\d{1,2})日(?=凌晨|清晨|早上|早晨|上午|中午|午间|下午|傍晚|晚上|晚间|夜间|夜里|深夜|晚|夜|\d|零时|[，,])")
RELATIVE_DAYS = (("前天", -2), ("昨天", -1), ("昨日", -1), ("昨晚", -1), ("昨夜", -1), ("今天", 0), ("今日", 0), ("今晨", 0),
                 ("今早", 0), ("刚刚", 0), ("今天凌晨", 0))


def event_days(text: str, at: dt.datetime) -> frozenset[int]:
    """Days of the month the text says the event happened on (Beijing); relative words read from ``at``."""
    t = normalise(text)
    local = at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    days = {int(m.group(2)) for m in DAY_RE.finditer(t) if 1 <= int(m.group(2)) <= 31}
    if not days:  # relative words only when no date is written (a late repost's 今天 is not the event's day)
        for word, delta in RELATIVE_DAYS:
            if word in t:
                days.add((local + dt.timedelta(days=delta)).day)
    return frozenset(days)


FACT_WEIGHT = {
    "deaths": lambda v: 2 if v >= 2 else 1, "missing": lambda v: 2 if v >= 2 else 1,
    "serious_injuries": lambda v: 1 if v >= 2 else 0, "injuries": lambda v: 1 if v >= 2 else 0,
    "poisoned": lambda v: 2 if v >= 5 else 0,
}
"""How much an agreeing count says: a death toll or a number of poisoned people is distinctive (2), a
single death or an injury count less so (1), one injured person nothing. A wider place needs 2."""
QUAKE_HOURS = 24
QUAKE_MIN_MAGNITUDE = 5.0
"""Quakes of magnitude 5 or more are rare enough that the same magnitude on the same day is the same quake
(several M3-4 quakes a day are common in China; they also cause no 5-hour case)."""
TOWN_JOIN_HOURS = 6
"""A join on a township alone (no village in common) only within hours: a second event of the same
kind in the same township later that day is the distractor to fear."""
DAY_HEAD = 160
"""The event's day is told in the opening; later dates are background (a previous quake, a meeting)."""
CLOCK_RE = re.compile(r"(?<!\d)([01]?\d|2[0-3])(?:时|点)([0-5]?\d)分")
QUAKE_CLOCK_MINUTES = 10
"""A quake is felt everywhere within minutes of its origin time (seismic waves cross 1,000 km in about
three minutes) and reports round to 左右/许: felt at 14时30分 in 兰州 and 14时35分 in 银川 on the day of a
14时28分 quake is that quake. Two distinct felt quakes on one day within ten minutes are one sequence."""
NAMED_HOURS = 72
"""A named attack (昆明暴力恐怖袭击事件) is reported for days: relief, victims' names, vigils."""
COUNT_METRICS = ("deaths", "missing", "injuries", "serious_injuries", "poisoned")
METRIC_NAMES = {"deaths": "死亡", "missing": "失踪", "injuries": "受伤", "serious_injuries": "重伤", "poisoned": "中毒"}


@dataclass(frozen=True)
class Identity:
    """What a report or a case says identifies its event."""

    kind: str | None
    places: Places
    at: dt.datetime
    counts: dict[str, int] = field(default_factory=dict)
    magnitude: float | None = None
    days: frozenset[int] = frozenset()
    """Days of the month the event is said to have happened (a report's first lines name it)."""
    clock: frozenset[int] = frozenset()
    """Times of day (minutes after midnight) the opening says it happened at (14时28分)."""
    named: frozenset[str] = frozenset()
    """Events named by city and kind (昆明 for 昆明暴力恐怖袭击事件): they identify an attack for days."""


def counts_of(facts: dict[str, Any] | None) -> tuple[dict[str, int], float | None]:
    """Exact counts and the magnitude from the classifier's facts (pairs [low, high])."""
    facts = facts or {}
    out: dict[str, int] = {}
    for m in COUNT_METRICS:
        v = facts.get(m)
        if isinstance(v, (list, tuple)) and len(v) == 2 and v[0] == v[1] and isinstance(v[0], (int, float)) and v[0] > 0:
            out[m] = int(v[0])
    mag = facts.get("magnitude")
    if isinstance(mag, (list, tuple)):
        mag = mag[0] if mag else None
    return out, float(mag) if isinstance(mag, (int, float)) else None


def clock_times(head: str) -> frozenset[int]:
    """The first time of day written in the opening (14时28分), as minutes after midnight."""
    m = CLOCK_RE.search(normalise(head))
    return frozenset({int(m.group(1)) * 60 + int(m.group(2))}) if m else frozenset()




def identity(text: str, kind: str | None, facts: dict[str, Any] | None, at: dt.datetime,
             gaz: Gazetteer | None = None) -> Identity:
    counts, mag = counts_of(facts)
    return Identity(kind, places(text, gaz), at, counts, mag, event_days(text[:DAY_HEAD], at),
                    clock_times(text[:DAY_HEAD]) if kind == "earthquake" else frozenset(),
                    named_events(text, gaz) if kind == "terror" else frozenset())


def merge(ids: list[Identity]) -> Identity:
    """A case's identity: the union of what its reports said (its first report's time)."""
    fine = frozenset().union(*(i.places.fine for i in ids))
    town = frozenset().union(*(i.places.town for i in ids))
    wide = frozenset().union(*(i.places.wide for i in ids))
    site = frozenset().union(*(i.places.site for i in ids))
    days = frozenset().union(*(i.days for i in ids))
    clock = frozenset().union(*(i.clock for i in ids))
    named = frozenset().union(*(i.named for i in ids))
    counts: dict[str, set[int]] = {}
    for i in ids:
        for k, v in i.counts.items():
            counts.setdefault(k, set()).add(v)
    kinds = [i.kind for i in ids if i.kind]
    mags = [i.magnitude for i in ids if i.magnitude is not None]
    return Identity(kinds[0] if kinds else None, Places(fine, town, wide, site), min(i.at for i in ids),
                    {k: max(v) for k, v in counts.items()}, max(mags) if mags else None, days, clock, named)


@dataclass(frozen=True)
class Evidence:
    """How a new text compares with one open case."""

    case_id: int
    same_kind: bool
    conflict: str | None
    shared: dict[str, frozenset[str]]
    agreeing: tuple[str, ...]
    hours: float
    in_window: bool
    weight: int = 0
    kind: str | None = None
    quake: bool = False
    """Both state the same magnitude (an earthquake is identified by its magnitude and time wherever it is felt)."""
    """How much the agreeing facts say: a death toll or a magnitude 2, another count 1 (6 injured is common)."""
    same_clock: bool = False
    """Two quake reports of one day give times of day within minutes (felt at 14时30分, struck at 14时28分)."""
    named: frozenset[str] = frozenset()
    """Both name the attack by the same city (昆明暴力恐怖袭击事件)."""
    day_note: str | None = None
    """A named event whose reports give different days (a vigil days later): proposed, never joined or attached."""

    @property
    def strength(self) -> int:
        """3 = specific place; 2 = wider place with agreeing facts; 1 = any shared place; 0 = none."""
        if self.shared.get(FINE):
            return 3
        if (self.shared.get(TOWN) or self.shared.get(WIDE)) and self.weight >= 2:
            return 2
        if self.same_kind and self.kind == "earthquake" and self.hours <= QUAKE_HOURS and (
                self.quake or self.shared.get(WIDE) or self.same_clock):
            return 2  # one quake felt in a dozen cities: each names its own city, all its magnitude or its time
        if self.same_kind and self.named:
            return 2  # the same attack by its name
        if self.shared.get(TOWN) or self.shared.get(WIDE):
            return 1
        return 0

    @property
    def same_event(self) -> bool:
        if self.day_note:
            return False
        if self.strength == 2 and self.hours > TOWN_JOIN_HOURS and not (self.named and self.hours <= NAMED_HOURS):
            return False
        return self.in_window and self.same_kind and self.conflict is None and self.strength >= 2

    def reasons(self, kind_name: str | None = None) -> tuple[str, ...]:
        out = []
        if self.same_kind:
            out.append(f"事件类型相同：{kind_name or '同类'}")
        for level in (FINE, TOWN, WIDE):
            if self.shared.get(level):
                out.append(f"{LEVEL_NAMES[level]}相同：" + "、".join(sorted(self.shared[level])[:3]))
        if self.named:
            out.append("同一事件名称：" + "、".join(sorted(self.named)) + "恐怖袭击事件")
        if self.same_clock:
            out.append("同日同一时刻有震感（相差不超过10分钟）")
        out += list(self.agreeing)
        if self.day_note:
            out.append(self.day_note)
        if self.conflict:
            out.append(f"不一致：{self.conflict}")
        out.append(f"时间相距{self.hours:.0f}小时")
        return tuple(out)


def compare(new: Identity, case_id: int, case: Identity, *, window_before: dt.timedelta = dt.timedelta(hours=1),
            window_after: dt.timedelta = JOIN_WINDOW) -> Evidence:
    delta = new.at - case.at
    in_window = -window_before <= delta <= window_after
    same_kind = new.kind is not None and new.kind == case.kind
    shared = {FINE: new.places.fine & case.places.fine, TOWN: new.places.town & case.places.town,
              WIDE: new.places.wide & case.places.wide}
    named = new.named & case.named if same_kind else frozenset()
    conflict = None
    if new.magnitude is not None and case.magnitude is not None and abs(new.magnitude - case.magnitude) > MAGNITUDE_TOLERANCE:
        conflict = f"震级不同（{new.magnitude}级/{case.magnitude}级）"
    elif new.places.fine and case.places.fine and not shared[FINE]:
        conflict = "具体地点不同（" + "、".join(sorted(new.places.fine)[:2]) + " / " + "、".join(sorted(case.places.fine)[:2]) + "）"
    elif new.places.town and case.places.town and not shared[TOWN] and not shared[FINE]:
        conflict = "乡镇不同（" + "、".join(sorted(new.places.town)[:2]) + " / " + "、".join(sorted(case.places.town)[:2]) + "）"
    elif new.places.site and case.places.site and not (new.places.site & case.places.site):
        conflict = "场所不同（" + "、".join(sorted(new.places.site)[:2]) + " / " + "、".join(sorted(case.places.site)[:2]) + "）"
    elif new.days and case.days and not (new.days & case.days) and not named:
        conflict = "发生日期不同（" + "、".join(f"{d}日" for d in sorted(new.days)) + " / " + "、".join(f"{d}日" for d in sorted(case.days)) + "）"
    agreeing = []
    weight = 0
    for m, v in new.counts.items():
        if case.counts.get(m) != v:
            continue
        w = FACT_WEIGHT[m](v)
        if w:
            agreeing.append(f"{METRIC_NAMES[m]}人数相同：{v}人")
            weight += w
    quake = False
    if new.magnitude is not None and case.magnitude is not None and conflict is None:
        agreeing.append(f"震级相同：{new.magnitude}级")
        weight += 2
        quake = new.magnitude >= QUAKE_MIN_MAGNITUDE
    hours = abs(delta.total_seconds()) / 3600
    same_day = bool(new.days & case.days) if new.days and case.days else hours <= 12
    same_clock = (same_kind and new.kind == "earthquake" and conflict is None and same_day
                  and any(abs(a - b) <= QUAKE_CLOCK_MINUTES for a in new.clock for b in case.clock))
    day_note = None
    if named and new.days and case.days and not (new.days & case.days):
        day_note = ("所述日期不同（" + "、".join(f"{d}日" for d in sorted(new.days)) + " / "
                    + "、".join(f"{d}日" for d in sorted(case.days)) + "），可能是后续报道，须人工确认")
    return Evidence(case_id, same_kind, conflict, shared, tuple(agreeing), hours, in_window,
                    weight, new.kind, quake, same_clock, named, day_note)


@dataclass(frozen=True)
class JoinDecision:
    case_id: int | None
    reasons: tuple[str, ...]
    """Why it joined, or why not (the runner-up that made it ambiguous)."""


def decide_join(new: Identity, cases: dict[int, Identity], kind_name: str | None = None) -> JoinDecision:
    """The one open case this report is an independent report of; None when there is none or more than one."""
    if new.kind is None:
        return JoinDecision(None, ("无事件类型，不按事件归并",))
    evidence = [compare(new, cid, c) for cid, c in cases.items()]
    same = [e for e in evidence if e.same_event]
    if not same:
        return JoinDecision(None, ())
    same.sort(key=lambda e: (-e.strength, -len(e.agreeing), e.hours))
    best = same[0]
    # Only a case that fits as well as the best one makes the report ambiguous: a report naming the village
    # of one case is not ambiguous because another case only named the township.
    rivals = [e for e in evidence if e is not best and e.in_window and e.same_kind and e.conflict is None
              and e.strength >= best.strength]
    # A rival that is itself the same event as the best case (a duplicate opened before they could be joined)
    # makes nothing ambiguous; one that could be a different event does.
    rivals = [e for e in rivals if not compare(cases[e.case_id], best.case_id, cases[best.case_id],
                                               window_before=JOIN_WINDOW).same_event]
    if rivals:
        return JoinDecision(None, (f"案件#{best.case_id}与案件#{rivals[0].case_id}都可能是同一事件，不自动归并",))
    return JoinDecision(best.case_id, best.reasons(kind_name))


# ------------------------------------------------------------------ releases


@dataclass(frozen=True)
class ReleaseCandidate:
    case_id: int
    score: float
    reasons: tuple[str, ...]
    evidence: Evidence


@dataclass(frozen=True)
class ReleaseDecision:
    action: str  # attach | propose | none
    best: ReleaseCandidate | None
    candidates: tuple[ReleaseCandidate, ...]


RELEASE_WINDOW_BEFORE = dt.timedelta(hours=1)
RELEASE_WINDOW_AFTER = dt.timedelta(days=14)
PROPOSE_SCORE = 0.35


def release_score(ev: Evidence, words: float) -> float:
    """Ranks candidates for a person: kind and place first, agreeing facts, then shared words as a tie-break."""
    s = 0.0
    if ev.same_kind:
        s += 0.3
    s += {3: 0.4, 2: 0.3, 1: 0.2, 0: 0.0}[ev.strength]
    s += min(len(ev.agreeing), 2) * 0.05
    s += 0.15 * min(words, 1.0)
    if ev.conflict:
        s -= 0.3
    return round(max(s, 0.0), 3)


def decide_release(new: Identity, cases: dict[int, Identity], words: dict[int, float],
                   kind_names: dict[str, str] | None = None, topic: dict[int, bool] | None = None) -> ReleaseDecision:
    """Attach only when kind, place and facts agree with one case and no other open case comes close.

    ``words`` is the shared-word overlap per case (0..1), used only to rank; ``topic``
    says, for cases of ordinary opinion (no event kind), whether the release names the
    same topic word. An ordinary-opinion release attaches on a specific place and the
    topic; otherwise it is proposed.
    """
    kind_names = kind_names or {}
    topic = topic or {}
    cands = []
    for cid, c in cases.items():
        ev = compare(new, cid, c, window_before=RELEASE_WINDOW_BEFORE, window_after=RELEASE_WINDOW_AFTER)
        if not ev.in_window:
            continue
        sc = release_score(ev, words.get(cid, 0.0))
        if new.kind is None and c.kind is None and topic.get(cid):
            sc = round(sc + 0.35, 3)  # same topic word (收费, 停水 …): enough to ask a person
        if sc <= 0:
            continue
        reasons = ev.reasons(kind_names.get(new.kind or "", None))
        if words.get(cid):
            reasons = (*reasons, f"词语重合度{words[cid]:.2f}")
        cands.append(ReleaseCandidate(cid, sc, reasons, ev))
    if not cands:
        return ReleaseDecision("none", None, ())
    cands.sort(key=lambda c: (-c.score, c.evidence.hours))
    best = cands[0]
    runner = cands[1] if len(cands) > 1 else None
    ev = best.evidence
    close_rival = runner is not None and (runner.evidence.strength >= 1 and runner.evidence.conflict is None
                                          and (runner.evidence.same_kind or not ev.same_kind))
    kinds_agree = ev.same_kind or (new.kind is None and cases[best.case_id].kind is None and topic.get(best.case_id, False))
    placed = bool(ev.shared.get(FINE) or ev.shared.get(TOWN) or ev.shared.get(WIDE))  # a magnitude alone never attaches
    if kinds_agree and ev.conflict is None and ev.day_note is None and ev.strength >= 2 and placed and not close_rival:
        return ReleaseDecision("attach", best, tuple(cands[:3]))
    if best.score >= PROPOSE_SCORE:
        return ReleaseDecision("propose", best, tuple(cands[:3]))
    return ReleaseDecision("none", best, tuple(cands[:3]))
