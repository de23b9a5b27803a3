"""Times typed by operators: ISO 8601 or Chinese forms; zone-less means Beijing time."""

from __future__ import annotations

import datetime as dt
import re

import click

from responder.timeutil import BEIJING, as_utc

_CN = re.compile(r"^\s*(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?\s*(?:(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*分?(?:\s*[:：]\s*(\d{1,2}))?)?\s*$")


MIN_YEAR, MAX_YEAR = 1970, 9998
"""Operators mean a time of the service's life: year 0001 or 9999 is a slip, and converting
it between zones overflows ``datetime`` (issue 13: a traceback instead of an answer)."""


def parse_time(text: str) -> dt.datetime:
    """Parse to aware UTC; raise ValueError with a readable message."""
    t = text.strip()
    v: dt.datetime | None = None
    try:
        v = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        m = _CN.match(t)
        if m:
            y, mo, d, h, mi, se = (int(x) if x else 0 for x in m.groups())
            try:
                v = dt.datetime(y, mo, d, h, mi, se)
            except ValueError as exc:
                raise ValueError(f"无效的时间 {text!r}：{exc}") from None
    if v is None:
        raise ValueError(f"无法识别的时间 {text!r}（例：2022-07-18 14:30，北京时间；或 2022-07-18T06:30Z）")
    if not MIN_YEAR <= v.year <= MAX_YEAR:
        raise ValueError(f"时间 {text!r} 超出范围（年份须在 {MIN_YEAR}–{MAX_YEAR} 之间）")
    try:
        return as_utc(v, naive_is=BEIJING)
    except OverflowError:
        raise ValueError(f"时间 {text!r} 超出范围") from None


class TimeType(click.ParamType):
    name = "TIME"

    def convert(self, value, param, ctx):  # type: ignore[override]
        if isinstance(value, dt.datetime):
            return value
        try:
            return parse_time(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TIME = TimeType()
