"""The status read model: open cases with their open clocks, overdue first.

Read by ``responder status`` and by the service's sd_notify STATUS line, so
what an operator sees in the terminal and in ``systemctl status`` agree. Three
queries and a sort; it imports only the models, so a read-only command stays fast.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from responder.models import Case, Clock, Meta
from responder.timeutil import iso_utc

STATE_LABELS = {"running": "计时中", "overdue": "已超时", "met": "按时完成", "met_late": "超时完成", "cancelled": "已取消"}


def collect(engine: Engine, now: dt.datetime, limit: int = 500) -> dict[str, Any]:
    """Open cases with their open clocks, overdue first, then by nearest deadline."""
    with Session(engine) as s:
        cases = s.exec(select(Case).where(Case.state == "open").limit(limit)).all()
        ids = [c.id for c in cases]
        clocks = s.exec(select(Clock).where(Clock.case_id.in_(ids), Clock.state.in_(("running", "overdue"))))\
            .all() if ids else []
        meta = {m.key: m for m in s.exec(select(Meta)).all()}
    by_case: dict[int, list[Clock]] = {}
    for c in clocks:
        by_case.setdefault(c.case_id, []).append(c)
    rows = []
    for case in cases:
        cl = sorted(by_case.get(case.id, []), key=lambda c: c.deadline_at)
        nearest = cl[0] if cl else None
        rows.append({
            "case_id": case.id, "title": case.title, "level": case.level, "level_name": case.level_name,
            "clock": case.clock_class, "department": case.department, "needs_review": case.needs_review,
            "acked": case.acked_at is not None,
            "obligation": nearest.policy.get("label") if nearest else None,
            "deadline_at": iso_utc(nearest.deadline_at) if nearest else None,
            "seconds_left": int((nearest.deadline_at - now).total_seconds()) if nearest else None,
            "overdue": bool(nearest and nearest.deadline_at <= now),
            "next_action_at": iso_utc(min((c.next_action_at for c in cl if c.next_action_at), default=None)),
            "clocks": [{"id": c.id, "obligation": c.obligation, "state": c.state, "deadline_at": iso_utc(c.deadline_at)} for c in cl],
            "reasons": case.reasons,
        })
    rows.sort(key=lambda r: (not r["overdue"], r["seconds_left"] if r["seconds_left"] is not None else 10**12))
    engine_run = meta.get("engine_last_run")
    check = meta.get("self_check")
    check_at, _, check_result = (check.value.partition("|") if check else ("", "", ""))
    return {
        "now": iso_utc(now), "open_cases": len(rows), "overdue": sum(1 for r in rows if r["overdue"]),
        "needs_review": sum(1 for r in rows if r["needs_review"]),
        "engine_last_run": engine_run.value if engine_run else None,
        "self_check": {"at": check_at or None, "ok": check_result == "ok" if check else None,
                       "problems": [] if not check or check_result == "ok" else check_result.split("；")},
        "cases": rows,
    }
