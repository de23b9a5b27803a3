"""Recording progress: a requirement done, a featured experience published.

Each record is one transaction holding the row and its audit event, so the
trail and the matrix can never disagree. Recording twice is harmless: the
second call changes nothing (or only the evidence/note it adds, audited as an
update), so an operator can safely re-run a command.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from responder import audit
from responder.db import transaction
from responder.models import PlanCompletion, PlanExperience
from responder.plan.load import PlanError
from responder.plan.model import Plan, PlanUnit
from responder.timeutil import iso_utc

URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Recorded:
    row: Any  # PlanCompletion | PlanExperience
    status: str  # created | updated | unchanged


def resolve_unit(plan: Plan, key: str) -> PlanUnit:
    u = plan.unit(key.strip())
    if u is None:
        raise PlanError(f"unit {key!r} is not accountable under plan {plan.id} "
                        f"(give a unit id or its Chinese name from plan.units, e.g. {plan.units[0].id} / {plan.units[0].name})")
    return u


def resolve_item(plan: Plan, key: str) -> str:
    """Accept ``23``, ``第23项`` or a deliverable id; explain the one-number rule for multi-line requirements."""
    s = key.strip()
    m = re.fullmatch(r"第?\s*(\d+)\s*项?", s)
    no = str(int(m.group(1))) if m else s
    if plan.item(no) is not None:
        return no
    m2 = re.fullmatch(r"(\d+)\.(\d+)", s)
    if m2 and plan.item(m2.group(1)) is not None:
        raise PlanError(f"requirement {m2.group(1)} is one numbered requirement (its lines are recorded together): "
                        f"use {m2.group(1)}, not {s}")
    ids = ", ".join(d.id for d in plan.deliverables)
    raise PlanError(f"{key!r} is neither a requirement number of plan {plan.id} "
                    f"(1–{len(plan.requirements)}) nor a deliverable ({ids})")


def _check_url(key: str, url: str | None) -> str | None:
    if url is None:
        return None
    url = url.strip()
    if not URL_RE.match(url):
        raise PlanError(f"{key} {url!r} is not an http(s) URL")
    return url


def record_done(engine: Engine, settings: Any, plan: Plan, unit: str, requirement: str, *, now: dt.datetime,
                evidence: str | None = None, note: str | None = None, actor: str = "operator") -> Recorded:
    """Mark a requirement or deliverable done for a unit (``plan done``)."""
    u = resolve_unit(plan, unit)
    no = resolve_item(plan, requirement)
    item = plan.item(no)
    assert item is not None
    if item.kind == "experience":
        raise PlanError(f"{no!r} is met by recording featured experiences: responder plan experience {u.id} --title … --url …")
    if not plan.applies(u, no):
        raise PlanError(f"requirement {no} does not apply to {u.name} ({u.id}) in plan {plan.id}")
    evidence = _check_url("--evidence", evidence)
    note = note.strip() if note and note.strip() else None
    subject = f"plan:{plan.id}:{u.id}:{no}"
    with transaction(engine) as session:
        row = session.exec(select(PlanCompletion).where(
            PlanCompletion.plan_id == plan.id, PlanCompletion.unit_id == u.id, PlanCompletion.requirement == no)
        ).first()
        if row is None:
            row = PlanCompletion(plan_id=plan.id, unit_id=u.id, requirement=no, done_at=now, evidence=evidence,
                                 note=note, recorded_by=actor, recorded_at=now)
            session.add(row)
            session.flush()
            audit.record(session, at=now, kind="plan.done", subject=subject, actor=actor,
                         data={"plan": plan.id, "unit": u.id, "requirement": no, "evidence": evidence, "note": note})
            return Recorded(row, "created")
        changes = {k: v for k, v in (("evidence", evidence), ("note", note)) if v is not None and getattr(row, k) != v}
        if not changes:
            return Recorded(row, "unchanged")
        for k, v in changes.items():
            setattr(row, k, v)
        session.add(row)
        audit.record(session, at=now, kind="plan.done_updated", subject=subject, actor=actor,
                     data={"plan": plan.id, "unit": u.id, "requirement": no, **changes,
                           "done_at": iso_utc(row.done_at)})
        return Recorded(row, "updated")


def record_experience(engine: Engine, settings: Any, plan: Plan, unit: str, *, title: str, url: str, now: dt.datetime,
                      actor: str = "operator") -> Recorded:
    """Record a featured work experience (四、（四）) published by a unit (``plan experience``)."""
    u = resolve_unit(plan, unit)
    title = (title or "").strip()
    if not title:
        raise PlanError("--title must not be empty")
    checked = _check_url("--url", url)
    assert checked is not None
    with transaction(engine) as session:
        row = session.exec(select(PlanExperience).where(
            PlanExperience.plan_id == plan.id, PlanExperience.unit_id == u.id, PlanExperience.url == checked)).first()
        if row is not None:
            return Recorded(row, "unchanged")
        row = PlanExperience(plan_id=plan.id, unit_id=u.id, title=title, url=checked, recorded_by=actor,
                             recorded_at=now)
        session.add(row)
        session.flush()
        audit.record(session, at=now, kind="plan.experience", subject=f"plan:{plan.id}:{u.id}:experience",
                     actor=actor, data={"plan": plan.id, "unit": u.id, "title": title, "url": checked})
        return Recorded(row, "created")
