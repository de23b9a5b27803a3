"""Time helpers: store UTC, show Asia/Shanghai.

Every datetime inside responder is timezone-aware UTC. Beijing time exists only
at the edges: parsing zone-less input (which in this domain means Beijing time,
not UTC) and formatting for people. Nothing here reads the clock except
:func:`utcnow`, which only the shell may call.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
BEIJING = ZoneInfo("Asia/Shanghai")


def utcnow() -> dt.datetime:
    """The wall clock, in UTC. Only the imperative shell calls this."""
    return dt.datetime.now(UTC)


def as_utc(value: dt.datetime, *, naive_is: dt.tzinfo = BEIJING) -> dt.datetime:
    """Return ``value`` as aware UTC.

    A naive datetime is interpreted in ``naive_is`` — Beijing time by default,
    because a zone-less time on a Chinese portal means Beijing time.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=naive_is)
    return value.astimezone(UTC)


def to_beijing(value: dt.datetime) -> dt.datetime:
    """Aware UTC (or naive UTC, as read back from SQLite) to Beijing time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING)


def fmt_bj(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format for people, in Beijing time; ``—`` for a missing time."""
    if value is None:
        return "—"
    return to_beijing(value).strftime(fmt)


def iso_utc(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix, for JSON output."""
    if value is None:
        return None
    return as_utc(value, naive_is=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_duration(seconds: float) -> str:
    """A duration in Chinese: ``4小时59分``, ``2天3小时``, ``-1小时2分`` for overdue."""
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    days, rem = divmod(s, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    if days:
        return f"{sign}{days}天{hours}小时"
    if hours:
        return f"{sign}{hours}小时{minutes}分"
    return f"{sign}{minutes}分"
