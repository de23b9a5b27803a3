"""Releases: recording one, confirming or rejecting a proposed match, and the clocks a release stops.

A release stops the open clocks whose policy names its kind (``satisfied_by``),
met or met late by its published time; after a 5-hour case's release the
continued-release clock starts, and a 48-hour case with no clock left is closed
as answered. Only a confirmed release stops clocks: a proposed match waits for
a person (``decide_proposal``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from responder import audit
from responder.db import transaction
from responder.engine.cases import get_open_case
from responder.engine.clocks import bump_generation, open_clocks, start_clock, stop_clock
from responder.engine.inputs import channels_for, policies_for
from responder.engine.policy import RELEASE_KINDS, Policies
from responder.engine.rules import EngineError
from responder.models import Case, Item, Release
from responder.timeutil import iso_utc


def satisfy(s: Session, settings: Any, policies: Policies, case: Case, release: Release, now: dt.datetime) -> list[int]:
    """Stop every open clock of the case that this kind of release satisfies."""
    stopped = []
    for c in open_clocks(s, case.id):
        if release.kind in c.policy.get("satisfied_by", []):
            state = "met" if release.published_at <= c.deadline_at else "met_late"
            stop_clock(s, c, state, now, met_at=release.published_at, release_id=release.id)
            stopped.append(c.id)
    if case.clock_class == "5h" and case.state == "open" and release.kind in policies.file.continued_release.satisfied_by:
        start_clock(s, settings, case, policies.continued_snapshot(channels_for(settings)),
                    start=release.published_at, basis="release", now=now)
    elif case.clock_class == "48h" and not open_clocks(s, case.id):
        case.state, case.closed_at, case.close_kind = "closed", now, "met"
        case.close_reason = f"已{release.kind}（{release.url or release.title}）"
        s.add(case)
        audit.record(s, at=now, kind="case.closed", subject=f"case:{case.id}", data={"kind": "met", "release_id": release.id})
    return stopped


def record_release(engine: Engine, settings: Any, case_id: int, *, kind: str, url: str | None, now: dt.datetime,
                   at: dt.datetime | None = None, title: str = "", actor: str = "operator") -> Release:
    """An operator records a release or response (``responder release``)."""
    if kind not in RELEASE_KINDS:
        raise EngineError(f"未知的发布类型 {kind!r}；可选：{'、'.join(RELEASE_KINDS)}")
    published = at or now
    if published > now + dt.timedelta(minutes=10):
        raise EngineError("发布时间晚于当前时间：请检查 --at")
    policies = policies_for(settings)
    with transaction(engine) as s:
        case = get_open_case(s, case_id)
        rel = Release(case_id=case.id, kind=kind, url=url, title=title, published_at=published, recorded_at=now,
                      recorded_by=actor, status="confirmed")
        s.add(rel)
        s.flush()
        bump_generation(s, case, now)
        stopped = satisfy(s, settings, policies, case, rel, now)
        audit.record(s, at=now, kind="release.recorded", subject=f"case:{case.id}", actor=actor,
                     data={"release_id": rel.id, "kind": kind, "url": url, "published_at": iso_utc(published),
                           "clocks_stopped": stopped})
        return rel


def decide_proposal(engine: Engine, settings: Any, release_id: int, *, accept: bool, now: dt.datetime,
                    actor: str = "operator", reason: str = "") -> Release:
    """A person confirms or rejects a proposed match; only a confirmation stops clocks."""
    policies = policies_for(settings)
    with transaction(engine) as s:
        rel = s.get(Release, release_id)
        if rel is None or rel.status != "proposed":
            raise EngineError(f"发布 {release_id} 不是待确认的匹配")
        case = s.get(Case, rel.case_id)
        rel.status = "confirmed" if accept else "rejected"
        rel.recorded_by = actor
        s.add(rel)
        audit.record(s, at=now, kind=f"release.{'confirmed' if accept else 'rejected'}", subject=f"case:{rel.case_id}",
                     actor=actor, data={"release_id": rel.id, "reason": reason})
        if accept and case is not None and case.state == "open":
            bump_generation(s, case, now)
            satisfy(s, settings, policies, case, rel, now)
        elif not accept:
            item = s.get(Item, rel.item_id) if rel.item_id else None
            if item is not None:
                item.case_id, item.attach_reason = None, f"匹配被否决：{reason}"
                s.add(item)
        return rel

