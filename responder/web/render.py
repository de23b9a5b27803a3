"""The console's Jinja2 environment: autoescaping always on, Beijing time filters.

Everything shown comes from feeds and people: it is data passed to templates,
never template source, and autoescape is on for every template (not chosen by
extension), so ``<script>``, ``onerror=`` and ``{{ … }}`` in a title print as text.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from responder.timeutil import fmt_bj, fmt_duration

LEVEL_LABELS = {"I": "Ⅰ级（特别重大）", "II": "Ⅱ级（重大）", "III": "Ⅲ级（较大）", "IV": "Ⅳ级（一般）"}
CLOCK_STATES = {"running": "计时中", "overdue": "已超时", "met": "按时完成", "met_late": "超时完成", "cancelled": "已取消"}
MSG_STATES = {"pending": "待发送", "sending": "发送中", "sent": "已送达", "failed": "重试中", "dead": "发送失败",
              "held": "静默时段暂缓", "merged": "已合并", "cancelled": "已取消"}
CLOSE_KINDS = {"met": "按时回应", "duplicate": "重复", "not_ours": "非本县职责", "resolved": "已处置完毕"}


def default_templates_dir() -> Path:
    return Path(__file__).resolve().parent.parent.parent / "templates" / "web"


def _left(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    return f"已超时 {fmt_duration(-seconds)}" if seconds <= 0 else f"剩余 {fmt_duration(seconds)}"


def _data(value: Any) -> str:
    """An audit event's data as readable JSON (Chinese as written); a plain string, so autoescape applies."""
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def _iso(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


@lru_cache(maxsize=4)
def environment(templates_dir: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir, encoding="utf-8"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters.update(bj=fmt_bj, left=_left, iso=_iso, dur=fmt_duration, data=_data)
    env.globals.update(LEVEL_LABELS=LEVEL_LABELS, CLOCK_STATES=CLOCK_STATES, MSG_STATES=MSG_STATES, CLOSE_KINDS=CLOSE_KINDS)
    return env


def render(name: str, ctx: dict[str, Any], templates_dir: Path | None = None) -> str:
    return environment(str(templates_dir or default_templates_dir())).get_template(name).render(ctx)
