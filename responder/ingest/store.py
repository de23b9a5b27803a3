"""The shell's database side of ingestion: what exists, what to insert, source health.

Costs follow perf-notes: one ``IN`` query per feed for duplicates, one for
cross-source matches, a Core ``executemany`` insert, one commit per feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from responder import audit
from responder.config_sources import SourceConfig
from responder.db import transaction
from responder.ingest.decide import MATCH_WINDOW, Decision, Existing, decide, next_poll_at
from responder.ingest.parse import ParsedItem
from responder.models import Item, Source

CHUNK = 300
ITEM = Item.__table__
SOURCE = Source.__table__
FAILED = ("partial", "rejected", "error")
DAMAGED = "damaged"
"""Every item kept but some text repaired: the source stays healthy (no backoff, which would slow a
5-hour incident) yet ``last_error`` says what was lost and ``source.damaged`` is audited (issue 13)."""


@dataclass(frozen=True)
class ItemOutcome:
    guid: str
    title: str
    outcome: str
    """new | duplicate | attached | same_story | release"""
    reason: str | None = None
    item_id: int | None = None
    case_id: int | None = None
    published_at: dt.datetime | None = None
    published_source: str = "feed"


@dataclass(frozen=True)
class PollReport:
    source: str
    status: str
    """ok | damaged | not_modified | unchanged | partial | rejected | error"""
    reason: str | None = None
    new: int = 0
    duplicate: int = 0
    attached: int = 0
    same_story: int = 0
    release: int = 0
    rejected: int = 0
    held: int = 0
    """Replay only: items dated after ``now``, left for a later poll."""
    rejects: tuple[str, ...] = field(default=())
    damage: tuple[str, ...] = field(default=())
    """One line per repair (bytes replaced, characters replaced or dropped)."""
    items: tuple[ItemOutcome, ...] = field(default=())
    next_poll_at: dt.datetime | None = None
    consecutive_failures: int = 0
    http_status: int | None = None
    elapsed_ms: int = 0

    @property
    def healthy(self) -> bool:
        return self.status not in FAILED

    def counts(self) -> dict[str, int]:
        return {"new": self.new, "duplicate": self.duplicate, "attached": self.attached,
                "same_story": self.same_story, "release": self.release, "rejected": self.rejected, "held": self.held}


# ---------------------------------------------------------------- sources


def sync_sources(engine: Engine, settings: Any, now: dt.datetime) -> None:
    """Make a Source row per configured source; keep fetch state unless the URL or kind changed."""
    with transaction(engine) as session:
        for cfg in settings.file.source:
            _upsert_source(session, cfg)


def ensure_source(engine: Engine, cfg: SourceConfig) -> Source:
    with transaction(engine) as session:
        return _upsert_source(session, cfg)


def _upsert_source(session: Session, cfg: SourceConfig) -> Source:
    row = session.get(Source, cfg.name)
    if row is None:
        row = Source(name=cfg.name, kind=cfg.kind, role=cfg.role, url=cfg.url)
    elif row.url != cfg.url or row.kind != cfg.kind:
        row.etag = row.last_modified = row.body_hash = None  # validators of another document
        row.next_poll_at = None
    row.kind, row.role, row.url = cfg.kind, cfg.role, cfg.url
    session.add(row)
    session.flush()
    return row


def load_state(engine: Engine, name: str) -> Source | None:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(Source, name)
        if row is not None:
            session.expunge(row)
        return row


def load_states(engine: Engine) -> dict[str, Source]:
    with Session(engine, expire_on_commit=False) as session:
        rows = list(session.execute(select(Source)).scalars())
        for r in rows:
            session.expunge(r)
        return {r.name: r for r in rows}


# ---------------------------------------------------------------- lookups


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


def _existing(rows: Iterable[Any]) -> list[Existing]:
    out = []
    for r in rows:
        extra = r.extra or {}
        out.append(Existing(id=r.id, source_name=r.source_name, guid=r.guid, link=r.link, content_hash=r.content_hash,
                            title_key=r.title_key, case_id=r.case_id, same_story_as=extra.get("same_story_as")))
    return out


_COLS = (ITEM.c.id, ITEM.c.source_name, ITEM.c.guid, ITEM.c.link, ITEM.c.content_hash, ITEM.c.title_key,
         ITEM.c.case_id, ITEM.c.extra)


def same_source_matches(session: Session, source: str, items: list[ParsedItem]) -> list[Existing]:
    out: list[Existing] = []
    for part in _chunks(items):
        guids = [i.guid for i in part]
        links = [i.link for i in part if i.link]
        hashes = [i.content_hash for i in part]
        cond = [ITEM.c.guid.in_(guids), ITEM.c.content_hash.in_(hashes)]
        if links:
            cond.append(ITEM.c.link.in_(links))
        out += _existing(session.execute(select(*_COLS).where(ITEM.c.source_name == source, or_(*cond))))
    return out


def other_source_matches(session: Session, source: str, items: list[ParsedItem], now: dt.datetime) -> list[Existing]:
    out: list[Existing] = []
    since = now - MATCH_WINDOW
    for part in _chunks(items):
        keys = [i.title_key for i in part if i.title_key]
        hashes = [i.content_hash for i in part]
        cond = [ITEM.c.content_hash.in_(hashes)]
        if keys:
            cond.append(ITEM.c.title_key.in_(keys))
        out += _existing(session.execute(select(*_COLS).where(
            ITEM.c.source_name != source, ITEM.c.role != "release", ITEM.c.first_seen_at >= since, or_(*cond))))
    return out


# ---------------------------------------------------------------- writing


def _insert(session: Session) -> Any:
    ins = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return ins(ITEM).on_conflict_do_nothing(index_elements=["source_name", "guid"])


def _row(d: Decision, cfg: SourceConfig, now: dt.datetime) -> dict[str, Any]:
    it = d.item
    extra: dict[str, Any] = {}
    if it.date_note:
        extra["date_note"] = it.date_note
    if it.damage_note:
        extra["damage_note"] = it.damage_note
    if d.same_story_as is not None:
        extra["same_story_as"] = d.same_story_as
    if d.match_id is not None:
        extra["matched_item"] = d.match_id
    status = "request" if cfg.role == "request" else {"attached": "attached", "release": "release"}.get(d.outcome, "new")
    return {
        "source_name": cfg.name, "role": cfg.role, "guid": it.guid, "link": it.link, "title": it.title, "text": it.text,
        "title_key": it.title_key, "content_hash": it.content_hash, "published_at": it.published_at,
        "published_source": it.published_source, "first_seen_at": now, "declared_level": it.declared_level,
        "declared_category": it.declared_category, "case_id": d.case_id, "attach_reason": d.reason if d.outcome in (
            "attached", "same_story") else None, "status": status, "extra": extra,
    }


def store_poll(engine: Engine, cfg: SourceConfig, *, now: dt.datetime, status: str, reason: str | None,
               items: list[ParsedItem], rejects: tuple[str, ...] = (), held: int = 0, jitter: float = 0.5,
               damage: tuple[str, ...] = (),
               validators: dict[str, str | None] | None = None, http_status: int | None = None,
               elapsed_ms: int = 0) -> PollReport:
    """Decide and write one poll in one transaction: items, source health, audit events."""
    with transaction(engine) as session:
        row = session.get(Source, cfg.name) or _upsert_source(session, cfg)
        decisions: list[Decision] = []
        if items:
            same = same_source_matches(session, cfg.name, items)
            other = other_source_matches(session, cfg.name, items, now) if cfg.role not in ("release", "request") else []
            decisions = decide(items, source_name=cfg.name, role=cfg.role, same_source=same, other_sources=other)
        fresh = [d for d in decisions if d.outcome != "duplicate"]
        ids: dict[str, int] = {}
        if fresh:
            session.execute(_insert(session), [_row(d, cfg, now) for d in fresh])
            for part in _chunks([d.item.guid for d in fresh]):
                ids.update(session.execute(select(ITEM.c.guid, ITEM.c.id).where(
                    ITEM.c.source_name == cfg.name, ITEM.c.guid.in_(part))).all())
        failed = status in FAILED
        failures = (row.consecutive_failures + 1) if failed else 0
        values: dict[str, Any] = {
            "last_polled_at": now, "consecutive_failures": failures,
            # A partial feed still delivered items: poll it at the regular interval, never backed off (an
            # incident in a feed with one persistently broken item must not wait hours; issue 13).
            "next_poll_at": next_poll_at(now, cfg.interval, 0 if status == "partial" else failures, jitter),
            "items_total": row.items_total + len(fresh),
        }
        if failed:
            values.update(last_error_at=now, last_error=reason)
        else:
            values["last_success_at"] = now
            if status == DAMAGED:
                values.update(last_error_at=now, last_error=reason)
        if validators is not None:
            values.update(validators)
        session.execute(update(SOURCE).where(SOURCE.c.name == cfg.name).values(**values))
        outcomes = tuple(ItemOutcome(guid=d.item.guid, title=d.item.title, outcome=d.outcome, reason=d.reason,
                                     item_id=ids.get(d.item.guid) if d.outcome != "duplicate" else d.match_id,
                                     case_id=d.case_id, published_at=d.item.published_at,
                                     published_source=d.item.published_source) for d in decisions)
        count = {k: sum(1 for d in decisions if d.outcome == k) for k in ("new", "duplicate", "attached", "same_story", "release")}
        report = PollReport(source=cfg.name, status=status, reason=reason, rejected=len(rejects), held=held,
                            rejects=tuple(rejects), damage=tuple(damage), items=outcomes, next_poll_at=values["next_poll_at"],
                            consecutive_failures=failures, http_status=http_status, elapsed_ms=elapsed_ms, **count)
        subject = f"source:{cfg.name}"
        audit.record(session, at=now, kind="source.polled", subject=subject,
                     data={"status": status, **report.counts(), "http_status": http_status})
        if failed:
            audit.record(session, at=now, kind="source.rejected", subject=subject,
                         data={"status": status, "reason": reason, "rejects": list(rejects[:20]),
                               "consecutive_failures": failures})
        elif status == DAMAGED:
            audit.record(session, at=now, kind="source.damaged", subject=subject,
                         data={"reason": reason, "damage": list(damage[:20])})
    return report
