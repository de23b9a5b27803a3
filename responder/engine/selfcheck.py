"""The engine's self-check: no open clock may be stuck without a next action or left far behind.

Run by the daemon on its own interval (``[schedule] self_check_seconds``); the
result is kept in ``meta`` (key ``self_check``) for ``responder status``, so a
missed 5-hour step shows up as a problem a person sees rather than as silence.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from responder import audit
from responder.db import transaction
from responder.models import Clock, Meta
from responder.timeutil import iso_utc


LAG_GRACE = dt.timedelta(minutes=10)


def self_check(engine: Engine, now: dt.datetime) -> list[str]:
    """Every open clock must have a next action in the future, or be stopped; report those that do not."""
    problems: list[str] = []
    with transaction(engine) as s:
        stuck = s.exec(select(Clock).where(Clock.state == "running", Clock.next_action_at.is_(None)).limit(50)).all()
        for c in stuck:
            problems.append(f"时钟#{c.id}（案件#{c.case_id}，{c.obligation}）仍在计时却没有下一步动作")
        late = s.exec(select(Clock).where(Clock.next_action_at.is_not(None), Clock.next_action_at < now - LAG_GRACE).limit(50)).all()
        for c in late:
            problems.append(f"时钟#{c.id}（案件#{c.case_id}，{c.obligation}）的动作应于 {iso_utc(c.next_action_at)} 执行，至今未执行")
        audit.set_meta(s, "self_check", iso_utc(now) + "|" + ("ok" if not problems else "；".join(problems)[:2000]), now)
    return problems


def read_meta(engine: Engine, key: str) -> Meta | None:
    with Session(engine) as s:
        return s.get(Meta, key)
