"""An earthquake's measured magnitude in a report: not a comparison (类似4-5级地震), not a past quake's.

The 2012 quake plan's preliminary level (初判) uses a measured magnitude; how the shaking felt and the
magnitude of a quake remembered in a background paragraph are set aside with the reason (issue 20).
"""

from __future__ import annotations

import re

from .background import YEAR_RE, _past

MAG_RES = (
    re.compile(r"(?:里氏|震级[为达是]?|[Mm][Ss]?)\s*(\d(?:\.\d+)?)\s*级?"),
    re.compile(r"(\d(?:\.\d+)?)\s*级(?:强烈|强|大|左右的?|的)?(?:地震|强震|余震|大地震)"),
    re.compile(r"(\d\.\d)(?:强烈|强)?(?:地震|强震)"),
)
CN_MAG_RE = re.compile(r"([一二三四五六七八九])点([零〇一二三四五六七八九])级")
_CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}
FORETOLD_RE = re.compile(r"(?:将|将要|会|要|可能|预测|预言|预报)[^，,。；;\d]{0,6}$")
"""网传“下周将发生7级地震”: a foretold quake has no measured magnitude (quakes cannot be predicted)."""
COMPARED_RE = re.compile(r"(?:类似|像是?|好像|好似|仿佛|如同|犹如|宛如|堪比|好比|相当于|感觉是|以为是|估计)[^，。；\d]{0,4}$")
RANGE_BEFORE_RE = re.compile(r"\d\s*(?:-|~|至|到|、)\s*$")
"""类似4-5级地震 compares how the shaking felt; the quake plan's 初判 uses a measured magnitude (issue 20)."""


def _magnitude(text: str, facts) -> None:
    """Sets ``facts.magnitude`` (the largest measured one, or None) and its evidence."""
    best: float | None = None
    ev = ""
    found: list[tuple[float, int, int]] = []
    for rx in MAG_RES:
        for m in rx.finditer(text):
            try:
                found.append((float(m.group(1)), m.start(), m.end()))
            except ValueError:
                continue
    for m in CN_MAG_RE.finditer(text):
        found.append((_CN_DIGIT[m.group(1)] + _CN_DIGIT[m.group(2)] / 10, m.start(), m.end()))
    years = [int(y) for y in YEAR_RE.findall(text)]
    latest = max(years) if years else None
    for v, start, end in found:
        if FORETOLD_RE.search(text[max(0, start - 10):start]):
            facts.set_aside.append(f"“{text[max(0, start - 6):end]}”是预测或传言中将要发生的地震，不是已测定的震级")
            continue
        if COMPARED_RE.search(text[max(0, start - 8):start]) or RANGE_BEFORE_RE.search(text[max(0, start - 3):start]):
            facts.set_aside.append(f"“{text[max(0, start - 6):end]}”是对震感的比喻或估计，不是测定的震级")
            continue
        if 0 < v < 10 and (best is None or v > best) and not _past(text, start, latest):
            best, ev = v, text[max(0, start - 6):end + 2]
    facts.magnitude = best
    facts.magnitude_evidence = ev
