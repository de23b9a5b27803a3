"""``check-config`` for the implementation plan: the file loads, and every reminder reaches someone.

A plan unit without a contact for a reminder role would have its reminders
silently dropped, which is exactly the spreadsheet-and-phone-call failure the
plan capability exists to end; so it is a configuration error, not a warning.
"""

from __future__ import annotations

from typing import Any

from responder.config import register_validator


def check_plan(settings: Any) -> list[str]:
    from responder.plan.load import PlanError, plan_from_settings

    where = f"{settings.path}: data.plan"
    try:
        plan = plan_from_settings(settings)
    except PlanError as exc:
        return [f"{where}: {exc}"]
    if plan is None:
        return []
    problems = []
    path = plan.path
    by_id = {u.id: u for u in settings.units}
    roles = dict.fromkeys([*plan.reminders.roles, *plan.reminders.overdue_roles])
    for u in plan.units:
        missing = [r for r in roles if by_id[u.id].contact(r) is None]
        if missing:
            problems.append(f"{path}: plan.units: unit {u.id!r} ({u.name}) has no contact for role(s) "
                            f"{', '.join(missing)} named in reminders; add them in {settings.data_paths['units']}")
    office = settings.office
    missing = [r for r in plan.reminders.summary_roles if office.contact(r) is None]
    if missing:
        problems.append(f"{path}: reminders.summary_roles: the office unit {office.id!r} has no contact for role(s) "
                        f"{', '.join(missing)}")
    return problems


register_validator("plan", check_plan)
