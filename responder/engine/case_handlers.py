"""Handlers for the case obligations: 5-hour release, 24-hour press conference,
48-hour response and continued releases.

Case clocks are stopped when a release is recorded (``record_release``), so
``satisfied`` only guards against a case closed behind the engine's back.
Recipients are the responsible department's roles, its cooperating
departments' roles and the office's roles, as the step names them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from responder.data import Contact
from responder.disclosure.vocabulary import INQUIRY_OBLIGATION
from responder.engine.rules import case_context, recipients_for, unit_for_department
from responder.models import Case, Clock


class CaseClockHandler:
    def satisfied(self, session: Session, clock: Clock, now: dt.datetime) -> str | None:
        case = session.get(Case, clock.case_id) if clock.case_id else None
        if case is None:
            return "案件不存在"
        if case.state != "open":
            return f"案件已关闭（{case.close_kind}）"
        return None

    def context(self, session: Session, clock: Clock, step: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        case = session.get(Case, clock.case_id)
        assert case is not None
        return case_context(None, case, clock)

    def recipients(self, session: Session, clock: Clock, step: dict[str, Any], settings: Any) -> list[Contact] | None:
        case = session.get(Case, clock.case_id)
        assert case is not None
        unit = unit_for_department(settings, case.department)
        co = [u for u in (settings.unit(d) for d in case.co_departments) if u is not None and u.id != unit.id]
        return recipients_for(settings, unit, co, step)


_handler = CaseClockHandler()
HANDLERS = {obligation: _handler
            for obligation in ("release_5h", "press_24h", "response_48h", "continued_release", INQUIRY_OBLIGATION)}
"""Obligation → handler, for the engine's table in ``responder.engine.handlers``. The inquiry answer
(``responder.disclosure``) is a clock on its opinion case, stopped like the case's other clocks."""
