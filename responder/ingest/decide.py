"""Pure decisions of the ingest path: what is new, what is a duplicate, what joins a story, when to poll next.

The shell queries what already exists (one ``IN`` query per feed) and hands the
answers in as plain values; these functions decide, so every rule here is
testable without a database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Literal

from responder.ingest.normalise import MIN_TITLE_KEY, MIN_TEXT_KEY
from responder.ingest.parse import ParsedItem

Outcome = Literal["new", "duplicate", "attached", "same_story", "release"]

MATCH_WINDOW = dt.timedelta(hours=72)
FUTURE_TOLERANCE = dt.timedelta(hours=24)
MAX_BACKOFF = dt.timedelta(hours=6)


@dataclass(frozen=True)
class Existing:
    """An item already stored, as far as matching needs to know it."""

    id: int
    source_name: str
    guid: str
    link: str | None
    content_hash: str
    title_key: str
    case_id: int | None
    same_story_as: int | None = None


@dataclass(frozen=True)
class Decision:
    item: ParsedItem
    outcome: Outcome
    reason: str | None = None
    case_id: int | None = None
    same_story_as: int | None = None
    match_id: int | None = None


def settle_dates(items: tuple[ParsedItem, ...], now: dt.datetime, *, replay: bool) -> tuple[list[ParsedItem], int]:
    """(items to store now, number held back).

    Replay (local files under a virtual ``now``): an item dated in the future has
    not "arrived" yet and is held back for a later poll. A live feed's item dated
    more than a day ahead has a wrong date: we use the time first seen and say so.
    """
    ready: list[ParsedItem] = []
    held = 0
    for it in items:
        if it.published_source == "feed" and it.published_at is not None:
            if replay and it.published_at > now:
                held += 1
                continue
            if not replay and it.published_at > now + FUTURE_TOLERANCE:
                note = f"发布时间 {it.published_at:%Y-%m-%dT%H:%MZ} 晚于当前时间，按首次看到的时间计"
                it = dataclasses.replace(it, published_at=now, published_source="first_seen", date_note=note)
        ready.append(it)
    return ready, held


def _title_matches(key: str) -> bool:
    return len(key) >= MIN_TITLE_KEY


def decide(items: list[ParsedItem], *, source_name: str, role: str, same_source: list[Existing],
           other_sources: list[Existing]) -> list[Decision]:
    """Classify every item of one poll.

    ``same_source``: stored items of this source sharing a guid, link or content
    hash with the batch. ``other_sources``: recent non-release items of other
    sources sharing a title key or content hash.
    """
    by_guid = {e.guid: e for e in same_source}
    by_link = {e.link: e for e in same_source if e.link}
    by_hash = {e.content_hash: e for e in same_source}
    other_by_title: dict[str, Existing] = {}
    other_by_hash: dict[str, Existing] = {}
    for e in sorted(other_sources, key=lambda e: (e.case_id is None, e.id)):  # a match with a case wins
        if _title_matches(e.title_key):
            other_by_title.setdefault(e.title_key, e)
        other_by_hash.setdefault(e.content_hash, e)
    seen_guid: dict[str, int] = {}
    seen_hash: dict[str, int] = {}
    out: list[Decision] = []
    for n, it in enumerate(items, 1):
        prev = by_guid.get(it.guid) or (by_link.get(it.link) if it.link else None)
        if prev is not None:
            out.append(Decision(it, "duplicate", f"同一来源已有相同标识（guid/链接）的条目#{prev.id}", match_id=prev.id))
            continue
        prev = by_hash.get(it.content_hash)
        if prev is not None:
            out.append(Decision(it, "duplicate", f"同一来源已有内容相同的条目#{prev.id}", match_id=prev.id))
            continue
        if it.guid in seen_guid or it.content_hash in seen_hash:
            first = seen_guid.get(it.guid) or seen_hash.get(it.content_hash)
            out.append(Decision(it, "duplicate", f"与本次抓取的第 {first} 个条目重复"))
            continue
        seen_guid[it.guid] = n
        seen_hash[it.content_hash] = n
        if role == "release":
            out.append(Decision(it, "release"))
            continue
        match, why = None, ""
        if _title_matches(it.title_key) and it.title_key in other_by_title:
            match, why = other_by_title[it.title_key], "标题相同（归一化后）"
        elif it.content_hash in other_by_hash and (len(it.text) >= MIN_TEXT_KEY or _title_matches(it.title_key)):
            match, why = other_by_hash[it.content_hash], "内容相同（归一化后）"
        if match is None:
            out.append(Decision(it, "new"))
        elif match.case_id is not None:
            out.append(Decision(it, "attached", f"与来源 {match.source_name} 的条目#{match.id} {why}",
                                case_id=match.case_id, match_id=match.id))
        else:
            root = match.same_story_as or match.id
            out.append(Decision(it, "same_story", f"与来源 {match.source_name} 的条目#{match.id} {why}，属同一事件",
                                same_story_as=root, match_id=match.id))
    return out


def next_poll_at(now: dt.datetime, interval: int, failures: int, jitter: float) -> dt.datetime:
    """The regular interval after a success; exponential backoff with jitter after failures.

    ``jitter`` in [0, 1) comes from the shell (random), so that sources that
    failed together (a shared outage) do not all retry in the same second.
    """
    if failures <= 0:
        return now + dt.timedelta(seconds=interval)
    base = min(dt.timedelta(seconds=interval) * (2 ** min(failures - 1, 16)), max(MAX_BACKOFF, dt.timedelta(seconds=interval)))
    factor = 0.5 + 0.5 * min(max(jitter, 0.0), 1.0)  # "equal jitter": never sooner than half the delay
    return now + base * factor
