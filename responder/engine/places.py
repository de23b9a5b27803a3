"""The county's gazetteer, and where a text says an event happened.

``places(text, gaz)`` finds the places a report names, by level: a specific
place (village, street, named facility, road), a township, a wider place
(county or city elsewhere, a river), and facilities found by their suffix only.
Generic facility words (人民医院, 多名小学) and the hospital victims were taken
to are left out: they would join different events. ``named_events`` finds the
city an attack is named after. ``event_identity`` compares what these find.

Pure: text in, places out; the gazetteer is data (``config/gazetteer.toml``),
read once per modification time.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from responder.config import shipped_config_dir

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


def normalise(s: str) -> str:
    """Full-width digits and letters as half-width (NFKC), so patterns see one form."""
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
    t = normalise(text)
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


def named_events(text: str, gaz: Gazetteer | None = None) -> frozenset[str]:
    """Cities an attack is named after (昆明暴力恐怖袭击事件 → 昆明); never the county or a generic word.

    The name must also be used as a place in the text (抵达昆明, 来自昆明, 昆明火车站, 昆明市): the two
    characters before 爆炸案 or 恐怖袭击 are as often a word (连环, 集市, 村口, 涉嫌) as a city.
    """
    gaz = gaz or shipped_gazetteer()
    t = normalise(text)
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
