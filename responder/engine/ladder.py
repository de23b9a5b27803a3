"""Pure ladder arithmetic: when is each step of a clock's policy due, and which to take now.

Nothing here touches the database or the clock: ``plan_due`` is the engine's
``needsUpdate(…, now)`` (Alertmanager), table-testable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

UTC = dt.timezone.utc


def _parse_utc(s: str) -> dt.datetime:
    v = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    if v.tzinfo is None:
        raise ValueError(f"step time {s!r} has no zone")
    return v.astimezone(UTC)


def step_spec(policy: dict[str, Any], index: int) -> dict[str, Any] | None:
    """The step at ``index``: a ladder step, then the repeats after the deadline, then None."""
    ladder = policy.get("ladder") or []
    if index < len(ladder):
        return ladder[index]
    rep = policy.get("repeat")
    if not rep:
        return None
    n = index - len(ladder) + 1
    if n > int(rep.get("max", 24)):
        return None
    return {
        "kind": rep.get("kind", "repeat_overdue"), "at": {"offset_s": n * int(rep["every_s"])},
        "roles": rep.get("roles", []), "co_roles": rep.get("co_roles", []),
        "office_roles": rep.get("office_roles", []), "repeat_no": n,
    }


def step_due(step: dict[str, Any], started: dt.datetime, deadline: dt.datetime) -> dt.datetime:
    at = step["at"]
    if "after_start_s" in at:
        return started + dt.timedelta(seconds=at["after_start_s"])
    if "left" in at:
        return deadline - (deadline - started) * float(at["left"])
    if "offset_s" in at:
        return deadline + dt.timedelta(seconds=at["offset_s"])
    if "utc" in at:
        return _parse_utc(at["utc"])
    raise ValueError(f"step has no usable `at`: {at!r}")


@dataclass(frozen=True)
class DuePlan:
    take: tuple[tuple[int, dict[str, Any], dt.datetime], ...]
    """Steps to perform now: (index, spec, due time)."""
    skipped: tuple[int, ...]
    """Steps overtaken by a later due step (an item that arrived late): not sent."""
    next_step: int
    next_action_at: dt.datetime | None


def plan_due(policy: dict[str, Any], started: dt.datetime, deadline: dt.datetime, next_step: int,
             now: dt.datetime) -> DuePlan:
    """Which steps are due at ``now``, starting from ``next_step``.

    When several are due at once (the engine was down, or the item arrived
    already late), the opening step is still taken — the department must hear
    of the case — and of the rest only the latest: a reminder that 40% of the
    time is left is noise once the deadline has passed.
    """
    due: list[tuple[int, dict[str, Any], dt.datetime]] = []
    i = next_step
    while True:
        spec = step_spec(policy, i)
        if spec is None:
            break
        at = step_due(spec, started, deadline)
        if at > now:
            return _plan(due, i, at)
        due.append((i, spec, at))
        i += 1
    return _plan(due, i, None)


def _plan(due: list[tuple[int, dict[str, Any], dt.datetime]], next_step: int, next_at: dt.datetime | None) -> DuePlan:
    if len(due) <= 1:
        return DuePlan(tuple(due), (), next_step, next_at)
    keep = [due[0]] if "after_start_s" in due[0][1]["at"] else []
    keep.append(due[-1])
    kept = {d[0] for d in keep}
    return DuePlan(tuple(keep), tuple(d[0] for d in due if d[0] not in kept), next_step, next_at)


def first_action_at(policy: dict[str, Any], started: dt.datetime, deadline: dt.datetime) -> dt.datetime | None:
    spec = step_spec(policy, 0)
    return step_due(spec, started, deadline) if spec else None
