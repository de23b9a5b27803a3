"""The plan's obligation handlers: what the engine asks before and during each plan step.

``plan_phase`` (one clock per unit and phase): the unit is left alone once it has
met everything the phase asks of it — ``satisfied`` stops the clock as met, so a
finished unit gets no further reminder and no overdue notice. ``plan_summary``
(one clock per phase, the county office's) never stops early: the office wants
the summary even when every unit is done.

Both read the items owed from the clock's policy snapshot (written by
:mod:`responder.plan.schedule`) and only completions from the database. The
plan knows nothing of the engine: it exports :data:`HANDLERS` and the engine's
one table (``responder.engine.handlers``) lists them, so the plan sits below it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from responder.data import Contact
from responder.models import Clock
from responder.plan.progress import pending_items, read_progress
from responder.plan.schedule import OBLIGATION, SUMMARY_OBLIGATION
from responder.timeutil import as_utc

DAY = dt.timedelta(days=1)


def _days_left(clock: Clock, now: dt.datetime) -> int:
    # 0 on the end date and at its 24:00, negative after (docs/messages.md).
    return (as_utc(clock.deadline_at, naive_is=dt.timezone.utc) - now) // DAY


def _common(clock: Clock, now: dt.datetime) -> dict[str, Any]:
    p = clock.policy.get("plan", {})
    return {"plan_id": p.get("id"), "plan_name": p.get("name"), "document": p.get("document"),
            "phase": p.get("phase"), "phase_name": p.get("phase_name"), "phase_end": p.get("phase_end"),
            "basis": clock.policy.get("basis", ""), "days_left": _days_left(clock, now)}


class PhaseHandler:
    """One unit's duties in one phase."""

    def _pending(self, session: Session, clock: Clock) -> list[dict[str, str]]:
        p = clock.policy["plan"]
        return pending_items(p["items"], p["unit_id"], read_progress(session, p["id"], [p["unit_id"]]))

    def satisfied(self, session: Session, clock: Clock, now: dt.datetime) -> str | None:
        if self._pending(session, clock):
            return None
        return f"{clock.policy['plan']['unit_name']}已完成{clock.policy['plan']['phase_name']}全部任务"

    def context(self, session: Session, clock: Clock, step: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        p = clock.policy["plan"]
        return {**_common(clock, now), "unit_id": p["unit_id"], "unit_name": p["unit_name"],
                "pending": self._pending(session, clock), "owed_count": len(p["items"])}

    def recipients(self, session: Session, clock: Clock, step: dict[str, Any], settings: Any) -> list[Contact] | None:
        return None


class SummaryHandler:
    """The county office's view at the phase end."""

    def satisfied(self, session: Session, clock: Clock, now: dt.datetime) -> str | None:
        return None

    def context(self, session: Session, clock: Clock, step: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        p = clock.policy["plan"]
        progress = read_progress(session, p["id"], [u["id"] for u in p["units"]])
        units_pending = []
        for u in p["units"]:
            pend = pending_items(u["items"], u["id"], progress)
            if pend:
                units_pending.append({"unit_id": u["id"], "unit_name": u["name"], "pending_count": len(pend),
                                      "pending_nos": [x["no"] for x in pend]})
        return {**_common(clock, now), "unit_name": p.get("office_name", ""), "pending": [], "units_pending": units_pending,
                "units_total": len(p["units"]), "units_done": len(p["units"]) - len(units_pending)}

    def recipients(self, session: Session, clock: Clock, step: dict[str, Any], settings: Any) -> list[Contact] | None:
        return None


HANDLERS = {OBLIGATION: PhaseHandler(), SUMMARY_OBLIGATION: SummaryHandler()}
"""Obligation → handler, for the engine's table (satisfies ``responder.engine.handlers.ObligationHandler``)."""
