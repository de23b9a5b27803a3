"""The weekly log's requests section (依申请公开): counted from audit events, like the rest of the log.

A past week's figures must not change when it is regenerated, so nothing here
reads a request's current state: receipts, answers, extensions and pauses are
the events recorded inside the week, and "open and past due at the week's end"
is replayed from the events recorded before the end.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from responder.models import AuditEvent
from responder.workdays import BEIJING

KINDS = ("request.received", "clock.rescheduled", "request.paused", "request.resumed", "request.correction_notified",
         "request.corrected", "request.answered", "request.extended")


def request_figures(session: Session, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    events = session.exec(select(AuditEvent).where(AuditEvent.kind.in_(KINDS), AuditEvent.subject.startswith("request:"),
                                                   AuditEvent.at < end).order_by(AuditEvent.seq)).all()
    week = {"received": 0, "answered_on_time": 0, "answered_late": 0, "extended": 0, "paused": 0}
    state: dict[str, dict[str, Any]] = {}
    answered: list[dict[str, Any]] = []
    for e in events:
        d = e.data or {}
        st = state.setdefault(e.subject, {"due": None, "paused": False, "done": False})
        inside = e.at >= start
        if e.kind == "request.received":
            st["due"] = d.get("due_date")
            week["received"] += inside
        elif e.kind == "clock.rescheduled":
            st["due"] = (d.get("to") or {}).get("due_date") or st["due"]
        elif e.kind in ("request.paused", "request.correction_notified"):
            st["paused"] = True
            week["paused"] += inside and e.kind == "request.paused"
        elif e.kind in ("request.resumed", "request.corrected"):
            st["paused"] = False
        elif e.kind == "request.extended":
            week["extended"] += inside
        elif e.kind == "request.answered":
            st["done"] = True
            if inside:
                week["answered_on_time" if d.get("on_time") else "answered_late"] += 1
                answered.append({"request": e.subject.split(":", 1)[1], "on": d.get("on"), "due_date": d.get("due_date"),
                                 "type": d.get("label") or d.get("type"), "on_time": bool(d.get("on_time"))})
    last_day = (end.astimezone(BEIJING) - dt.timedelta(days=1)).date().isoformat()
    overdue = sorted((subj.split(":", 1)[1], st["due"]) for subj, st in state.items()
                     if not st["done"] and not st["paused"] and st["due"] and st["due"] < last_day)
    open_ = sum(1 for st in state.values() if not st["done"])
    return {**week, "open_at_end": open_, "overdue_open": len(overdue),
            "overdue": [{"request": r, "due_date": due} for r, due in overdue], "answered": answered}
