"""Event kinds and department routing from config/routing.toml.

Which table grades an event, and who answers for it, are decisions the office
revises (a department renamed, a keyword that misroutes): they live in data.
Domain keywords are matched on jieba tokens, not substrings, because short
words mislead inside longer ones (税 in 税务 is fine, but 小区 inside 市区
is not, 学生 inside 医学生 is not a school). Kind keywords are long compounds,
matched as substrings over the whole text for speed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from responder.data import DataError, Domain, read_toml

CATEGORIES = ("自然灾害", "事故灾难", "公共卫生事件", "社会安全事件")


class RoutingError(DataError):
    """config/routing.toml is wrong: the message names the file, the key and the problem."""


@dataclass(frozen=True)
class Kind:
    id: str
    name: str
    category: str
    standard: str
    domain: str | None
    department: str
    co_departments: tuple[str, ...]
    keywords: tuple[str, ...]
    priority: int
    pattern: re.Pattern
    phrases: re.Pattern | None = None
    """Regular expressions that name the event by a combination (用餐后…呕吐): each match is one hit."""


@dataclass(frozen=True)
class Routing:
    kinds: tuple[Kind, ...]
    title_weight: int
    min_score: int
    exclude: re.Pattern | None
    category_owner: dict[str, str]
    domain_keywords: dict[str, tuple[str, ...]]
    domains: dict[str, Domain]
    outside: re.Pattern
    mainland: re.Pattern


def load_routing(path: str | Path, domains: tuple[Domain, ...], standards: set[str]) -> Routing:
    """Read routing.toml and check it against 附件2 and the threshold standards."""
    path = Path(path)
    data = read_toml(path, RoutingError)
    by_name = {d.name: d for d in domains}
    known_departments = {dep for d in domains for dep in d.departments}
    owners = data.get("category_owner", {})
    for cat, dep in owners.items():
        if cat not in CATEGORIES:
            raise RoutingError(f"{path}: category_owner.{cat}: not one of {', '.join(CATEGORIES)}")
        if dep not in known_departments:
            raise RoutingError(f"{path}: category_owner.{cat}: department {dep!r} is not named in 附件2 (domains file)")
    kinds = []
    raw_kinds = data.get("kind")
    if not isinstance(raw_kinds, list) or not raw_kinds:
        raise RoutingError(f"{path}: expected [[kind]] tables")
    for i, k in enumerate(raw_kinds):
        where = f"{path}: kind[{i}]" + (f" ({k.get('id')})" if isinstance(k, dict) and k.get("id") else "")
        for key in ("id", "name", "category", "standard", "department"):
            if not isinstance(k.get(key), str) or not k[key]:
                raise RoutingError(f"{where}: `{key}` must be a non-empty string")
        if k["category"] not in CATEGORIES:
            raise RoutingError(f"{where}: `category` {k['category']!r} is not one of {', '.join(CATEGORIES)}")
        if k["standard"] not in standards:
            raise RoutingError(f"{where}: `standard` {k['standard']!r} is not a [standard.*] of the thresholds file")
        dom = k.get("domain")
        if dom is not None and dom not in by_name:
            raise RoutingError(f"{where}: `domain` {dom!r} is not a 附件2 domain")
        deps = [k["department"], *k.get("co_departments", [])]
        for dep in deps:
            if dep not in known_departments:
                raise RoutingError(f"{where}: department {dep!r} is not named in 附件2 (domains file)")
        kws = k.get("keywords")
        if not isinstance(kws, list) or not kws or not all(isinstance(w, str) and w for w in kws):
            raise RoutingError(f"{where}: `keywords` must be a non-empty list of strings")
        pats = k.get("patterns", [])
        if not isinstance(pats, list) or not all(isinstance(p, str) and p for p in pats):
            raise RoutingError(f"{where}: `patterns` must be a list of regular expressions")
        try:
            phrases = re.compile("|".join(f"(?:{p})" for p in pats)) if pats else None
        except re.error as exc:
            raise RoutingError(f"{where}: `patterns`: bad regular expression: {exc}") from None
        kinds.append(Kind(k["id"], k["name"], k["category"], k["standard"], dom, k["department"],
                          tuple(k.get("co_departments", [])), tuple(kws), int(k.get("priority", 0)),
                          re.compile("|".join(map(re.escape, sorted(kws, key=len, reverse=True)))), phrases))
    dk = data.get("domain_keywords", {})
    domain_keywords: dict[str, tuple[str, ...]] = {}
    for name, words in dk.items():
        if name not in by_name:
            raise RoutingError(f"{path}: domain_keywords.{name}: not a 附件2 domain")
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise RoutingError(f"{path}: domain_keywords.{name}: must be a list of words")
        domain_keywords[name] = tuple(words)
    exclude = data.get("exclude")
    try:
        exclude_re = re.compile(exclude) if exclude else None
    except re.error as exc:
        raise RoutingError(f"{path}: exclude: bad regular expression: {exc}") from None
    scope = data.get("scope", {})
    outside = scope.get("outside") or []
    mainland = scope.get("mainland") or []
    if not outside or not mainland:
        raise RoutingError(f"{path}: [scope] needs non-empty `outside` and `mainland` lists")
    return Routing(tuple(kinds), int(data.get("title_weight", 3)), int(data.get("min_score", 1)), exclude_re,
                   dict(owners), domain_keywords, by_name,
                   re.compile("|".join(map(re.escape, sorted(outside, key=len, reverse=True)))),
                   re.compile("|".join(map(re.escape, sorted(mainland, key=len, reverse=True)))))


class Segmenter:
    """A private jieba tokenizer that knows every routing keyword as a word.

    Private so adding our words does not change segmentation for other users of
    jieba in the process.
    """

    def __init__(self, words):
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)  # its start-up chatter is not our operators' business

        self._tok = jieba.Tokenizer()
        self._blocks = jieba.re_han_default  # how jieba splits text before segmenting (see lcut_around)
        self._tok.initialize()
        for w in words:
            self._tok.add_word(w, freq=2000)
        self._cache: dict[str, frozenset[int]] = {}

    def lcut(self, text: str) -> list[str]:
        return self._tok.lcut(text, HMM=False)

    def lcut_around(self, text: str, words: re.Pattern) -> list[str]:
        """The tokens of the blocks that contain one of ``words``, in order; the same tokens :meth:`lcut`
        gives for those blocks. jieba segments each run of CJK letters and digits (its ``re_han_default``
        block) on its own, so a token containing a word lies in a block containing it: the other blocks
        (about four characters in five of a report's opening) need no segmenting, which is most of the
        classifier's time (bench/classify.py)."""
        out: list[str] = []
        for blk in self._blocks.split(text):
            if blk and words.search(blk):
                out += self._tok.lcut(blk, HMM=False)
        return out

    def boundaries(self, window: str) -> frozenset[int]:
        b = self._cache.get(window)
        if b is None:
            pos, out = 0, {0}
            for t in self._tok.lcut(window, HMM=False):
                pos += len(t)
                out.add(pos)
            b = frozenset(out)
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[window] = b
        return b

    def is_word(self, text: str, start: int, end: int) -> bool:
        """A keyword match counts when it starts or ends on a word boundary (明火 in 昆明火车站 does not)."""
        ws = max(0, start - 6)
        b = self.boundaries(text[ws:end + 6])
        return (start - ws) in b or (end - ws) in b


def _hits(kind: Kind, text: str, seg: Segmenter | None) -> list[str]:
    hits = [m.group(0) for m in kind.pattern.finditer(text)
            if seg is None or seg.is_word(text, m.start(), m.end())]
    if kind.phrases is not None:
        hits += [m.group(0)[:12] for m in kind.phrases.finditer(text)]
    return hits


SIMILE_RE = re.compile(r"(?:(?<![录图影头画肖偶想塑镜])像是?|好像|如同|仿佛|犹如|宛如|好似)[^，,。；;！!？?“”\"\s]{1,10}?(?:一样|一般|似的|般)"
                       r"|类似[^，,。；;！!？?“”\"\s]{1,10}?(?:一样|似的)|跟[^，,。；;！!？?“”\"\s]{1,10}?似的")
"""像地震一样, 仿佛爆炸似的: a comparison describes how something felt; the thing compared with is not
the event (issue 20, probe set e). Removed before the kind is chosen, so the real event words decide.
跟地震了似的 is one too (probe set f); not 和/跟…一般 (该起火灾和爆炸事故定为一般事故) nor 录像/图像, where 像 is no
comparison."""


def kind_scores(routing: Routing, title: str, body: str,
                seg: Segmenter | None = None) -> list[tuple[tuple, int, Kind, list[str]]]:
    """Every kind the report names, as (ranking key, score, kind, words), best first (see detect_kind)."""
    if routing.exclude is not None:
        title = routing.exclude.sub("", title)
        body = routing.exclude.sub("", body)
    title, body = SIMILE_RE.sub("", title), SIMILE_RE.sub("", body)
    out = []
    for kind in routing.kinds:
        t_hits = _hits(kind, title, seg)
        b_hits = _hits(kind, body, seg)
        score = routing.title_weight * len(t_hits) + min(len(b_hits), 10)
        if score:
            key = (bool(t_hits), kind.priority if t_hits else score, score, kind.priority)
            out.append((key, score, kind, list(dict.fromkeys(t_hits + b_hits))[:4]))
    out.sort(key=lambda x: x[0], reverse=True)
    return out


def detect_kind(routing: Routing, title: str, body: str,
                seg: Segmenter | None = None) -> tuple[Kind | None, int, list[str]]:
    """The emergency kind a report is about, its score and the words that matched.

    The headline says what happened: among kinds named in the title the one
    with the highest priority wins (a cause such as 地震 outranks the accident
    it caused); the body decides only when the title names no kind.
    """
    return top_kind(routing, kind_scores(routing, title, body, seg))


def top_kind(routing: Routing, ranked: list) -> tuple[Kind | None, int, list[str]]:
    """The best of :func:`kind_scores`, or no kind when even it scores below ``min_score``."""
    if not ranked or ranked[0][1] < routing.min_score:
        return None, 0, []
    return ranked[0][2], ranked[0][1], ranked[0][3]


class DomainMatcher:
    """Scores 附件2 domains on jieba tokens of the title and the opening of the text."""

    def __init__(self, routing: Routing, seg: Segmenter):
        self._seg = seg
        self._index: dict[str, list[str]] = {}
        for name, words in routing.domain_keywords.items():
            for w in words:
                self._index.setdefault(w, []).append(name)
        self._title_weight = routing.title_weight
        self._words = re.compile("|".join(map(re.escape, sorted(self._index, key=len, reverse=True)))) if self._index \
            else re.compile(r"(?!)")

    def _head_match(self, tok: str) -> list[str]:
        """Chinese compounds are head-final: 中心小学 is a 小学, 乱收费 a kind of 收费."""
        for i in range(1, len(tok) - 1):
            names = self._index.get(tok[i:])
            if names:
                return names
        return []

    def score(self, title: str, head: str) -> list[tuple[str, int, list[str]]]:
        """Domains with their scores and matched words, best first."""
        scores: dict[str, int] = {}
        hits: dict[str, list[str]] = {}
        for text, weight in ((title, self._title_weight), (head, 1)):
            for tok in self._seg.lcut_around(text, self._words):
                for name in self._index.get(tok, ()) or self._head_match(tok):
                    scores[name] = scores.get(name, 0) + weight
                    if tok not in hits.setdefault(name, []):
                        hits[name].append(tok)
        return sorted(((n, s, hits[n]) for n, s in scores.items()), key=lambda x: -x[1])


def routing_words(routing: Routing) -> list[str]:
    words = [w for ws in routing.domain_keywords.values() for w in ws]
    words += [w for k in routing.kinds for w in k.keywords]
    return list(dict.fromkeys(words))


def is_outside(routing: Routing, title: str, head: str) -> str | None:
    """The outside place that makes the event foreign, or None (rules: classify, but review)."""
    m = routing.outside.search(title)
    if m and not routing.mainland.search(title):
        return m.group(0)
    if not m and not routing.mainland.search(title):
        m2 = routing.outside.search(head)
        if m2 and not routing.mainland.search(head):
            return m2.group(0)
    return None
