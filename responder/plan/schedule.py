"""Turning the plan into engine clocks: one per (phase, unit) and one office summary per phase.

The plan has no scheduler of its own. Each reminder is a ladder step with an
absolute ``{"utc": …}`` time on an ordinary :class:`Clock`, so the engine that
drives the response clocks also drives these: a restart neither loses nor
repeats a step, and a step whose time passed while the service was down is taken
at the next tick. ``schedule_plan`` runs at every start and only fills in the
clocks that are missing (found by subject), never duplicates one.

The clock's policy snapshot carries what its handler needs (phase, unit, the
items owed); the handler reads only completions from the database. Unlike a
response clock's legal deadline, a phase date is the operator's to change
("mid-July" is a date they choose): when ``plan.toml`` moves a phase or changes
what a unit owes, the next ``schedule_plan`` moves the clock's remaining steps,
bumps its generation (so no step of the old schedule can fire) and records a
``plan.rescheduled`` audit event with the old and new dates — never silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from responder import audit
from responder.db import transaction
from responder.models import Clock, Meta
from responder.plan.model import Phase, Plan, PlanUnit, reminder_times
from responder.timeutil import iso_utc

OBLIGATION = "plan_phase"
SUMMARY_OBLIGATION = "plan_summary"
SUMMARY_SUBJECT_TAIL = "summary"


def subject(plan: Plan, phase: Phase, unit_id: str) -> str:
    return f"plan:{plan.id}:{phase.id}:{unit_id}"


def summary_subject(plan: Plan, phase: Phase) -> str:
    return f"plan:{plan.id}:{phase.id}:{SUMMARY_SUBJECT_TAIL}"


@dataclass(frozen=True)
class ClockSpec:
    """A clock to create: what ``schedule_plan`` inserts when its subject is missing."""

    subject: str
    obligation: str
    unit_id: str
    started_at: dt.datetime
    deadline_at: dt.datetime
    policy: dict[str, Any]
    next_action_at: dt.datetime


def _plan_block(plan: Plan, phase: Phase) -> dict[str, Any]:
    return {"id": plan.id, "name": plan.name, "document": plan.document, "phase": phase.id,
            "phase_name": phase.name, "phase_start": phase.start.isoformat(), "phase_end": phase.end.isoformat()}


def _items(plan: Plan, unit: PlanUnit, phase: Phase) -> list[dict[str, Any]]:
    return [{"no": i.no, "label": i.label, "text": i.text, "kind": i.kind, "min": i.min} for i in plan.owed(unit, phase)]


def _base_policy(plan: Plan, phase: Phase, obligation: str) -> dict[str, Any]:
    return {
        "name": f"plan:{plan.id}:{phase.id}", "obligation": obligation, "label": f"{phase.name}任务截止",
        "basis": " ".join(x for x in (plan.document, phase.basis) if x), "urgent": False,
        "channels": list(plan.reminders.channels),
    }


def unit_clock(plan: Plan, phase: Phase, unit: PlanUnit, now: dt.datetime) -> ClockSpec | None:
    """The reminder clock of one unit in one phase, holding only steps still to come at ``now``.

    None when the unit owes nothing in the phase or every step is already past
    (a plan scheduled late does not announce reminders whose day is gone).
    """
    items = _items(plan, unit, phase)
    if not items:
        return None
    r = plan.reminders
    ladder = [{"kind": "milestone_reminder", "at": {"utc": iso_utc(at)}, "days_before": days,
               "roles": list(r.roles), "office_roles": []}
              for days, at in reminder_times(phase, r) if at >= now]
    if phase.end_at >= now:
        ladder.append({"kind": "milestone_overdue", "at": {"utc": iso_utc(phase.end_at)}, "days_before": 0,
                       "roles": list(r.overdue_roles), "office_roles": []})
    if not ladder:
        return None
    policy = {**_base_policy(plan, phase, OBLIGATION), "ladder": ladder,
              "plan": {**_plan_block(plan, phase), "unit_id": unit.id, "unit_name": unit.name, "items": items}}
    return ClockSpec(subject=subject(plan, phase, unit.id), obligation=OBLIGATION, unit_id=unit.id,
                     started_at=phase.start_at, deadline_at=phase.end_at, policy=policy,
                     next_action_at=_first(ladder))


def summary_clock(plan: Plan, phase: Phase, office_id: str, now: dt.datetime, office_name: str = "") -> ClockSpec | None:
    """The county office's summary at the phase end: which units still owe what."""
    if phase.end_at < now:
        return None
    units = [{"id": u.id, "name": u.name, "items": _items(plan, u, phase)} for u in plan.units]
    units = [u for u in units if u["items"]]
    if not units:
        return None
    ladder = [{"kind": "plan_summary", "at": {"utc": iso_utc(phase.end_at)}, "roles": [],
               "office_roles": list(plan.reminders.summary_roles)}]
    policy = {**_base_policy(plan, phase, SUMMARY_OBLIGATION), "ladder": ladder,
              "plan": {**_plan_block(plan, phase), "office_name": office_name, "units": units}}
    return ClockSpec(subject=summary_subject(plan, phase), obligation=SUMMARY_OBLIGATION, unit_id=office_id,
                     started_at=phase.start_at, deadline_at=phase.end_at, policy=policy,
                     next_action_at=_first(ladder))


def _first(ladder: list[dict[str, Any]]) -> dt.datetime:
    return dt.datetime.fromisoformat(ladder[0]["at"]["utc"].replace("Z", "+00:00"))


def plan_clocks(plan: Plan, office_id: str, now: dt.datetime, office_name: str = "") -> list[ClockSpec]:
    """Every clock the plan calls for at ``now`` (pure)."""
    out: list[ClockSpec] = []
    for phase in plan.phases:
        for unit in plan.units:
            spec = unit_clock(plan, phase, unit, now)
            if spec:
                out.append(spec)
        s = summary_clock(plan, phase, office_id, now, office_name)
        if s:
            out.append(s)
    return out


def _future_steps(ladder: list[dict[str, Any]], now: dt.datetime) -> list[tuple[str, str]]:
    return [(st["kind"], st["at"]["utc"]) for st in ladder if "utc" in st.get("at", {})
            and dt.datetime.fromisoformat(st["at"]["utc"].replace("Z", "+00:00")) >= now]


def schedule_changed(clock: Clock, spec: ClockSpec, now: dt.datetime) -> bool:
    """Did the plan move this clock's remaining steps, its deadline or what is owed? (pure)

    Only steps still ahead are compared, so a step whose time passed while the service
    was down (and is about to be taken at start) is not mistaken for a change.
    """
    if clock.deadline_at != spec.deadline_at:
        return True
    if _future_steps(clock.policy.get("ladder", [])[clock.next_step:], now) != _future_steps(spec.policy["ladder"], now):
        return True
    old_plan, new_plan = clock.policy.get("plan", {}), spec.policy.get("plan", {})
    return old_plan.get("items") != new_plan.get("items") or old_plan.get("units") != new_plan.get("units")


def schedule_plan(engine: Engine, settings: Any, plan: Plan, now: dt.datetime) -> int:
    """Create the plan's missing clocks and follow edits of the plan; return how many were created."""
    specs = plan_clocks(plan, settings.office.id, now, settings.office.name)
    prefix = f"plan:{plan.id}:"
    with transaction(engine) as session:
        # Serialise concurrent schedulers on the audit head row (FOR UPDATE on PostgreSQL).
        session.exec(select(Meta).where(Meta.key == audit.HEAD_KEY).with_for_update()).one()
        existing = {c.subject: c for c in session.exec(
            select(Clock).where(Clock.subject.startswith(prefix, autoescape=True))).all()}
        created = [s for s in specs if s.subject not in existing]
        for s in created:
            session.add(Clock(subject=s.subject, unit_id=s.unit_id, obligation=s.obligation, state="running",
                              start_basis="plan_phase", started_at=s.started_at, deadline_at=s.deadline_at,
                              policy=s.policy, next_step=0, next_action_at=s.next_action_at))
        if created:
            audit.record(session, at=now, kind="plan.scheduled", subject=f"plan:{plan.id}",
                         data={"clocks": len(created), "subjects": [s.subject for s in created]})
        moved = []
        for s in specs:
            c = existing.get(s.subject)
            if c is None or c.state not in ("running", "overdue") or not schedule_changed(c, s, now):
                continue
            moved.append({"subject": s.subject, "deadline_from": iso_utc(c.deadline_at), "deadline_to": iso_utc(s.deadline_at)})
            c.policy, c.started_at, c.deadline_at = s.policy, s.started_at, s.deadline_at
            c.next_step, c.next_action_at, c.generation = 0, s.next_action_at, c.generation + 1
            c.state = "running"
            session.add(c)
        wanted = {s.subject for s in specs}
        dropped = []
        for subject_, c in existing.items():
            if subject_ not in wanted and c.state in ("running", "overdue") and c.next_action_at is not None \
                    and c.deadline_at >= now:
                c.state, c.next_action_at, c.generation = "cancelled", None, c.generation + 1
                session.add(c)
                dropped.append(subject_)
        if moved or dropped:
            audit.record(session, at=now, kind="plan.rescheduled", subject=f"plan:{plan.id}",
                         data={"moved": moved, "cancelled": dropped})
    return len(created)
