"""The working-day clock: its settings, its dates and how it moves, for requests and inquiry answers alike.

An obligation counted in working days is one ``Clock`` with a deadline in UTC
and the engine's ladder data (see ``responder.disclosure.service``); what is
particular to it lives here: the policy and calendar a clock is computed from,
the pure date arithmetic (the end, 24:00 Beijing, of the N-th working day;
条例 第33条; 民法典 第201、203条), and the three moves a clock makes outside
the engine's pass — rescheduled, paused, stopped — each with a new generation,
the old schedule's queued messages cancelled and an audit event saying why.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from responder import audit
from responder.config.notify import channels_on
from responder.disclosure.policy import InquiryPolicy, RequestsPolicy
from responder.engine import ladder as ladder_mod
from responder.engine import policies_for
from responder.models import Clock, DisclosureRequest, OutboxMessage
from responder.timeutil import iso_utc
from responder.workdays import BEIJING, Calendar, Count, fingerprint

# ---------------------------------------------------------------- settings


def request_policy(settings: Any) -> RequestsPolicy:
    return policies_for(settings).file.requests or RequestsPolicy()


def inquiry_policy(settings: Any) -> InquiryPolicy:
    return policies_for(settings).file.inquiry or InquiryPolicy()


def calendar_dir(policies_path: str | Path, pol: RequestsPolicy | None = None) -> Path:
    p = Path((pol or RequestsPolicy()).calendar_dir)
    return p if p.is_absolute() else Path(policies_path).parent / p


def settings_calendar_dir(settings: Any) -> Path:
    return calendar_dir(settings.data_paths["policies"], request_policy(settings))


@lru_cache(maxsize=4)
def _calendar_cached(directory: str, fp: str) -> Calendar:
    return Calendar.from_dir(directory)


def calendar_for(settings: Any) -> Calendar:
    """The calendar as the files are now: a file added or edited is seen at the next call."""
    d = settings_calendar_dir(settings)
    return _calendar_cached(str(d), fingerprint(d))


def ladder_for(settings: Any, name: str, default: dict[str, Any]) -> dict[str, Any]:
    lad = policies_for(settings).file.ladder.get(name)
    if lad is None:
        return default
    return {"steps": [s.model_dump(exclude_none=True) | {"at": s.at.model_dump(exclude_none=True)} for s in lad.steps],
            "repeat": lad.repeat.model_dump() if lad.repeat else None}


def channels_for(settings: Any) -> list[str]:
    return channels_on(settings.file.notify)  # the one rule, shared with the engine, the dispatcher and the loader


# ---------------------------------------------------------------- pure date helpers


def beijing_date(t: dt.datetime) -> dt.date:
    return t.astimezone(BEIJING).date()


def start_of_day_utc(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time(0), BEIJING).astimezone(dt.timezone.utc)


def closed_pauses(pauses: list[dict[str, Any]]) -> list[tuple[dt.date, dt.date]]:
    return [(dt.date.fromisoformat(p["from"]), dt.date.fromisoformat(p["to"])) for p in pauses if p.get("to")]


def open_pause(pauses: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((p for p in pauses if not p.get("to")), None)


def request_count(cal: Calendar, req: DisclosureRequest, pol: RequestsPolicy) -> Count:
    """The request's deadline from its dates: receipt (or corrected receipt) + 20 + extension, minus pauses."""
    return cal.add_workdays(req.count_from, pol.answer_days + req.extension_days, pauses=closed_pauses(req.pauses))


# ---------------------------------------------------------------- clocks


def snapshot(*, name: str, obligation: str, label: str, basis: str, urgent: bool, channels: list[str],
              ladder: dict[str, Any], satisfied_by: list[str], workdays: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "obligation": obligation, "label": label, "basis": basis, "deadline_s": None,
            "satisfied_by": list(satisfied_by), "urgent": urgent, "channels": list(channels), "clock_class": "wd",
            "ladder": list(ladder["steps"]), "repeat": ladder.get("repeat"), "workdays": workdays, "notes": [],
            "version": 1}


def workdays_block(count: Count, days: int, pauses: list[tuple[dt.date, dt.date]]) -> dict[str, Any]:
    return {"from": count.start.isoformat(), "days": days, "pauses": [[a.isoformat(), b.isoformat()] for a, b in pauses],
            "due_date": count.due_date.isoformat(), "calendar": count.calendar, "unknown_years": list(count.unknown_years)}


def _next_after_change(policy: dict[str, Any], started: dt.datetime, deadline: dt.datetime, old_next: int,
                       now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """Where the ladder resumes after the deadline moved (pure).

    Steps already taken are not repeated unless the new schedule puts them ahead
    again (a new, later deadline earns a new reminder); the opening step is never
    repeated once taken.
    """
    i = 0
    while True:
        spec = ladder_mod.step_spec(policy, i)
        if spec is None:
            break
        if ladder_mod.step_due(spec, started, deadline) > now:
            break
        i += 1
    nxt = min(old_next, i)
    spec = ladder_mod.step_spec(policy, nxt)
    return nxt, (ladder_mod.step_due(spec, started, deadline) if spec else None)


def _cancel_queued(s: Session, clock: Clock) -> None:
    s.exec(update(OutboxMessage).where(OutboxMessage.clock_id == clock.id, OutboxMessage.generation < clock.generation,
                                       OutboxMessage.status.in_(("pending", "held", "failed")))
           .values(status="cancelled", last_error="期限已重新计算，消息作废")
           .execution_options(synchronize_session=False))


def reschedule(s: Session, clock: Clock, *, started: dt.datetime, count: Count, days: int,
                pauses: list[tuple[dt.date, dt.date]], now: dt.datetime, reason: str, actor: str) -> None:
    """Move a working-day clock to a new deadline: new generation, old messages cancelled, audit event."""
    old = {"deadline_at": iso_utc(clock.deadline_at), "calendar": (clock.policy.get("workdays") or {}).get("calendar"),
           "state": clock.state}
    deadline = count.deadline_utc()
    policy = dict(clock.policy)
    policy["workdays"] = workdays_block(count, days, pauses)
    nxt, at = _next_after_change(policy, started, deadline, clock.next_step, now)
    clock.policy = policy
    clock.started_at = started
    clock.deadline_at = deadline
    clock.next_step, clock.next_action_at = nxt, at
    clock.state = "overdue" if deadline <= now else "running"
    clock.generation += 1
    s.add(clock)
    s.flush()
    _cancel_queued(s, clock)
    audit.record(s, at=now, kind="clock.rescheduled", subject=clock.subject, actor=actor,
                 data={"clock_id": clock.id, "obligation": clock.obligation, "from": old,
                       "to": {"deadline_at": iso_utc(deadline), "due_date": count.due_date.isoformat(),
                              "calendar": count.calendar, "state": clock.state}, "reason": reason})


def pause_clock(s: Session, clock: Clock, now: dt.datetime, *, reason: str, actor: str) -> None:
    clock.state, clock.next_action_at = "paused", None
    clock.generation += 1
    s.add(clock)
    s.flush()
    _cancel_queued(s, clock)
    audit.record(s, at=now, kind="clock.paused", subject=clock.subject, actor=actor,
                 data={"clock_id": clock.id, "obligation": clock.obligation, "reason": reason})


def stop_clock(s: Session, clock: Clock, state: str, now: dt.datetime, *, met_at: dt.datetime | None, reason: str,
          actor: str) -> None:
    clock.state, clock.next_action_at, clock.met_at = state, None, met_at
    clock.generation += 1
    s.add(clock)
    s.flush()
    _cancel_queued(s, clock)
    audit.record(s, at=now, kind=f"clock.{state}", subject=clock.subject, actor=actor,
                 data={"clock_id": clock.id, "obligation": clock.obligation, "met_at": iso_utc(met_at),
                       "deadline_at": iso_utc(clock.deadline_at), "reason": reason})
