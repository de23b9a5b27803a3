"""Matching a release from the county's own channel to the open case it answers.

A wrong automatic match silently stops a 5-hour clock, so precision matters more
than recall: a release is attached automatically only when it shares a place
and an event word with exactly one open case, clearly ahead of the next best;
otherwise it is proposed for a person to confirm, or left alone.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

AUTO_SCORE = 0.7
PROPOSE_SCORE = 0.35
AUTO_MARGIN = 0.2
WINDOW_BEFORE = dt.timedelta(hours=1)
WINDOW_AFTER = dt.timedelta(days=14)

ADMIN_RE = re.compile(r"[\u4e00-\u9fa5]{2}(?:镇|乡|村|街道|社区)")
"""Townships and villages: the two characters before the suffix (仁里镇, 矶滩乡, 七都镇)."""
FACILITY_RE = re.compile(r"([\u4e00-\u9fa5]{0,4})(工业园区|开发区|园区|小区|大道|小学|中学|学校|幼儿园|医院|卫生院|公司|工厂|化工厂|景区|水库|市场|养老院|敬老院)")
ADMIN_CHARS = "县镇乡村市区"

EVENT_WORDS = (
    "火灾", "起火", "着火", "失火", "爆炸", "爆燃", "车祸", "交通事故", "相撞", "侧翻", "坠河", "中毒", "食物中毒",
    "滑坡", "泥石流", "山洪", "洪水", "洪涝", "内涝", "地震", "坍塌", "垮塌", "倒塌", "污染", "死鱼", "泄漏",
    "停水", "停电", "收费", "乱收费", "噪音", "噪声", "扬尘", "补贴", "拖欠", "欠薪", "讨薪", "拆迁", "征地",
    "疫情", "传染", "溺水", "溺亡", "触电", "踩踏", "群体性", "聚集", "上访", "养老院", "敬老院", "学校", "景区",
    "占道", "违建", "渣土", "异味", "恶臭", "暴恐", "恐怖", "袭击", "砍人", "持刀", "枪击", "纵火", "追尾", "余震",
    "坠江", "坠崖", "翻车", "透水", "瓦斯", "森林火灾", "山火",
)

STOPWORDS = frozenset("关于 有关 情况 通报 通告 公告 回应 说明 发布 权威 我县 县委 县政府 人民政府 工作 目前 相关 部门 进行 已经 "
                      "一起 事件 事故 问题 网友 反映 群众 表示 记者 今日 昨日 日前 近日 进一步 及时 依法 石台县 石台".split())

PRESS_WORDS = ("新闻发布会", "发布会")
BRIEFING_WORDS = ("吹风会",)
INTERVIEW_WORDS = ("接受采访", "媒体采访", "答记者问")


def release_kind(text: str) -> str:
    """What kind of release a text from the release channel is (rules.md §1.5)."""
    if any(w in text for w in PRESS_WORDS):
        return "新闻发布会"
    if any(w in text for w in BRIEFING_WORDS):
        return "吹风会"
    if any(w in text for w in INTERVIEW_WORDS):
        return "媒体采访"
    return "权威发布"


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s or "")


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokens(text: str) -> frozenset[str]:
    words = _jieba().lcut(_norm(text))
    return frozenset(w for w in words if len(w) >= 2 and w not in STOPWORDS and not w.isdigit() and not re.fullmatch(r"[\W_]+", w))


def places(text: str) -> frozenset[str]:
    """Place names: townships/villages, and facilities trimmed after any administrative prefix."""
    t = _norm(text)
    out = {m.group(0) for m in ADMIN_RE.finditer(t)}
    for m in FACILITY_RE.finditer(t):
        prefix, suffix = m.group(1), m.group(2)
        cut = max(prefix.rfind(ch) for ch in ADMIN_CHARS)  # 仁里镇中心小学 → 中心小学
        name = ((prefix[cut + 1:] if cut >= 0 else prefix).lstrip("某一该这本其") + suffix)
        if len(name) >= 3:
            out.add(name)
    return frozenset(out)


def events(text: str) -> frozenset[str]:
    t = _norm(text)
    return frozenset(w for w in EVENT_WORDS if w in t)


@dataclass(frozen=True)
class CaseText:
    case_id: int
    text: str
    """Title and item texts of the case."""
    started_at: dt.datetime
    department: str | None = None


@dataclass(frozen=True)
class Match:
    case_id: int
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class MatchDecision:
    action: str  # attach | propose | none
    best: Match | None
    candidates: tuple[Match, ...]


def score(release_text: str, release_at: dt.datetime, case: CaseText) -> Match:
    if release_at < case.started_at - WINDOW_BEFORE or release_at > case.started_at + WINDOW_AFTER:
        return Match(case.case_id, 0.0, ("发布时间不在案件时间窗口内",))
    reasons: list[str] = []
    s = 0.0
    shared_places = places(release_text) & places(case.text)
    if shared_places:
        s += 0.35
        reasons.append("地点相同：" + "、".join(sorted(shared_places)[:3]))
    shared_events = events(release_text) & events(case.text)
    if shared_events:
        s += 0.25
        reasons.append("事件词相同：" + "、".join(sorted(shared_events)[:3]))
    if case.department and case.department in release_text:
        s += 0.15
        reasons.append(f"发布单位为责任部门：{case.department}")
    a, b = tokens(case.text), tokens(release_text)
    if a:
        overlap = len(a & b) / min(len(a), max(len(b), 1))
        s += 0.4 * min(overlap * 2, 1.0)
        if a & b:
            reasons.append(f"词语重合 {len(a & b)} 个（{'、'.join(sorted(a & b)[:5])}）")
    return Match(case.case_id, round(s, 3), tuple(reasons))


def decide(release_text: str, release_at: dt.datetime, cases: list[CaseText]) -> MatchDecision:
    ranked = sorted((score(release_text, release_at, c) for c in cases), key=lambda m: -m.score)
    ranked = [m for m in ranked if m.score > 0]
    if not ranked:
        return MatchDecision("none", None, ())
    best = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else 0.0
    has_place = any(r.startswith("地点相同") for r in best.reasons)
    has_event = any(r.startswith("事件词相同") for r in best.reasons)
    if best.score >= AUTO_SCORE and has_place and has_event and best.score - second >= AUTO_MARGIN:
        return MatchDecision("attach", best, tuple(ranked[:3]))
    if best.score >= PROPOSE_SCORE:
        return MatchDecision("propose", best, tuple(ranked[:3]))
    return MatchDecision("none", best, tuple(ranked[:3]))


SAME_STORY_SIMILARITY = 0.75
SAME_STORY_WINDOW = dt.timedelta(hours=72)
SAME_STORY_TEXT = 0.5
"""Share of the shorter text's 5-character shingles found in the other text.

Measured on corpus/dev (124 reports, 7,626 pairs): reports of different events
never exceed 0.20; two agencies independently reporting the same earthquake or
fire reach 0.34-0.45; a repost or a lightly edited copy sits near 1.0. 0.5 joins
copies and edits and leaves independent re-reporting apart, because merging two
different incidents would hide one (a duplicate case only costs a closure).
"""
TEXT_SHINGLE = 5
MIN_STORY_TEXT = 60
"""Texts shorter than this (after removing punctuation) carry too little to compare."""
_PUNCT_RE = re.compile(r"[\W_]+")
_REPOST_RE = re.compile(r"^(?:转发|转载|转|原创|快讯|突发|最新|网传|关注)[:：]?")


def title_bigrams(title: str) -> frozenset[str]:
    t = _PUNCT_RE.sub("", _REPOST_RE.sub("", _norm(title).strip()))
    return frozenset(t[i:i + 2] for i in range(len(t) - 1))


def title_similarity(a: str, b: str) -> float:
    """Jaccard similarity of character bigrams: robust to reposts that add a prefix or change a word."""
    x, y = title_bigrams(a), title_bigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def text_shingles(text: str) -> frozenset[str]:
    """5-character shingles of a body text without punctuation; empty when the text is too short to judge."""
    t = _PUNCT_RE.sub("", _norm(text))
    if len(t) < MIN_STORY_TEXT:
        return frozenset()
    return frozenset(t[i:i + TEXT_SHINGLE] for i in range(len(t) - TEXT_SHINGLE + 1))


def text_containment(a: frozenset[str], b: frozenset[str]) -> float:
    """How much of the shorter text the other contains: a repost that trims or adds a paragraph stays high."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


@dataclass
class StoryRef:
    """An open case as near-duplicate matching sees it: its titles, its items' texts, when it started."""

    case_id: int
    started: dt.datetime
    titles: list[str]
    texts: list[frozenset[str]]


@dataclass(frozen=True)
class StoryHit:
    case_id: int
    similarity: float
    by: str  # "title" | "text"


def same_story(title: str, text: str, at: dt.datetime, cases: list[StoryRef]) -> StoryHit | None:
    """The open case that reads as the same story, within 72 hours; else None.

    Either the titles are alike (bigram Jaccard ≥ 0.75) or the bodies are
    (shingle containment ≥ 0.5): a repost that rewrites the headline still
    carries the original text. The best-scoring case wins.
    """
    mine = text_shingles(text)
    best: StoryHit | None = None
    for ref in cases:
        if abs(at - ref.started) > SAME_STORY_WINDOW:
            continue
        by_title = max((title_similarity(title, t) for t in ref.titles), default=0.0)
        by_text = max((text_containment(mine, t) for t in ref.texts), default=0.0)
        for sim, by, floor in ((by_title, "title", SAME_STORY_SIMILARITY), (by_text, "text", SAME_STORY_TEXT)):
            if sim >= floor and (best is None or sim > best.similarity):
                best = StoryHit(ref.case_id, round(sim, 2), by)
    return best
