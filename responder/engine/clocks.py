"""What every change to a case does to its clocks: start one, stop one, bump the generation.

Shared by the case changes (``cases``), releases (``releases``) and intake
(``intake``); each writes its audit event in the caller's transaction, so the
change, its clocks and their records commit together.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from responder import audit
from responder.engine import ladder as ladder_mod
from responder.engine.rules import OPEN_STATES, unit_for_department
from responder.models import Case, Clock, OutboxMessage
from responder.timeutil import fmt_duration, iso_utc


def start_clock(s: Session, settings: Any, case: Case, snapshot: dict[str, Any], *, start: dt.datetime, basis: str,
                now: dt.datetime, original_start: dt.datetime | None = None, note: str | None = None) -> Clock:
    deadline = start + dt.timedelta(seconds=snapshot["deadline_s"])
    unit = unit_for_department(settings, case.department)
    snap = dict(snapshot)
    notes = []
    if note:
        notes.append(note)
    if deadline <= now:
        notes.append(f"到达时已超时 {fmt_duration((now - deadline).total_seconds())}")
    if original_start is not None and original_start < start:
        notes.append(f"升级时距原起算时间已过 {fmt_duration((start - original_start).total_seconds())}")
    snap["notes"] = notes
    clock = Clock(case_id=case.id, subject=f"case:{case.id}", unit_id=unit.id, obligation=snap["obligation"],
                  state="overdue" if deadline <= now else "running", start_basis=basis, started_at=start,
                  deadline_at=deadline, original_start_at=original_start, generation=case.generation, policy=snap,
                  next_step=0, next_action_at=ladder_mod.first_action_at(snap, start, deadline))
    s.add(clock)
    s.flush()
    audit.record(s, at=now, kind="clock.started", subject=f"case:{case.id}",
                 data={"clock_id": clock.id, "obligation": clock.obligation, "start_basis": basis,
                       "started_at": iso_utc(start), "deadline_at": iso_utc(deadline), "notes": notes,
                       "original_start_at": iso_utc(original_start)})
    return clock


def open_clocks(s: Session, case_id: int) -> list[Clock]:
    return list(s.exec(select(Clock).where(Clock.case_id == case_id, Clock.state.in_(OPEN_STATES))).all())


def stop_clock(s: Session, clock: Clock, state: str, now: dt.datetime, *, met_at: dt.datetime | None = None,
               release_id: int | None = None, reason: str = "") -> None:
    clock.state = state
    clock.next_action_at = None
    clock.met_at = met_at
    clock.met_by_release_id = release_id
    clock.generation += 1
    s.add(clock)
    audit.record(s, at=now, kind=f"clock.{state}", subject=f"case:{clock.case_id}",
                 data={"clock_id": clock.id, "obligation": clock.obligation, "met_at": iso_utc(met_at),
                       "deadline_at": iso_utc(clock.deadline_at), "release_id": release_id, "reason": reason})


def bump_generation(s: Session, case: Case, now: dt.datetime) -> None:
    """A new generation: queued messages computed for the old state are cancelled."""
    case.generation += 1
    case.updated_at = now
    s.add(case)
    s.flush()
    s.exec(update(OutboxMessage).where(OutboxMessage.case_id == case.id, OutboxMessage.generation < case.generation,
                                       OutboxMessage.status.in_(("pending", "held", "failed")))
           .values(status="cancelled", last_error="案件状态已变化，消息作废")
           .execution_options(synchronize_session=False))
    for c in open_clocks(s, case.id):
        c.generation = case.generation
        s.add(c)
