"""One poll of one source, and a round of every due source.

``analyse`` is the pure middle (fetched bytes → items to store, with a status
and a reason); ``poll_source`` wraps it with the fetch before and the store
after. ``poll_due`` runs sources concurrently, each under its own deadline, so
one slow or broken source never delays the others.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from responder.config.sources import SourceConfig
from responder.ingest.decide import settle_dates
from responder.ingest.fetch import FetchResult, fetch, is_http
from responder.ingest.parse import ParsedItem, parse_feed, sniff_kind
from responder.ingest.store import PollReport, ensure_source, load_state, load_states, store_poll, sync_sources

DEADLINE_MARGIN = 5.0


@dataclass(frozen=True)
class Analysis:
    status: str
    reason: str | None
    items: list[ParsedItem] = field(default_factory=list)
    rejects: tuple[str, ...] = ()
    held: int = 0
    body_hash: str | None = None
    damage: tuple[str, ...] = ()


def body_hash(fr: FetchResult) -> str:
    h = hashlib.sha256()
    for d in fr.documents:
        h.update(d.name.encode("utf-8", "replace") + b"\0" + hashlib.sha256(d.body).digest())
    return h.hexdigest()


def doc_kind(cfg: SourceConfig, name: str, body: bytes, content_type: str | None) -> str:
    if cfg.kind == "file" or not is_http(cfg.url) and cfg.kind in ("rss", "atom", "feed"):
        return sniff_kind(body, content_type, "" if is_http(name) else name)
    return cfg.kind


def analyse(cfg: SourceConfig, fr: FetchResult, *, now: dt.datetime, previous_hash: str | None) -> Analysis:
    """What a fetch amounts to. Pure: the same bytes and ``now`` give the same answer."""
    if fr.not_modified:
        return Analysis("not_modified", None)
    if fr.error and not fr.documents:
        return Analysis("error", fr.error)
    bh = body_hash(fr)
    if fr.error is None and previous_hash is not None and bh == previous_hash:
        return Analysis("unchanged", None, body_hash=bh)
    items: list[ParsedItem] = []
    rejects: list[str] = []
    reasons: list[str] = []
    statuses: list[str] = []
    damage: list[str] = []
    many = len(fr.documents) > 1
    for doc in fr.documents:
        res = parse_feed(doc.body, content_type=doc.content_type, kind=doc_kind(cfg, doc.name, doc.body, doc.content_type),
                         mapping=cfg.mapping, now=now)
        label = f"{Path(doc.name).name}：" if many else ""
        items.extend(res.items)
        rejects.extend(label + r for r in res.rejects)
        damage.extend(label + d for d in res.damage)
        statuses.append(res.status)
        if res.reason and res.status != "ok":
            reasons.append(label + res.reason)
    if not fr.documents:
        statuses.append("ok")  # an empty replay directory is quiet, not broken
    if fr.error:
        reasons.insert(0, fr.error)
        status = "partial" if items else "rejected"
    elif all(s == "rejected" for s in statuses):
        status = "rejected"
    elif all(s == "ok" for s in statuses):
        status = "ok"
    elif all(s in ("ok", "damaged") for s in statuses):
        status = "damaged"  # every item kept, some text repaired: healthy, but never silently "ok"
    else:
        status = "partial"
    if status == "rejected" and items:
        status = "partial"
    ready, held = settle_dates(tuple(items), now, replay=not is_http(cfg.url))
    return Analysis(status, "；".join(reasons) or None, ready, tuple(rejects), held, bh, tuple(damage))


def ingest_fetched(engine: Engine, cfg: SourceConfig, fr: FetchResult, *, now: dt.datetime, state: Any | None,
                   jitter: float | None = None) -> PollReport:
    """Analyse and store one fetch (the synchronous half of a poll; the bench calls it directly)."""
    a = analyse(cfg, fr, now=now, previous_hash=state.body_hash if state is not None else None)
    validators: dict[str, str | None] | None = None
    if a.status == "ok" and a.held == 0:
        # Only a fully read document earns validators: after a failure the next poll must fetch it again.
        validators = {"etag": fr.etag, "last_modified": fr.last_modified, "body_hash": a.body_hash}
    elif a.status in ("partial", "rejected", "error", "damaged"):
        # A damaged document is read again next time, so its damage is reported again until it is fixed.
        validators = {"etag": None, "last_modified": None, "body_hash": None}
    return store_poll(engine, cfg, now=now, status=a.status, reason=a.reason, items=a.items, rejects=a.rejects,
                      held=a.held, damage=a.damage, jitter=random.random() if jitter is None else jitter, validators=validators,
                      http_status=fr.status, elapsed_ms=fr.elapsed_ms)


async def poll_source(engine: Engine, settings: Any, source_cfg: SourceConfig, *, now: dt.datetime,
                      client: httpx.AsyncClient, jitter: float | None = None) -> PollReport:
    """Fetch, parse, deduplicate, store, and update the source's health and next poll time."""
    state = load_state(engine, source_cfg.name)
    if state is None:
        state = ensure_source(engine, source_cfg)
    base_dir = settings.base_dir if settings is not None else Path.cwd()
    fr = await fetch(client, source_cfg, state, base_dir=base_dir)
    return ingest_fetched(engine, source_cfg, fr, now=now, state=state, jitter=jitter)


def record_failure(engine: Engine, cfg: SourceConfig, *, now: dt.datetime, reason: str) -> PollReport:
    """A poll that died outside the normal path (deadline, bug): still a health record, never a crash."""
    return store_poll(engine, cfg, now=now, status="error", reason=reason, items=[], jitter=random.random(),
                      validators={"etag": None, "last_modified": None, "body_hash": None})


async def poll_due(engine: Engine, settings: Any, *, now: dt.datetime, client: httpx.AsyncClient) -> list[PollReport]:
    """Every enabled source that is due (or never polled), concurrently, each under its own deadline."""
    states = load_states(engine)
    if any(c.name not in states for c in settings.file.source):
        sync_sources(engine, settings, now)
        states = load_states(engine)
    due = [c for c in settings.file.source if c.polled and (
        c.name not in states or states[c.name].next_poll_at is None or states[c.name].next_poll_at <= now)]

    async def one(cfg: SourceConfig) -> PollReport:
        try:
            return await asyncio.wait_for(poll_source(engine, settings, cfg, now=now, client=client),
                                          timeout=cfg.timeout + DEADLINE_MARGIN)
        except TimeoutError:
            return record_failure(engine, cfg, now=now, reason=f"超时：整个抓取超过 {cfg.timeout + DEADLINE_MARGIN:g} 秒")
        except Exception as exc:  # one source's bug must not stop the round
            return record_failure(engine, cfg, now=now, reason=f"内部错误：{type(exc).__name__}: {str(exc)[:200]}")

    return list(await asyncio.gather(*(one(c) for c in due)))
