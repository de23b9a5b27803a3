"""Thresholds from config/thresholds.toml and the grading of facts against them.

The numbers belong to the operator, not to the code: each rule carries the
clause it comes from so the reason shown to a person cites it. Grading takes
the highest level any rule reaches (criteria of a level are joined by 或),
which with lower bounds only is the half-open-band algorithm of rules.md §2.4.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from responder.data import DataError, read_toml

from .numerals import normalise

LEVELS = ("I", "II", "III", "IV")
LEVEL_NAMES = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}
RANK = {"I": 4, "II": 3, "III": 2, "IV": 1}
"""Higher rank = more severe; 0 = below 一般 / no emergency level."""
BY_RANK = {v: k for k, v in RANK.items()}


class ThresholdError(DataError):
    """config/thresholds.toml is wrong: the message names the file, the key and the problem."""


@dataclass(frozen=True)
class Rule:
    level: str
    metric: str
    bound: float
    inclusive: bool
    also: tuple[tuple[str, float], ...]
    strict: bool
    cite: str

    def holds(self, values: dict[str, float]) -> bool:
        v = values.get(self.metric)
        if v is None or not (v >= self.bound if self.inclusive else v > self.bound):
            return False
        return all(values.get(m) is not None and values[m] >= b for m, b in self.also)


@dataclass(frozen=True)
class Described:
    """A criterion the plan states in words, not numbers (县级城市饮用水水源地取水中断, 跨省界影响,
    预防接种出现死亡): recognised by a regular expression over the text, optionally with counts
    (``also``: 械斗 with 200 people). ``strict`` ones only start the 5-hour clock for review."""
    level: str
    pattern: re.Pattern
    also: tuple[tuple[str, float], ...]
    strict: bool
    cite: str


@dataclass(frozen=True)
class Standard:
    id: str
    name: str
    boundary: str
    note: str
    deaths_include_missing: bool
    rules: tuple[Rule, ...]
    count_as: tuple[tuple[str, str, str], ...] = ()
    """(metric, counted as metric, why): 493号 counts 急性工业中毒 as 重伤."""
    strict_stated_when: re.Pattern | None = None
    """The text settles what the strict rules assume (人口密集地区): they count as stated."""
    strict_ignored_when: re.Pattern | None = None
    """The text rules out what the strict rules assume (人口稀少): they are not read at all."""
    described: tuple[Described, ...] = ()
    """The plan's criteria in words (see :class:`Described`)."""


@dataclass(frozen=True)
class Marker:
    level: str
    pattern: re.Pattern


@dataclass(frozen=True)
class Thresholds:
    standards: dict[str, Standard]
    metrics: dict[str, tuple[str, str]]
    """metric → (Chinese label, unit)."""
    markers: tuple[Marker, ...]
    weak_marker: re.Pattern | None
    escalate: re.Pattern | None


@dataclass(frozen=True)
class Hit:
    rule: Rule
    value: float
    standard: Standard


def _regex(path: Path, key: str, pattern: object) -> re.Pattern:
    if not isinstance(pattern, str) or not pattern:
        raise ThresholdError(f"{path}: {key}: `pattern` must be a non-empty regular expression")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ThresholdError(f"{path}: {key}: bad regular expression {pattern!r}: {exc}") from None


def load_thresholds(path: str | Path) -> Thresholds:
    """Read and check thresholds.toml; every problem names the file and the key."""
    path = Path(path)
    data = read_toml(path, ThresholdError)
    raw_metrics = data.get("metrics")
    if not isinstance(raw_metrics, dict) or not raw_metrics:
        raise ThresholdError(f"{path}: [metrics]: expected a table of metric = {{ label, unit }}")
    metrics: dict[str, tuple[str, str]] = {}
    for name, spec in raw_metrics.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("label"), str):
            raise ThresholdError(f"{path}: metrics.{name}: needs `label` (Chinese) and `unit`")
        metrics[name] = (spec["label"], str(spec.get("unit", "")))
    raw_std = data.get("standard")
    if not isinstance(raw_std, dict) or not raw_std:
        raise ThresholdError(f"{path}: expected [standard.<id>] tables")
    standards: dict[str, Standard] = {}
    for sid, spec in raw_std.items():
        where = f"{path}: standard.{sid}"
        if not isinstance(spec, dict):
            raise ThresholdError(f"{where}: must be a table")
        unknown = set(spec) - {"name", "boundary", "note", "rule", "deaths_include_missing", "count_as",
                               "strict_stated_when", "strict_ignored_when", "described"}
        if unknown:
            raise ThresholdError(f"{where}: unknown key(s) {sorted(unknown)}")
        if not isinstance(spec.get("name"), str) or not spec["name"]:
            raise ThresholdError(f"{where}: `name` (the document cited in reasons) is required")
        rules = spec.get("rule")
        if not isinstance(rules, list) or not rules:
            raise ThresholdError(f"{where}: `rule` must be a non-empty list")
        parsed = tuple(_rule(f"{where}.rule[{i}]", r, metrics) for i, r in enumerate(rules))
        count_as = []
        for i, c in enumerate(spec.get("count_as", [])):
            if (not isinstance(c, dict) or set(c) != {"metric", "as", "cite"} or c["metric"] not in metrics
                    or c["as"] not in metrics or not isinstance(c["cite"], str)):
                raise ThresholdError(f"{where}.count_as[{i}]: expected {{ metric = <known metric>, as = <known metric>, "
                                     "cite = \"the clause\" }")
            count_as.append((c["metric"], c["as"], c["cite"]))
        when = {k: _regex(path, f"standard.{sid}.{k}", spec[k]) if k in spec else None
                for k in ("strict_stated_when", "strict_ignored_when")}
        standards[sid] = Standard(sid, spec["name"], str(spec.get("boundary", "")), str(spec.get("note", "")),
                                  bool(spec.get("deaths_include_missing", False)), parsed, tuple(count_as),
                                  when["strict_stated_when"], when["strict_ignored_when"],
                                  tuple(_described(path, f"standard.{sid}.described[{i}]", r, metrics)
                                        for i, r in enumerate(spec.get("described", []))))
    markers = []
    for i, mk in enumerate(data.get("marker", [])):
        key = f"marker[{i}]"
        if mk.get("level") not in LEVELS:
            raise ThresholdError(f"{path}: {key}: `level` must be one of {', '.join(LEVELS)}, not {mk.get('level')!r}")
        markers.append(Marker(mk["level"], _regex(path, key, mk.get("pattern"))))
    weak = data.get("weak_markers", {}).get("pattern")
    esc = data.get("escalate", {}).get("pattern")
    return Thresholds(standards, metrics, tuple(markers),
                      _regex(path, "weak_markers", weak) if weak else None,
                      _regex(path, "escalate", esc) if esc else None)


def _rule(where: str, r: object, metrics: dict) -> Rule:
    if not isinstance(r, dict):
        raise ThresholdError(f"{where}: must be a table")
    unknown = set(r) - {"level", "metric", "min", "over", "also", "reading", "cite"}
    if unknown:
        raise ThresholdError(f"{where}: unknown key(s) {sorted(unknown)}")
    if r.get("level") not in LEVELS:
        raise ThresholdError(f"{where}: `level` must be one of {', '.join(LEVELS)}, not {r.get('level')!r}")
    metric = r.get("metric")
    if metric not in metrics:
        raise ThresholdError(f"{where}: `metric` {metric!r} is not listed under [metrics]")
    if ("min" in r) == ("over" in r):
        raise ThresholdError(f"{where}: give exactly one of `min` (以上, ≥) or `over` (超过, >)")
    bound = r.get("min", r.get("over"))
    if isinstance(bound, bool) or not isinstance(bound, (int, float)) or bound < 0:
        raise ThresholdError(f"{where}: the bound must be a non-negative number, not {bound!r}")
    also = r.get("also", {})
    if not isinstance(also, dict) or any(m not in metrics or isinstance(v, bool) or not isinstance(v, (int, float))
                                         for m, v in also.items()):
        raise ThresholdError(f"{where}: `also` must map known metrics to numbers")
    reading = r.get("reading", "stated")
    if reading not in ("stated", "strict"):
        raise ThresholdError(f"{where}: `reading` must be 'stated' or 'strict', not {reading!r}")
    cite = r.get("cite")
    if not isinstance(cite, str) or not cite:
        raise ThresholdError(f"{where}: `cite` (the clause the number comes from) is required")
    return Rule(r["level"], metric, float(bound), "min" in r, tuple((m, float(v)) for m, v in also.items()),
                reading == "strict", cite)


def _described(path: Path, key: str, r: object, metrics: dict) -> Described:
    where = f"{path}: {key}"
    if not isinstance(r, dict):
        raise ThresholdError(f"{where}: must be a table")
    unknown = set(r) - {"level", "pattern", "also", "reading", "cite"}
    if unknown:
        raise ThresholdError(f"{where}: unknown key(s) {sorted(unknown)}")
    if r.get("level") not in LEVELS:
        raise ThresholdError(f"{where}: `level` must be one of {', '.join(LEVELS)}, not {r.get('level')!r}")
    also = r.get("also", {})
    if not isinstance(also, dict) or any(m not in metrics or isinstance(v, bool) or not isinstance(v, (int, float))
                                         for m, v in also.items()):
        raise ThresholdError(f"{where}: `also` must map known metrics to numbers")
    reading = r.get("reading", "stated")
    if reading not in ("stated", "strict"):
        raise ThresholdError(f"{where}: `reading` must be 'stated' or 'strict', not {reading!r}")
    if not isinstance(r.get("cite"), str) or not r["cite"]:
        raise ThresholdError(f"{where}: `cite` (the clause the criterion comes from) is required")
    return Described(r["level"], _regex(path, key, r.get("pattern")), tuple((m, float(v)) for m, v in also.items()),
                     reading == "strict", r["cite"])


def grade(standard: Standard, values: dict[str, float], *, strict: bool) -> list[Hit]:
    """Rules that hold, most severe first; ``strict`` adds the conservative readings."""
    hits = [Hit(r, values[r.metric], standard) for r in standard.rules
            if (strict or not r.strict) and r.holds(values)]
    hits.sort(key=lambda h: -RANK[h.rule.level])
    return hits


def fmt_value(v: float) -> str:
    if v == float("inf"):
        return "不详（可能很多）"
    if float(v).is_integer():
        v = int(v)
        if v >= 100_000_000 and v % 1_000_000 == 0:
            return f"{v / 100_000_000:g}亿"
        if v >= 10_000 and v % 100 == 0:
            return f"{v / 10_000:g}万"
        return str(v)
    return f"{v:g}"


def reason_for(hit: Hit, metrics: dict[str, tuple[str, str]], shown: dict[str, str] | None = None) -> str:
    """``死亡12人 ≥ 10（《…》第三条第一款第（二）项，重大）``."""
    label, unit = metrics[hit.rule.metric]
    value = (shown or {}).get(hit.rule.metric) or f"{fmt_value(hit.value)}{unit}"
    op = "≥" if hit.rule.inclusive else ">"
    text = f"{label}{value} {op} {fmt_value(hit.rule.bound)}"
    for m, b in hit.rule.also:
        text += f" 且{metrics[m][0]} ≥ {fmt_value(b)}"
    return f"{text}（{hit.standard.name}，{hit.rule.cite}，{LEVEL_NAMES[hit.rule.level]}）"


_LEVEL_WORDS = {
    "I": "I", "Ⅰ": "I", "1": "I", "一": "I", "一级": "I", "I级": "I", "Ⅰ级": "I", "特别重大": "I",
    "II": "II", "Ⅱ": "II", "2": "II", "二": "II", "二级": "II", "II级": "II", "Ⅱ级": "II", "重大": "II",
    "III": "III", "Ⅲ": "III", "3": "III", "三": "III", "三级": "III", "III级": "III", "Ⅲ级": "III", "较大": "III",
    "IV": "IV", "Ⅳ": "IV", "4": "IV", "四": "IV", "四级": "IV", "IV级": "IV", "Ⅳ级": "IV", "一般": "IV",
}


def parse_level(value: object) -> str | None:
    """A feed's level field (I, Ⅱ, 二级, 特别重大, 3 …) as "I".."IV", or None when unreadable."""
    if value is None:
        return None
    s = normalise(str(value)).strip().upper()
    s = re.sub(r"(?:应急)?(?:响应|事件|突发事件)$", "", s)
    return _LEVEL_WORDS.get(s) or _LEVEL_WORDS.get(s.replace("级", "")) or None
