"""What the pages read: the same tables and joins as the CLI, scoped to the person.

Every function takes ``now`` (the shell passes the wall clock, the demo its
virtual one) and a :class:`~responder.web.auth.Person`; a liaison's scope is a
WHERE clause here, never a filter applied after loading.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from responder.masking import mask_text
from responder.models import (
    AuditEvent, Case, Clock, ClockStep, DeliveryAttempt, Item, OutboxMessage, Release, Source, WeeklyReport,
)
from responder.web.auth import Person, case_scope, may_see, unit_names

OPEN_CLOCK = ("running", "overdue")
PAGE_SIZE = 100
FIVE_HOUR = "5h"


def _scoped(stmt: Any, settings: Any, person: Person) -> Any:
    cond = case_scope(settings, person)
    return stmt if cond is None else stmt.where(cond)


def case_list(engine: Any, settings: Any, person: Person, now: dt.datetime, *, page: int = 1) -> dict[str, Any]:
    """Open cases by time left (overdue first: their deadlines are the earliest), one page.

    The nearest open deadline is computed in SQL (a grouped outer join), so a page of
    100 costs the same with 10 or 10,000 open cases apart from the sort.
    """
    nearest = (select(Clock.case_id.label("cid"), func.min(Clock.deadline_at).label("deadline"))
               .where(Clock.state.in_(OPEN_CLOCK), Clock.case_id.is_not(None)).group_by(Clock.case_id).subquery())
    base = _scoped(select(Case, nearest.c.deadline).outerjoin(nearest, nearest.c.cid == Case.id)
                   .where(Case.state == "open"), settings, person)
    page = max(1, page)
    with Session(engine) as s:
        total = s.exec(_scoped(select(func.count()).select_from(Case).where(Case.state == "open"), settings, person)).one()
        # no grouping: a case is overdue when any of its open clocks is past its deadline
        overdue = s.exec(_scoped(select(func.count(func.distinct(Clock.case_id))).select_from(Clock)
                                 .join(Case, Case.id == Clock.case_id)
                                 .where(Case.state == "open", Clock.state.in_(OPEN_CLOCK), Clock.deadline_at <= now),
                                 settings, person)).one()
        rows = s.exec(base.order_by(nearest.c.deadline.is_(None), nearest.c.deadline, Case.id)
                      .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
        ids = [c.id for c, _ in rows]
        clocks = s.exec(select(Clock).where(Clock.case_id.in_(ids), Clock.state.in_(OPEN_CLOCK))).all() if ids else []
    by_case: dict[int, list[Clock]] = {}
    for c in clocks:
        by_case.setdefault(c.case_id, []).append(c)
    out = []
    for case, _deadline in rows:
        cl = sorted(by_case.get(case.id, []), key=lambda c: c.deadline_at)
        first = cl[0] if cl else None
        out.append({
            "case": case, "clock": first, "label": first.policy.get("label") if first else None,
            "deadline": first.deadline_at if first else None,
            "seconds_left": int((first.deadline_at - now).total_seconds()) if first else None,
            "overdue": bool(first and first.deadline_at <= now),
            "five_hour": case.clock_class == FIVE_HOUR,
        })
    return {"rows": out, "total": total, "overdue": overdue, "page": page,
            "pages": max(1, -(-total // PAGE_SIZE))}


def case_detail(engine: Any, settings: Any, person: Person, case_id: int) -> dict[str, Any] | None:
    """The whole timeline of a case, or None when it does not exist or is not the person's to see."""
    with Session(engine) as s:
        case = s.get(Case, case_id)
        if case is None or not may_see(settings, person, case):
            return None
        items = s.exec(select(Item).where(Item.case_id == case_id).order_by(Item.id)).all()
        clocks = s.exec(select(Clock).where(Clock.case_id == case_id).order_by(Clock.id)).all()
        steps = s.exec(select(ClockStep).where(ClockStep.case_id == case_id).order_by(ClockStep.id)).all()
        releases = s.exec(select(Release).where(Release.case_id == case_id).order_by(Release.id)).all()
        msgs = s.exec(select(OutboxMessage).where(OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)).all()
        attempts = s.exec(select(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_([m.id for m in msgs]))
                          .order_by(DeliveryAttempt.id)).all() if msgs else []
        events = s.exec(select(AuditEvent).where(AuditEvent.subject == f"case:{case_id}").order_by(AuditEvent.seq)).all()
    by_msg: dict[int, list[DeliveryAttempt]] = {}
    for a in attempts:
        by_msg.setdefault(a.outbox_id, []).append(a)
    return {"case": case, "items": items, "clocks": clocks, "steps": steps, "releases": releases,
            "messages": [message_view(m, person, by_msg.get(m.id, [])) for m in msgs], "events": events,
            "proposals": [r for r in releases if r.status == "proposed"]}


def message_view(m: OutboxMessage, person: Person, attempts: list[DeliveryAttempt] | None = None) -> dict[str, Any]:
    """A message as a person may see it: numbers masked except for the office's operators."""
    show = (lambda v: v) if person.is_operator else (lambda v: mask_text(v) if v else v)
    return {"m": m, "address": show(m.address), "last_error": show(m.last_error),
            "attempts": [{"a": a, "error": show(a.error), "response": show(a.provider_response)} for a in attempts or []]}


def outbox(engine: Any, settings: Any, person: Person, *, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    if person.role == "liaison":
        own_cases = _scoped(select(Case.id), settings, person)
        prefixes = [OutboxMessage.recipient.startswith(f"{n}:") for n in unit_names(settings, person.unit_id or "")]
        stmt = stmt.where(or_(OutboxMessage.case_id.in_(own_cases), *prefixes))
    with Session(engine) as s:
        msgs = s.exec(stmt).all()
        attempts = s.exec(select(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_([m.id for m in msgs]))
                          .order_by(DeliveryAttempt.id)).all() if msgs else []
    by_msg: dict[int, list[DeliveryAttempt]] = {}
    for a in attempts:
        by_msg.setdefault(a.outbox_id, []).append(a)
    return [message_view(m, person, by_msg.get(m.id, [])) for m in msgs]


def sources(engine: Any, settings: Any, now: dt.datetime) -> list[dict[str, Any]]:
    """Configured sources with their stored health; a configured source never polled still shows."""
    with Session(engine) as s:
        stored = {r.name: r for r in s.exec(select(Source)).all()}
    out = []
    for cfg in settings.file.source:
        st = stored.get(cfg.name)
        stale = st is None or st.last_success_at is None or \
            (now - st.last_success_at).total_seconds() > max(3 * cfg.interval, 900)
        out.append({"name": cfg.name, "kind": cfg.kind, "role": cfg.role, "interval": cfg.interval, "s": st,
                    "healthy": st is not None and st.consecutive_failures == 0 and not stale})
    return out


def plan_matrix(engine: Any, settings: Any, person: Person, now: dt.datetime) -> dict[str, Any] | None:
    from responder.plan.load import PlanError, plan_from_settings
    from responder.plan.progress import status_matrix

    try:
        plan = plan_from_settings(settings)
    except PlanError as exc:
        return {"error": str(exc)}
    if plan is None:
        return None
    unit = person.unit_id if person.role == "liaison" and plan.unit(person.unit_id or "") else None
    with Session(engine) as s:
        return status_matrix(s, plan, now, unit=unit)


def reports(engine: Any, settings: Any) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.exec(select(WeeklyReport).order_by(WeeklyReport.week.desc())).all()
    out = []
    for r in rows:
        folder = Path(r.path) if r.path else settings.archive_dir / r.week[:4] / r.week
        files = [{"name": n, "sha256": h, "present": (folder / n).is_file()} for n, h in sorted((r.files or {}).items())]
        out.append({"r": r, "files": files})
    return out


def report_file(engine: Any, settings: Any, week: str, name: str) -> Path | None:
    """An archived file by week and name, only as listed in the report row (no path from the URL is trusted)."""
    with Session(engine) as s:
        r = s.exec(select(WeeklyReport).where(WeeklyReport.week == week)).first()
    if r is None or name not in (r.files or {}):
        return None
    folder = Path(r.path) if r.path else settings.archive_dir / r.week[:4] / r.week
    p = folder / name
    return p if p.is_file() else None


def audit_state(engine: Any) -> dict[str, Any]:
    from responder import audit

    with Session(engine) as s:
        result = audit.verify(s)
        latest = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(30)).all()
    return {"result": result, "latest": latest}


def proposal_case(engine: Any, release_id: int) -> Case | None:
    with Session(engine) as s:
        rel = s.get(Release, release_id)
        return s.get(Case, rel.case_id) if rel is not None and rel.case_id else None


def all_proposals(engine: Any, settings: Any, person: Person) -> list[tuple[Release, Case]]:
    stmt = _scoped(select(Release, Case).join(Case, Case.id == Release.case_id)
                   .where(and_(Release.status == "proposed")).order_by(Release.id), settings, person)
    with Session(engine) as s:
        return list(s.exec(stmt).all())
