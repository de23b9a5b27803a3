"""Where each unit stands: the status matrix, the weekly-report figures, and the handlers' "what is pending".

Split as functional core / thin reader: :func:`read_progress` loads the
completions and experiences of one plan in two queries; everything else is a
pure function of that snapshot, the plan and ``now`` (so the matrix and the
weekly figures are table-testable without a database).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from responder.models import PlanCompletion, PlanExperience
from responder.plan.model import Phase, Plan, PlanUnit, days_left, item_status, phase_state
from responder.timeutil import as_utc, iso_utc

STATUSES = ("done", "due", "overdue", "upcoming")


@dataclass(frozen=True)
class Progress:
    """What people have recorded for one plan, as plain values."""

    done: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)
    """(unit id, item no) → when it was done."""
    experiences: dict[str, tuple[tuple[str, str, dt.datetime], ...]] = field(default_factory=dict)
    """unit id → ((title, url, recorded_at), …) in recording order."""

    def done_at(self, unit_id: str, no: str, kind: str, minimum: int = 1) -> dt.datetime | None:
        """When the item was met; an experience duty is met by the ``minimum``-th experience."""
        if kind == "experience":
            exps = self.experiences.get(unit_id, ())
            return exps[minimum - 1][2] if len(exps) >= minimum else None
        return self.done.get((unit_id, no))


def read_progress(session: Session, plan_id: str, unit_ids: Iterable[str] | None = None) -> Progress:
    qc = select(PlanCompletion).where(PlanCompletion.plan_id == plan_id)
    qe = select(PlanExperience).where(PlanExperience.plan_id == plan_id)
    if unit_ids is not None:
        ids = list(unit_ids)
        qc = qc.where(PlanCompletion.unit_id.in_(ids))
        qe = qe.where(PlanExperience.unit_id.in_(ids))
    done = {(c.unit_id, c.requirement): as_utc(c.done_at, naive_is=dt.timezone.utc) for c in session.exec(qc).all()}
    exps: dict[str, list[tuple[str, str, dt.datetime]]] = {}
    for e in session.exec(qe.order_by(PlanExperience.recorded_at, PlanExperience.id)).all():
        exps.setdefault(e.unit_id, []).append((e.title, e.url, as_utc(e.recorded_at, naive_is=dt.timezone.utc)))
    return Progress(done=done, experiences={k: tuple(v) for k, v in exps.items()})


def pending_items(items: Iterable[dict[str, Any]], unit_id: str, progress: Progress) -> list[dict[str, str]]:
    """The snapshot items (``{"no", "label", "text", "kind", "min"}``) the unit has not met yet."""
    return [{"no": i["no"], "label": i.get("label") or i["no"], "text": i["text"]} for i in items
            if progress.done_at(unit_id, i["no"], i.get("kind", "requirement"), int(i.get("min", 1))) is None]


# ---------------------------------------------------------------- the matrix (pure)


def _columns(plan: Plan, phase: Phase | None) -> list[tuple[str, Phase]]:
    phases = [phase] if phase else list(plan.phases)
    return [(no, p) for p in phases for no in p.requires]


def compute_matrix(plan: Plan, progress: Progress, now: dt.datetime, *, units: Iterable[PlanUnit] | None = None,
                   phase: Phase | None = None) -> dict[str, Any]:
    """Units × items with done / due / overdue / upcoming ("n/a" where an item does not apply)."""
    cols = _columns(plan, phase)
    columns = []
    for no, p in cols:
        item = plan.item(no)
        assert item is not None
        columns.append({"no": no, "text": item.text, "kind": item.kind, "phase": p.id,
                        "deadline": p.end.isoformat()})
    rows = []
    for u in (list(units) if units is not None else plan.units):
        cells: dict[str, str] = {}
        done_at: dict[str, str | None] = {}
        counts = {s: 0 for s in STATUSES}
        for no, p in cols:
            if not plan.applies(u, no):
                cells[no] = "n/a"
                continue
            item = plan.item(no)
            assert item is not None
            at = progress.done_at(u.id, no, item.kind, item.min)
            st = item_status(at is not None, p, now)
            cells[no] = st
            counts[st] += 1
            if at is not None:
                done_at[no] = iso_utc(at)
        rows.append({"unit_id": u.id, "unit_name": u.name, "kind": u.kind, "cells": cells, "done_at": done_at,
                     "counts": counts})
    return {
        "plan_id": plan.id, "plan_name": plan.name, "as_of": iso_utc(now),
        "phases": [{"id": p.id, "name": p.name, "start": p.start.isoformat(), "end": p.end.isoformat(),
                    "state": phase_state(p, now), "days_left": days_left(p, now)}
                   for p in (plan.phases if phase is None else (phase,))],
        "columns": columns, "rows": rows,
    }


def status_matrix(session: Session, plan: Plan, now: dt.datetime, unit: str | None = None,
                  phase: str | None = None) -> dict[str, Any]:
    """The matrix for ``plan status``; ``unit`` / ``phase`` accept an id or a Chinese name."""
    from responder.plan.load import PlanError

    units = None
    if unit is not None:
        u = plan.unit(unit)
        if u is None:
            raise PlanError(f"unit {unit!r} is not in plan {plan.id} (use a unit id or its Chinese name, e.g. renli / 仁里镇)")
        units = [u]
    ph = None
    if phase is not None:
        ph = plan.phase(phase)
        if ph is None:
            raise PlanError(f"phase {phase!r} is not in plan {plan.id} (phases: {', '.join(p.id for p in plan.phases)})")
    progress = read_progress(session, plan.id, [u.id for u in units] if units else None)
    return compute_matrix(plan, progress, now, units=units, phase=ph)


# ---------------------------------------------------------------- the weekly figures


def compute_progress(plan: Plan, progress: Progress, now: dt.datetime, *, week_start: dt.datetime | None = None,
                     week_end: dt.datetime | None = None) -> dict[str, Any]:
    """Per-unit counts, experiences, and what was completed in [week_start, week_end) (pure)."""
    matrix = compute_matrix(plan, progress, now)
    units = []
    totals = {s: 0 for s in STATUSES}
    for row in matrix["rows"]:
        c = row["counts"]
        for s in STATUSES:
            totals[s] += c[s]
        units.append({
            "unit_id": row["unit_id"], "unit_name": row["unit_name"], "kind": row["kind"],
            "applicable": sum(c.values()), **c,
            "experiences": [{"title": t, "url": url, "recorded_at": iso_utc(at)}
                            for t, url, at in progress.experiences.get(row["unit_id"], ())],
        })
    out: dict[str, Any] = {
        "plan_id": plan.id, "plan_name": plan.name, "document": plan.document, "as_of": iso_utc(now),
        "phases": matrix["phases"], "units": units, "totals": totals,
        "units_with_experience": sum(1 for u in units if u["experiences"]),
    }
    if week_start is not None or week_end is not None:
        lo = week_start or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        hi = week_end or now
        names = {u.id: u.name for u in plan.units}
        week = []
        for (uid, no), at in progress.done.items():
            if uid in names and lo <= at < hi:
                item = plan.item(no)
                week.append({"unit_id": uid, "unit_name": names[uid], "requirement": no,
                             "text": item.text if item else "", "done_at": iso_utc(at)})
        for uid, exps in progress.experiences.items():
            if uid in names:
                for t, url, at in exps:
                    if lo <= at < hi:
                        week.append({"unit_id": uid, "unit_name": names[uid], "requirement": "experience",
                                     "text": t, "url": url, "done_at": iso_utc(at)})
        week.sort(key=lambda w: (w["done_at"], w["unit_id"], w["requirement"]))
        out["week"] = {"start": iso_utc(week_start), "end": iso_utc(hi), "completed": week}
    return out


def plan_progress(session: Session, plan: Plan, now: dt.datetime, *, week_start: dt.datetime | None = None,
                  week_end: dt.datetime | None = None) -> dict[str, Any]:
    """The plan's figures for the weekly compliance log (issue 8): one read, then pure.

    Keys: plan_id, plan_name, document, as_of, phases[{id, name, start, end,
    state, days_left}], units[{unit_id, unit_name, kind, applicable, done, due,
    overdue, upcoming, experiences[{title, url, recorded_at}]}], totals,
    units_with_experience, and — when a week is given — week{start, end,
    completed[{unit_id, unit_name, requirement, text, done_at}]}. Times are ISO UTC.
    """
    return compute_progress(plan, read_progress(session, plan.id), now, week_start=week_start, week_end=week_end)
