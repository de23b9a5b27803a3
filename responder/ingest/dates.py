"""Feed dates to aware UTC.

Feeds carry RFC 822, ISO 8601, and Chinese portal forms (``2022年07月15日 08:30``,
``2022-07-15 08:30:00``), often without a zone. A zone-less time on a Chinese
portal is Beijing time, not UTC — which is exactly where feedparser's own date
handling goes wrong (it assumes UTC), so we parse the raw string ourselves and
use feedparser's result only as a last resort, reinterpreted the same way.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
from typing import Any

from responder.timeutil import BEIJING, UTC

_CN = re.compile(
    r"^\s*(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?"
    r"(?:\s*[T\s]?\s*(?:(上午|下午|晚上)\s*)?(\d{1,2})\s*[:：时点]\s*(\d{1,2})\s*分?(?:\s*[:：]\s*(\d{1,2})(?:\.\d+)?\s*秒?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|(?:GMT|UTC)(?:[+-]\d{1,2}(?::?\d{2})?)?|\(?(?:北京时间|CST)\)?)?\s*$"
)
_ZONE_HINT = re.compile(r"(Z|[+-]\d{2}:?\d{2}|\b(?:GMT|UTC|UT|[ECMP][SD]T)\b)\s*$", re.I)
_EPOCH = re.compile(r"^\s*\d{9,13}(?:\.\d+)?\s*$")

EARLIEST = dt.datetime(1990, 1, 1, tzinfo=UTC)


def _zone(token: str | None) -> dt.tzinfo:
    if not token or token.strip("()") in ("北京时间", "CST"):
        return BEIJING  # CST on a Chinese portal is China Standard Time, not US Central
    if token == "Z":
        return UTC
    m = re.match(r"^(?:GMT|UTC)?([+-])(\d{1,2}):?(\d{2})?$", token)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0)))
    return UTC  # bare GMT / UTC


def _from_chinese(s: str) -> dt.datetime | None:
    m = _CN.match(s)
    if not m:
        return None
    y, mo, d, ampm, hh, mi, ss, zone = m.groups()
    hour = int(hh or 0)
    if ampm in ("下午", "晚上") and hour < 12:
        hour += 12
    try:
        naive = dt.datetime(int(y), int(mo), int(d), hour, int(mi or 0), int(ss or 0))
    except ValueError:
        return None
    return naive.replace(tzinfo=_zone(zone)).astimezone(UTC)


def parse_date(value: Any, *, fallback: time.struct_time | None = None) -> dt.datetime | None:
    """Aware UTC, or None when nothing usable is there.

    ``fallback`` is feedparser's ``*_parsed`` value; it is trusted for its zone
    only when the raw string names one, else its wall-clock fields are read as
    Beijing time.
    """
    out: dt.datetime | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        out = _from_epoch(float(value))
    elif isinstance(value, str) and value.strip():
        s = value.strip()
        out = _from_string(s)
        if out is None and fallback is not None:
            try:
                naive = dt.datetime(*fallback[:6])
            except (TypeError, ValueError):
                naive = None
            if naive is not None:
                tz = UTC if _ZONE_HINT.search(s) else BEIJING
                out = naive.replace(tzinfo=tz).astimezone(UTC)
    elif value is None and fallback is not None:
        try:
            out = dt.datetime(*fallback[:6], tzinfo=UTC)
        except (TypeError, ValueError):
            out = None
    if out is not None and out < EARLIEST:
        return None
    return out


def _from_epoch(x: float) -> dt.datetime | None:
    if x > 1e11:  # milliseconds, as many JSON APIs send
        x /= 1000.0
    try:
        return dt.datetime.fromtimestamp(x, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _from_string(s: str) -> dt.datetime | None:
    if _EPOCH.match(s):
        return _from_epoch(float(s))
    out = _from_chinese(s)
    if out is not None:
        return out
    iso = s.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", s) else s
    if iso.endswith("z"):
        iso = iso[:-1] + "Z"
    try:
        d = dt.datetime.fromisoformat(iso)
    except ValueError:
        d = None
    if d is not None:
        return (d.replace(tzinfo=BEIJING) if d.tzinfo is None else d).astimezone(UTC)
    try:
        d = email.utils.parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError, OverflowError):
        d = None
    if d is not None:
        if d.tzinfo is None:  # "-0000" or no zone: read as Beijing for a zone-less string
            d = d.replace(tzinfo=UTC if _ZONE_HINT.search(s) else BEIJING)
        try:
            return d.astimezone(UTC)
        except (OverflowError, ValueError):
            return None
    return None
