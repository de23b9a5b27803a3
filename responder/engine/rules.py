"""The engine's pure rules: when a clock starts, who a step reaches, what a message about a case says.

No session, no clock, no I/O: functions of their arguments (a ``Case``,
``Clock`` or ``Item`` row is read, never written). The engine's shell and the
obligation handlers apply them; tests/test_engine_rules.py holds them to tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from responder.data import Contact, Unit
from responder.engine.policy import Policies
from responder.models import Case, Clock, Item
from responder.timeutil import iso_utc

OPEN_STATES = ("running", "overdue")
LEVEL_NAMES = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}
LEVEL_RANK = {None: 0, "IV": 1, "III": 2, "II": 3, "I": 4}


class EngineError(ValueError):
    """An operator request the engine refuses, with a reason for the operator."""


CLOSE_KINDS = {"duplicate": "重复", "not_ours": "非本县职责", "resolved": "已处置完毕"}
"""How an operator may close a case (``responder case close --kind``)."""


def clock_start(basis: str, *, event_at: dt.datetime | None, published_at: dt.datetime | None,
                first_seen_at: dt.datetime, now: dt.datetime, future_tolerance_s: int) -> tuple[dt.datetime, str, str | None]:
    """When a clock starts, which basis was used, and a note when we had to fall back.

    By default the first public report (the item's published time); when that is
    missing or lies in the future (beyond a tolerance for clock skew), the time
    responder first saw the item.
    """
    tol = dt.timedelta(seconds=future_tolerance_s)
    if basis == "event" and event_at is not None and event_at <= now + tol:
        return event_at, "event", None
    if basis in ("first_report", "event"):
        if published_at is None:
            return first_seen_at, "first_seen", "发布时间缺失，按首次发现时间起算"
        if published_at > now + tol:
            return first_seen_at, "first_seen", "发布时间晚于当前时间，按首次发现时间起算"
        return min(published_at, first_seen_at), "first_report", None
    return first_seen_at, "first_seen", None


def item_start(policies: Policies, item: Item, now: dt.datetime) -> tuple[dt.datetime, str, str | None]:
    """:func:`clock_start` for a reported item, by the policy file's ``[start]`` rule."""
    return clock_start(policies.start.basis, event_at=None, published_at=item.published_at,
                       first_seen_at=item.first_seen_at, now=now, future_tolerance_s=policies.start.future_tolerance_s)


def unit_for_department(settings: Any, department: str | None) -> Unit:
    u = settings.unit(department) if department else None
    return u or settings.office


def recipients_for(settings: Any, unit: Unit, co_units: list[Unit], step: dict[str, Any]) -> list[Contact]:
    """Contacts a step reaches: the unit's roles, co-departments' roles, the office's roles — each once."""
    out: list[Contact] = []
    seen: set[str] = set()

    def add(u: Unit, roles: list[str]) -> None:
        for r in roles:
            c = u.contact(r)
            if c is not None and c.key not in seen:
                seen.add(c.key)
                out.append(c)

    add(unit, step.get("roles", []))
    for cu in co_units:
        add(cu, step.get("co_roles", []))
    add(settings.office, step.get("office_roles", []))
    return out


def case_context(settings: Any | None, case: Case, clock: Clock | None) -> dict[str, Any]:
    """The message context of a case (docs/messages.md); ``settings`` adds county and link."""
    ctx: dict[str, Any] = {
        "case_id": case.id, "case_title": case.title, "level": case.level, "level_name": case.level_name,
        "clock_class": case.clock_class, "department": case.department or "县政务公开办",
        "needs_review": case.needs_review, "reasons": list(case.reasons),
    }
    if clock is not None:
        ctx.update({"obligation": clock.obligation, "obligation_label": clock.policy.get("label", ""),
                    "basis": clock.policy.get("basis", ""), "started_at": iso_utc(clock.started_at),
                    "deadline_at": iso_utc(clock.deadline_at)})
    else:
        ctx.update({"obligation": "", "obligation_label": "", "basis": "", "started_at": iso_utc(case.first_report_at),
                    "deadline_at": None})
    if settings is not None:
        ctx.update(service_context(settings, case.id))
    return ctx


def service_context(settings: Any, case_id: int | None) -> dict[str, Any]:
    base = settings.file.service.public_base_url.rstrip("/")
    return {"county": settings.file.service.county, "url": f"{base}/cases/{case_id}" if base and case_id else ""}
