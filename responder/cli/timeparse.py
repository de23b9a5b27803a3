"""Times typed by operators: ISO 8601 or Chinese forms; zone-less means Beijing time."""

from __future__ import annotations

import datetime as dt
import re

import click

from responder.timeutil import BEIJING, as_utc

_CN = re.compile(r"^\s*(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?\s*(?:(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*分?(?:\s*[:：]\s*(\d{1,2}))?)?\s*$")


def parse_time(text: str) -> dt.datetime:
    """Parse to aware UTC; raise ValueError with a readable message."""
    t = text.strip()
    try:
        v = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
        return as_utc(v, naive_is=BEIJING)
    except ValueError:
        pass
    m = _CN.match(t)
    if m:
        y, mo, d, h, mi, se = (int(x) if x else 0 for x in m.groups())
        return as_utc(dt.datetime(y, mo, d, h, mi, se), naive_is=BEIJING)
    raise ValueError(f"无法识别的时间 {text!r}（例：2022-07-18 14:30，北京时间；或 2022-07-18T06:30Z）")


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
