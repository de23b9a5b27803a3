"""What the engine asks at each step of a request clock (the ``responder.engine.handlers`` contract).

A request clock has no case: its messages use the case message kinds and
templates (same ladders, same outbox), with a context that reads as a case
("依申请公开#3 …"), so no template or provider registration changes. An inquiry
clock sits on its opinion case and is stopped, like the case's other clocks,
by a recorded release of a kind its policy names (``回应`` by default): the
engine's own case handler (``responder.engine.case_handlers``) answers for it.

The engine's table imports this module, so it imports nothing of the engine
and nothing of the service that drives the clocks (tests/test_architecture.py):
the arrow between the engine and disclosure runs one way per layer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from responder.data import Contact
from responder.disclosure.vocabulary import ANSWER_LABELS, RECEIPT_RULE, REQUEST_OBLIGATION
from responder.models import Clock, DisclosureRequest
from responder.timeutil import iso_utc


def _request(session: Session, clock: Clock) -> DisclosureRequest | None:
    try:
        rid = int(clock.subject.split(":", 1)[1])
    except (IndexError, ValueError):
        return None
    return session.get(DisclosureRequest, rid)


class RequestClockHandler:
    def satisfied(self, session: Session, clock: Clock, now: dt.datetime) -> str | None:
        req = _request(session, clock)
        if req is None:
            return "申请不存在"
        if req.state == "answered":
            return f"已答复（{ANSWER_LABELS.get(req.answer_type or '', req.answer_type)}）"
        if req.state == "withdrawn":
            return "申请已撤回"
        return None

    def context(self, session: Session, clock: Clock, step: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        req = _request(session, clock)
        assert req is not None
        wd = clock.policy.get("workdays") or {}
        what = " ".join((req.description or "").split())[:60]
        reasons = [f"收到日期：{req.received_on.isoformat()}（{RECEIPT_RULE.get(req.channel, req.channel)}）",
                   f"期限：{wd.get('days')}个工作日，至{wd.get('due_date')}（北京时间24:00）"]
        if req.extension:
            reasons.append(f"已延长{req.extension_days}个工作日（批准人：{req.extension.get('approver')}）")
        if wd.get("calendar") == "unknown":
            reasons.append(f"{'、'.join(str(y) for y in wd.get('unknown_years', []))}年放假安排尚未录入，期限按最早可能日期计算")
        return {
            "case_id": req.id, "case_title": f"依申请公开申请#{req.id}（{req.applicant or '申请人'}）：{what}",
            "level": None, "level_name": None, "clock_class": "wd", "obligation": clock.obligation,
            "obligation_label": clock.policy.get("label", ""), "basis": clock.policy.get("basis", ""),
            "department": clock.policy.get("unit_name") or "县政务公开办", "needs_review": False, "reasons": reasons,
            "started_at": iso_utc(clock.started_at), "deadline_at": iso_utc(clock.deadline_at),
            "request_id": req.id, "due_date": wd.get("due_date"), "calendar": wd.get("calendar"),
        }

    def recipients(self, session: Session, clock: Clock, step: dict[str, Any], settings: Any) -> list[Contact] | None:
        return None


HANDLERS = {REQUEST_OBLIGATION: RequestClockHandler()}
"""Listed in the engine's one static table (``responder.engine.handlers.handlers``)."""
