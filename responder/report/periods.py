"""The periods a response ledger covers (回应台账): Beijing calendar months, quarters, years or any span of days.

A period is named by what it is (a whole month is "2026年11月", key
``2026-11``), so the archive, the console and the command line agree on its
name; its UTC bounds are the Beijing midnights around it, which is what makes
a past period's ledger the same whenever it is made.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from responder.report.weekly import beijing_midnight, period_label
from responder.timeutil import BEIJING, iso_utc

DAY = dt.timedelta(days=1)
QUARTER_NAMES = ("第一季度", "第二季度", "第三季度", "第四季度")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class LedgerError(ValueError):
    """A period or unit the operator typed that cannot be used."""


@dataclass(frozen=True)
class Period:
    """Beijing calendar days ``first``..``last`` inclusive; ``start``/``end`` are the UTC bounds [start, end)."""

    first: dt.date
    last: dt.date
    kind: str  # month | quarter | year | custom

    @cached_property
    def start(self) -> dt.datetime:
        return beijing_midnight(self.first)

    @cached_property
    def end(self) -> dt.datetime:
        return beijing_midnight(self.last + DAY)

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.first.year}-{self.first.month:02d}"
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "year":
            return f"{self.first.year}"
        return f"{self.first:%Y%m%d}-{self.last:%Y%m%d}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.first.year}年{self.first.month}月"
        if self.kind == "quarter":
            return f"{self.first.year}年{QUARTER_NAMES[(self.first.month - 1) // 3]}"
        if self.kind == "year":
            return f"{self.first.year}年"
        return period_label(self.start, self.end)

    def as_json(self) -> dict[str, Any]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "kind": self.kind, "key": self.key,
                "label": self.label, "start": iso_utc(self.start), "end": iso_utc(self.end)}

    def previous(self) -> Period:
        """The period before, of the same kind (the same number of days for a custom one)."""
        if self.kind in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            first = _add_months(self.first, -months)
            return Period(first, self.first - DAY, self.kind)
        days = (self.last - self.first).days + 1
        return Period(self.first - days * DAY, self.first - DAY, "custom")


def _add_months(day: dt.date, months: int) -> dt.date:
    m = day.year * 12 + day.month - 1 + months
    return dt.date(m // 12, m % 12 + 1, 1)


def _month_end(day: dt.date) -> dt.date:
    return _add_months(day, 1) - DAY


def make_period(first: dt.date, last: dt.date) -> Period:
    """Name the period by what it is: a whole month, quarter or year, or just a span of days."""
    if last < first:
        raise LedgerError(f"--to {last} is before --from {first}")
    if first.day == 1:
        if last == _month_end(first):
            return Period(first, last, "month")
        if first.month % 3 == 1 and last == _month_end(_add_months(first, 2)):
            return Period(first, last, "quarter")
        if first.month == 1 and last == dt.date(first.year, 12, 31):
            return Period(first, last, "year")
    return Period(first, last, "custom")


def parse_period(date_from: str, date_to: str) -> Period:
    """``--from``/``--to`` as the operator typed them (Beijing calendar days, inclusive)."""
    days = []
    for name, text in (("--from", date_from), ("--to", date_to)):
        if not DATE_RE.match((text or "").strip()):
            raise LedgerError(f"{name} {text!r}: expected a date such as 2026-11-01")
        try:
            days.append(dt.date.fromisoformat(text.strip()))
        except ValueError as exc:
            raise LedgerError(f"{name} {text!r}: {exc}") from None
    return make_period(days[0], days[1])


def month_period(now: dt.datetime) -> Period:
    """The last complete Beijing month before ``now`` (what a month-end job reports on)."""
    today = now.astimezone(BEIJING).date()
    first = _add_months(today.replace(day=1), -1)
    return Period(first, _month_end(first), "month")


def sub_periods(p: Period, kind: str) -> list[Period]:
    """The months (quarters, years) that overlap ``p``, clipped to it."""
    step = {"month": 1, "quarter": 3, "year": 12}[kind]
    first = p.first.replace(day=1)
    if kind == "quarter":
        first = first.replace(month=(first.month - 1) // 3 * 3 + 1)
    elif kind == "year":
        first = first.replace(month=1)
    out = []
    while first <= p.last:
        nxt = _add_months(first, step)
        a, b = max(first, p.first), min(nxt - DAY, p.last)
        out.append(Period(a, b, kind if (a, b) == (first, nxt - DAY) else "custom"))
        first = nxt
    return out
