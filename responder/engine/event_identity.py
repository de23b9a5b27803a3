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

Pure: text and classifier output in, evidence out; the gazetteer is data
(``config/gazetteer.toml``).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

JOIN_WINDOW = dt.timedelta(hours=72)
"""Independent reports of one event arrive within three days (same window as reposts, docs/ingest.md)."""
MAGNITUDE_TOLERANCE = 0.35
"""Agencies revise a magnitude by a few tenths (7.8 → 8.0); a different quake differs by more."""

FINE, TOWN, WIDE = "fine", "town", "wide"
LEVEL_NAMES = {FINE: "具体地点", TOWN: "乡镇", WIDE: "区域"}


# ------------------------------------------------------------------ gazetteer


@dataclass(frozen=True)
class Gazetteer:
    county: frozenset[str]
    towns: frozenset[str]
    villages: frozenset[str]
    streets: frozenset[str]
    facilities: frozenset[str]
    areas: frozenset[str]
    generic: frozenset[str]
    treatment: tuple[str, ...]
    village_town: dict[str, str] = field(default_factory=dict)

    def names(self) -> list[tuple[str, str]]:
        """(name, level), longest first so 秋浦河漂流 wins over 秋浦河."""
        out = [(n, TOWN) for n in self.towns] + [(n, WIDE) for n in self.areas]
        out += [(n, FINE) for n in self.villages | self.streets | self.facilities]
        return sorted(out, key=lambda x: -len(x[0]))


class GazetteerError(ValueError):
    pass


def load_gazetteer(path: str | Path) -> Gazetteer:
    """Read and check ``gazetteer.toml``; raise GazetteerError naming the key that is wrong."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise GazetteerError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise GazetteerError(f"{path}: {exc}") from None

    def names(section: str, key: str = "names", node: Any = None) -> list[str]:
        val = (raw.get(section) or {}) if node is None else node
        val = val.get(key, [])
        if not isinstance(val, list) or not all(isinstance(x, str) and len(x.strip()) >= 2 for x in val):
            raise GazetteerError(f"{path}: {section}.{key}: must be a list of names of at least 2 characters")
        return [unicodedata.normalize("NFKC", x.strip()) for x in val]

    towns: list[str] = []
    villages: list[str] = []
    village_town: dict[str, str] = {}
    for i, t in enumerate(raw.get("township", [])):
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) or len(t["name"]) < 2:
            raise GazetteerError(f"{path}: township[{i}].name: a township needs a name")
        towns.append(t["name"])
        mine = names(f"township[{i}]", "villages", t)
        villages += mine
        village_town.update({v: t["name"] for v in mine})
    if not towns:
        raise GazetteerError(f"{path}: township: at least one township is needed")
    county = names("county")
    if not county:
        raise GazetteerError(f"{path}: county.names: the county's own name is needed")
    all_names = towns + villages + names("streets") + names("facilities") + names("areas")
    dup = sorted({n for n in all_names if all_names.count(n) > 1})
    if dup:
        raise GazetteerError(f"{path}: names listed twice: {'、'.join(dup)}")
    return Gazetteer(frozenset(county), frozenset(towns), frozenset(villages), frozenset(names("streets")),
                     frozenset(names("facilities")), frozenset(names("areas")), frozenset(names("generic", "words")),
                     tuple(names("treatment", "suffixes")), village_town)


@lru_cache(maxsize=4)
def _gazetteer_cached(path: str, mtime: float) -> Gazetteer:
    return load_gazetteer(path)


def gazetteer_at(path: str | Path) -> Gazetteer:
    p = Path(path)
    return _gazetteer_cached(str(p), p.stat().st_mtime)


def gazetteer_for(settings: Any) -> Gazetteer:
    """The configured gazetteer; the shipped one when the configuration has none (an older install)."""
    path = getattr(settings, "data_paths", {}).get("gazetteer")
    if path is not None and Path(path).exists():
        return gazetteer_at(path)
    return shipped_gazetteer()


def shipped_gazetteer() -> Gazetteer:
    from responder.config import shipped_config_dir

    return gazetteer_at(shipped_config_dir() / "gazetteer.toml")


# ------------------------------------------------------------------ places

_HAN = "\u4e00-\u9fa5"
ADMIN_RE = re.compile(rf"([{_HAN}]{{2,4}}?)(街道|社区|居委会|村委会|村|镇|乡)(?!民(?![房宅居])|干部|委|级|长|里|道|政府|卫生院|党委|中心)")
"""A township or village by its suffix: 高路亭村, 谷饶镇 (not 村民, 镇政府 or 乡道)."""
EPICENTRE_RE = re.compile(rf"([{_HAN}]{{2}})(?:县|市)?(?:发生)?(?:[\d.]+级)?(?:强烈|强|大)?地震(?!部门|局|台|情况|信息|知识|预报|预警|监测|速报|专家)")
"""汶川地震, 汶川县7.8级地震: where a quake is named from (its epicentre), however far away it was felt."""
NOT_IN_EPICENTRE = set("受往到次场的了在对于为生遇感震后此本这该起有是与和及级强大特治等据")
NOT_AN_EPICENTRE = frozenset("国家 中国 全国 我国 国内 各地 世界 全球 源性 构造 浅源 深源 破坏 有感 一次 这次 此次 台网 余震".split())
"""国家地震局, 中国地震台网, 浅源性地震: words before 地震 that name no place (they would join any two quakes)."""
NAMED_ATTACK_RE = re.compile(rf"([{_HAN}]{{2}})(?:火车站|汽车站|机场|地铁站|广场)?[“\"]?(?:暴力)?(?:恐怖袭击|暴恐袭击|暴恐|砍杀|爆炸案|恐怖事件|恐怖爆炸)")
"""昆明暴力恐怖袭击事件, 昆明火车站恐怖袭击事件: an attack is named after its city, and a city has no second
attack within days; so the name identifies the event in every later report (a vigil, the medical relief)."""
WIDE_RE = re.compile(rf"([{_HAN}]{{2}})(县|市)(?![{_HAN}]{{0,1}}(?:民|委|长|场|区|政府|级|里|内|境|城区|领导))")
FACILITY_RE = re.compile(rf"([{_HAN}A-Za-z0-9]{{1,6}}?)(工业园区|开发区|小区|花园|大道|大街|路|街|小学|中学|学校|幼儿园|医院|卫生院|"
                         rf"公司|工厂|化工厂|厂|景区|水库|市场|养老院|敬老院|火车站|汽车站|客运站|隧道|大桥|桥|高速|国道|省道|县道|"
                         rf"收费站|服务区|商场|超市|酒店|宾馆|酒吧|作坊|矿|煤矿|寺)(?![生长员工人过口边旁面上])")
VEHICLES = ("货车", "面包车", "客车", "大巴", "中巴", "轿车", "农用车", "三轮车", "摩托车", "校车", "渣土车", "槽罐车",
            "油罐车", "挂车", "搅拌车", "公交车", "出租车")
"""What was involved tells two accidents apart like a site does (a 货车 rolled over, a 面包车 crashed)."""
NAMED_SUFFIXES = frozenset("大道 大街 路 街 火车站 汽车站 客运站 隧道 大桥 桥 高速 国道 省道 县道 收费站 服务区".split())
"""Roads, stations and bridges carry a proper name (合宁高速, 昆明火车站); a factory or school found by its suffix may not."""
ROAD_RE = re.compile(r"(?:[GSX]\d{1,4}|\d{3})(?:国道|省道|县道|线)|[GSX]\d{1,4}|\d{3}国道")
GENERIC_PREFIX_RE = re.compile(r"^(?:[一二三四五六七八九十两几多数某该这那本其此各全我当附近一所一家一座一处一名多名\d]|主要|重要|其他|其它|有关|相关|"
                               r"当地|附近|城区|县城|镇上|村里|乡村|农村|城市|省|市|县|区)")
_NOT_A_PLACE = frozenset("全县 我县 本县 该县 全市 本市 我市 该市 城市 都市 超市 门市 夜市 股市 县市 省市 各县 各市 "
                         "城乡 各乡 乡镇 城镇 集镇 重镇 小镇 古镇 村镇 山村 农村 乡村 新村 全村 本村 该村 我村 邻村 各村 "
                         "村村 全镇 本镇 该镇 我镇 各镇 全乡 本乡 该乡 我乡 社区 街道".split())
ADMIN_CHARS = "省市县区镇乡村州"
ROAD_STOP = set("道马公修铁通断封堵上在到过经沿往去向经的小大工")
CUT_CHARS = ADMIN_CHARS + "〇会的在和与及于一某该这其到看是有了从向对被把过等"
MEASURE_CHARS = "家座所处个名栋辆场间"
"""Measure words left at the start after a cut (一家茶厂 → 家茶厂 → 茶厂); 严家村 keeps its 家."""
"""A place name starts after these: 潮阳区谷饶镇 → 谷饶镇, 居委会一家作坊 → (none)."""


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s or "")


def _treated(text: str, start: int) -> bool:
    """A facility right after 送往/送至/转入… or before 救治/抢救/治疗 is where victims were taken."""
    before = text[max(0, start - 8):start]
    return bool(re.search(r"(?:送往|送至|送到|送入|转往|转至|转入|转送|运往|赶往|入住|住进|就医于|在|到)[^，。；]{0,6}$", before))


@dataclass(frozen=True)
class Places:
    fine: frozenset[str] = frozenset()
    town: frozenset[str] = frozenset()
    wide: frozenset[str] = frozenset()
    site: frozenset[str] = frozenset()
    """Facilities found by their suffix only (石料厂, 贡溪小学): they tell two events apart, never join them."""

    def all(self) -> frozenset[str]:
        return self.fine | self.town | self.wide


def places(text: str, gaz: Gazetteer | None = None) -> Places:
    """Where the text says the event happened, by level; generic words and treatment places left out."""
    gaz = gaz or shipped_gazetteer()
    t = _norm(text)
    fine: set[str] = set()
    town: set[str] = set()
    wide: set[str] = set()
    site: set[str] = set()
    for name, level in gaz.names():
        if name in t:
            {FINE: fine, TOWN: town, WIDE: wide}[level].add(name)
            if name in gaz.village_town:
                town.add(gaz.village_town[name])  # a listed village says its township too
            t = t.replace(name, "〇" * len(name))  # a listed name is not read again by the suffix rules
    for c in gaz.county:
        t = t.replace(c, "〇" * len(c))
    for m in ADMIN_RE.finditer(t):
        name = m.group(0)
        stem = m.group(1)
        cut = max(stem.rfind(ch) for ch in CUT_CHARS)
        if cut >= 0 and stem[cut] in "一这那该某其" and stem[cut + 1:cut + 2] in tuple(MEASURE_CHARS):
            cut += 1  # 一个村 → (none); 严家村 keeps its 家
        stem = stem[cut + 1:] if cut >= 0 else stem
        name = stem + m.group(2)
        if len(stem) < 2 or name in _NOT_A_PLACE or GENERIC_PREFIX_RE.match(stem):
            continue
        (town if m.group(2) in ("镇", "乡", "街道") else fine).add(name)
    for m in WIDE_RE.finditer(t):
        name = m.group(0)
        if name in _NOT_A_PLACE or GENERIC_PREFIX_RE.match(m.group(1)) or "等" in m.group(1):
            continue  # 等省市: a list, not a place
        wide.add(m.group(1))  # 汶川县 and 汶川 are one place
    for m in EPICENTRE_RE.finditer(t):
        stem = m.group(1)
        if (not GENERIC_PREFIX_RE.match(stem) and stem not in _NOT_A_PLACE and stem not in NOT_AN_EPICENTRE
                and not set(stem) & NOT_IN_EPICENTRE):
            wide.add(stem)
    for m in ROAD_RE.finditer(t):
        fine.add(m.group(0))
    for m in FACILITY_RE.finditer(t):
        prefix, suffix = m.group(1), m.group(2)
        if any(s in suffix for s in gaz.treatment) or _treated(t, m.start()):
            continue  # where victims were taken is not where it happened
        cut = max(prefix.rfind(ch) for ch in CUT_CHARS)
        if cut >= 0 and prefix[cut] in "一这那该某其" and prefix[cut + 1:cut + 2] in tuple(MEASURE_CHARS):
            cut += 1  # 一家茶厂 → 茶厂
        prefix = prefix[cut + 1:] if cut >= 0 else prefix
        if suffix in ("路", "街", "桥"):
            prefix = prefix[-3:]  # 建设路, 胜利街; not 组织抢修道路
            if len(prefix) < 2 or prefix[-1] in ROAD_STOP:
                continue
        name = prefix + suffix
        if len(prefix) < 2 or GENERIC_PREFIX_RE.match(prefix) or name in gaz.generic or prefix in gaz.generic:
            continue
        if any(name.endswith(g) and name[:-len(g)] in ("中心", "第一", "第二", "实验", "人民", "县") for g in gaz.generic):
            continue
        (fine if suffix in NAMED_SUFFIXES else site).add(name)
    site.update(w for w in VEHICLES if w in t)
    return Places(frozenset(fine), frozenset(town), frozenset(wide), frozenset(site))


# ------------------------------------------------------------------ identity


DAY_RE = re.compile(r"(?:(\d{1,2})月)?(\d{1,2})日(?=凌晨|清晨|早上|早晨|上午|中午|午间|下午|傍晚|晚上|晚间|夜间|夜里|深夜|晚|夜|\d|零时|[，,])")
RELATIVE_DAYS = (("前天", -2), ("昨天", -1), ("昨日", -1), ("昨晚", -1), ("昨夜", -1), ("今天", 0), ("今日", 0), ("今晨", 0),
                 ("今早", 0), ("刚刚", 0), ("今天凌晨", 0))


def event_days(text: str, at: dt.datetime) -> frozenset[int]:
    """Days of the month the text says the event happened on (Beijing); relative words read from ``at``."""
    t = _norm(text)
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
    m = CLOCK_RE.search(_norm(head))
    return frozenset({int(m.group(1)) * 60 + int(m.group(2))}) if m else frozenset()


def named_events(text: str, gaz: Gazetteer | None = None) -> frozenset[str]:
    """Cities an attack is named after (昆明暴力恐怖袭击事件 → 昆明); never the county or a generic word.

    The name must also be used as a place in the text (抵达昆明, 来自昆明, 昆明火车站, 昆明市): the two
    characters before 爆炸案 or 恐怖袭击 are as often a word (连环, 集市, 村口, 涉嫌) as a city.
    """
    gaz = gaz or shipped_gazetteer()
    t = _norm(text)
    out = set()
    for m in NAMED_ATTACK_RE.finditer(t):
        stem = m.group(1)
        if (stem in gaz.county or stem in _NOT_A_PLACE or stem in NOT_AN_EPICENTRE or GENERIC_PREFIX_RE.match(stem)
                or set(stem) & NOT_IN_EPICENTRE or set(stem) & set("起次场件名人")):
            continue
        if not re.search(rf"(?:抵达|到达|赶赴|赴|前往|飞往|来自|位于|返回){stem}|{stem}(?:市|县|州|省|火车站|汽车站|机场|地区)", t):
            continue  # 连环爆炸案, 集市暴恐袭击: the words before the attack must be a place the text goes to or names as one
        out.add(stem)
    return frozenset(out)


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
