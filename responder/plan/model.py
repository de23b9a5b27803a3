"""The implementation plan as frozen values, and the pure date arithmetic on it.

Everything here is a function of the plan and an explicit ``now``: where a
phase ends in UTC, when its reminders fall, what a unit owes in it, and the
status of one (unit, item) pair. The shell (CLI, scheduler start-up) reads the
clock and the database; nothing in this module does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from responder.timeutil import BEIJING, UTC

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Requirement:
    """One numbered requirement of the task table; a few (2022: no. 21) span several lines."""

    no: str
    lines: tuple[str, ...]
    area_no: str
    area: str
    task_no: int
    task: str
    applies_to: tuple[str, ...] = ()
    """Unit kinds or unit ids; empty means every unit of the plan."""

    @property
    def text(self) -> str:
        return "".join(self.lines) if len(self.lines) == 1 else "；".join(
            f"（{i}）{line}" for i, line in enumerate(self.lines, 1))


@dataclass(frozen=True)
class Deliverable:
    """A phase duty that is not a numbered requirement (work plan, rectification, experience)."""

    id: str
    text: str
    kind: str = "record"  # record | experience
    name: str = ""
    """Short label for messages (工作方案); the id when empty."""
    min: int = 1
    basis: str = ""
    applies_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phase:
    id: str
    name: str
    start: dt.date
    end: dt.date
    requires: tuple[str, ...]
    basis: str = ""

    @property
    def start_at(self) -> dt.datetime:
        """00:00 Beijing of the start date, in UTC."""
        return beijing_midnight(self.start)

    @property
    def end_at(self) -> dt.datetime:
        """24:00 Beijing of the end date (the seed's dates are whole calendar days), in UTC."""
        return beijing_midnight(self.end + DAY)


@dataclass(frozen=True)
class PlanUnit:
    id: str
    name: str
    kind: str


@dataclass(frozen=True)
class Reminders:
    days_before: tuple[int, ...] = (14, 7, 3, 1)
    time: dt.time = dt.time(9, 0)
    roles: tuple[str, ...] = ("liaison",)
    overdue_roles: tuple[str, ...] = ("liaison", "deputy", "principal")
    summary_roles: tuple[str, ...] = ("liaison", "deputy")
    channels: tuple[str, ...] = ()
    """Empty: the channels enabled in responder.toml ([notify]), as for every clock."""


@dataclass(frozen=True)
class Item:
    """What a unit can owe: a numbered requirement or a deliverable, under one id space."""

    no: str
    text: str
    kind: str  # requirement | record | experience
    min: int = 1
    label: str = ""
    """How messages name it: 第23项, or the deliverable's short name."""


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    document: str
    phases: tuple[Phase, ...]
    requirements: tuple[Requirement, ...]
    deliverables: tuple[Deliverable, ...]
    units: tuple[PlanUnit, ...]
    reminders: Reminders = field(default_factory=Reminders)
    exempt: dict[str, frozenset[str]] = field(default_factory=dict)
    areas: tuple[tuple[str, str], ...] = ()
    """(no, name) in the table's order."""
    tasks: tuple[tuple[int, str, str], ...] = ()
    """(no, area no, name) in the table's order."""
    path: Path | None = None

    # ------------------------------------------------------------ lookups

    def phase(self, key: str) -> Phase | None:
        for p in self.phases:
            if p.id == key or p.name == key:
                return p
        return None

    def unit(self, key: str) -> PlanUnit | None:
        """By id or by Chinese name: operators type either."""
        for u in self.units:
            if u.id == key or u.name == key:
                return u
        return None

    def item(self, no: str) -> Item | None:
        for r in self.requirements:
            if r.no == no:
                return Item(no=r.no, text=r.text, kind="requirement", label=f"第{r.no}项")
        for d in self.deliverables:
            if d.id == no:
                return Item(no=d.id, text=d.text, kind=d.kind, min=d.min, label=d.name or d.id)
        return None

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Every item in the order the phases ask for them (the matrix's columns)."""
        return tuple(no for p in self.phases for no in p.requires)

    def phase_of(self, no: str) -> Phase | None:
        for p in self.phases:
            if no in p.requires:
                return p
        return None

    def applies(self, unit: PlanUnit, no: str) -> bool:
        """Whether ``unit`` owes item ``no`` (applies_to on the item, then the unit's exemptions)."""
        if no in self.exempt.get(unit.id, frozenset()):
            return False
        scope: tuple[str, ...] = ()
        for r in self.requirements:
            if r.no == no:
                scope = r.applies_to
        for d in self.deliverables:
            if d.id == no:
                scope = d.applies_to
        return not scope or unit.id in scope or unit.kind in scope

    def owed(self, unit: PlanUnit, phase: Phase) -> tuple[Item, ...]:
        out = []
        for no in phase.requires:
            if self.applies(unit, no):
                item = self.item(no)
                assert item is not None  # validated at load
                out.append(item)
        return tuple(out)


# ---------------------------------------------------------------- pure time arithmetic


def beijing_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=BEIJING).astimezone(UTC)


def beijing_at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=BEIJING).astimezone(UTC)


def reminder_times(phase: Phase, reminders: Reminders) -> list[tuple[int, dt.datetime]]:
    """(days before the end, UTC instant) of each reminder, in time order.

    A reminder that would fall before the phase starts is dropped: nobody should
    be told a phase is closing before it has opened (2022: the 14-day reminder of
    the ten-day deployment phase).
    """
    out = []
    for days in sorted(set(reminders.days_before), reverse=True):
        at = beijing_at(phase.end - dt.timedelta(days=days), reminders.time)
        if at >= phase.start_at and at < phase.end_at:
            out.append((days, at))
    return out


def days_left(phase: Phase, now: dt.datetime) -> int:
    """Whole days until 24:00 Beijing of the end date: 0 on the end date and at its end, negative after."""
    return (phase.end_at - now) // DAY


def item_status(done: bool, phase: Phase | None, now: dt.datetime) -> str:
    """done | overdue (its phase has ended) | due (its phase is running) | upcoming (not begun)."""
    if done:
        return "done"
    if phase is None:
        return "due"
    if now >= phase.end_at:
        return "overdue"
    if now >= phase.start_at:
        return "due"
    return "upcoming"


def phase_state(phase: Phase, now: dt.datetime) -> str:
    if now >= phase.end_at:
        return "ended"
    if now >= phase.start_at:
        return "running"
    return "upcoming"
