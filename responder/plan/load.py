"""Reading ``plan.toml`` into a :class:`~responder.plan.model.Plan`, with errors people can act on.

Every problem names the file, the key path (``phase[1] (implement).requires[3]``)
and what is wrong, so an operator editing next year's plan can fix it without
reading code. Units are referenced by their ``units.toml`` ids and checked
against the loaded units; contacts are never duplicated here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from responder.data import ROLES, DataError, Unit, read_toml
from responder.plan.model import Deliverable, Phase, Plan, PlanUnit, Reminders, Requirement

ID_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
CHANNELS = ("sms", "email", "robot")
UNIT_KINDS = ("township", "department", "office")


class PlanError(DataError):
    """The plan file cannot be used; the message names file, key and problem."""


def _err(path: Path, key: str, problem: str) -> PlanError:
    return PlanError(f"{path}: {key}: {problem}")


def _unknown(path: Path, key: str, table: dict[str, Any], known: Iterable[str]) -> None:
    extra = sorted(set(table) - set(known))
    if extra:
        raise _err(path, key or "(top level)", f"unknown key(s) {extra} (known: {', '.join(known)})")


def _str(path: Path, key: str, v: Any, *, required: bool = True) -> str:
    if v is None and not required:
        return ""
    if not isinstance(v, str) or not v.strip():
        raise _err(path, key, f"must be a non-empty string (got {v!r})")
    return v.strip()


def _strs(path: Path, key: str, v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise _err(path, key, f"must be a list of strings (got {v!r})")
    return tuple(v)


def _item_no(path: Path, key: str, v: Any) -> str:
    """Requirement numbers may be written 23 or "23"; deliverable ids are slugs."""
    if isinstance(v, bool):
        raise _err(path, key, f"not a requirement number or deliverable id: {v!r}")
    if isinstance(v, int):
        if v < 1:
            raise _err(path, key, f"requirement numbers start at 1 (got {v})")
        return str(v)
    if isinstance(v, str) and v.strip():
        return v.strip()
    raise _err(path, key, f"not a requirement number or deliverable id: {v!r}")


def _date(path: Path, key: str, v: Any) -> dt.date:
    if isinstance(v, dt.datetime) or not isinstance(v, dt.date):
        if isinstance(v, str):
            try:
                return dt.date.fromisoformat(v)
            except ValueError:
                pass
        raise _err(path, key, f"must be a date like 2022-07-20 (a Beijing calendar day), got {v!r}")
    return v


def _time(path: Path, key: str, v: Any) -> dt.time:
    if isinstance(v, dt.time):
        return v
    if isinstance(v, str) and re.fullmatch(r"\d{1,2}:\d{2}", v):
        h, m = (int(x) for x in v.split(":"))
        if 0 <= h < 24 and 0 <= m < 60:
            return dt.time(h, m)
    raise _err(path, key, f"must be a Beijing time of day like \"09:00\" (got {v!r})")


def _roles(path: Path, key: str, v: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    if v is None:
        return default
    roles = _strs(path, key, v)
    for r in roles:
        if r not in ROLES:
            raise _err(path, key, f"unknown role {r!r} (roles: {', '.join(ROLES)})")
    return roles


def _read(path: Path) -> dict[str, Any]:
    return read_toml(path, PlanError, "plan file")


def _reminders(path: Path, raw: Any) -> Reminders:
    if raw is None:
        return Reminders()
    if not isinstance(raw, dict):
        raise _err(path, "reminders", "must be a table")
    _unknown(path, "reminders", raw, ("days_before", "time", "roles", "overdue_roles", "summary_roles", "channels"))
    d = Reminders()
    days = raw.get("days_before", list(d.days_before))
    if not isinstance(days, list) or not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 366 for x in days):
        raise _err(path, "reminders.days_before", f"must be a list of whole days 0–366 (got {days!r})")
    channels = _strs(path, "reminders.channels", raw.get("channels")) or d.channels
    for c in channels:
        if c not in CHANNELS:
            raise _err(path, "reminders.channels", f"unknown channel {c!r} (channels: {', '.join(CHANNELS)})")
    return Reminders(
        days_before=tuple(days),
        time=_time(path, "reminders.time", raw.get("time", "09:00")),
        roles=_roles(path, "reminders.roles", raw.get("roles"), d.roles),
        overdue_roles=_roles(path, "reminders.overdue_roles", raw.get("overdue_roles"), d.overdue_roles),
        summary_roles=_roles(path, "reminders.summary_roles", raw.get("summary_roles"), d.summary_roles),
        channels=channels,
    )


def _table_list(path: Path, key: str, v: Any, *, required: bool = True) -> list[dict[str, Any]]:
    if v is None and not required:
        return []
    if not isinstance(v, list) or not v or not all(isinstance(x, dict) for x in v):
        raise _err(path, key, f"expected one or more [[{key}]] tables")
    return v


def load_plan(path: str | Path, units: Iterable[Unit]) -> Plan:
    """Load and validate a plan file against the configured units; raise :class:`PlanError`."""
    path = Path(path)
    raw = _read(path)
    _unknown(path, "", raw, ("plan", "reminders", "phase", "deliverable", "area", "exempt"))
    by_id = {u.id: u for u in units}

    head = raw.get("plan")
    if not isinstance(head, dict):
        raise _err(path, "plan", "the [plan] table is missing")
    _unknown(path, "plan", head, ("id", "name", "document", "units"))
    plan_id = _str(path, "plan.id", head.get("id"))
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", plan_id):
        raise _err(path, "plan.id", f"must be 1–20 letters, digits, '-' or '_' (got {plan_id!r})")
    name = _str(path, "plan.name", head.get("name"))
    document = _str(path, "plan.document", head.get("document"), required=False)

    unit_ids = _strs(path, "plan.units", head.get("units"))
    if not unit_ids:
        raise _err(path, "plan.units", "list the accountable units by their units.toml ids")
    plan_units: list[PlanUnit] = []
    for i, uid in enumerate(unit_ids):
        u = by_id.get(uid)
        if u is None:
            raise _err(path, f"plan.units[{i}]", f"unit {uid!r} does not exist in the units file")
        if any(p.id == uid for p in plan_units):
            raise _err(path, f"plan.units[{i}]", f"unit {uid!r} is listed twice")
        plan_units.append(PlanUnit(id=u.id, name=u.name, kind=u.kind))

    reminders = _reminders(path, raw.get("reminders"))

    # ---- the task table
    requirements: list[Requirement] = []
    areas: list[tuple[str, str]] = []
    tasks: list[tuple[int, str, str]] = []
    for ai, area in enumerate(_table_list(path, "area", raw.get("area"))):
        ak = f"area[{ai}]"
        _unknown(path, ak, area, ("no", "name", "task"))
        a_no = _str(path, f"{ak}.no", area.get("no"))
        a_name = _str(path, f"{ak}.name", area.get("name"))
        areas.append((a_no, a_name))
        for ti, task in enumerate(_table_list(path, f"{ak}.task", area.get("task"))):
            tk = f"{ak} ({a_name}).task[{ti}]"
            _unknown(path, tk, task, ("name", "requirement"))
            t_name = _str(path, f"{tk}.name", task.get("name"))
            t_no = len(tasks) + 1
            tasks.append((t_no, a_no, t_name))
            for ri, req in enumerate(_table_list(path, f"{tk}.requirement", task.get("requirement"))):
                rk = f"{tk} ({t_name}).requirement[{ri}]"
                _unknown(path, rk, req, ("no", "text", "lines", "applies_to"))
                if "no" not in req:
                    raise _err(path, f"{rk}.no", "required key is missing")
                no = _item_no(path, f"{rk}.no", req["no"])
                if "text" in req and "lines" in req:
                    raise _err(path, rk, "give `text` or `lines`, not both")
                if "lines" in req:
                    lines = _strs(path, f"{rk}.lines", req["lines"])
                    if not lines:
                        raise _err(path, f"{rk}.lines", "must hold at least one line")
                else:
                    lines = (_str(path, f"{rk}.text", req.get("text")),)
                if any(r.no == no for r in requirements):
                    raise _err(path, f"{rk}.no", f"requirement {no} is numbered twice")
                requirements.append(Requirement(no=no, lines=lines, area_no=a_no, area=a_name, task_no=t_no,
                                                task=t_name, applies_to=_strs(path, f"{rk}.applies_to", req.get("applies_to"))))

    # ---- deliverables
    deliverables: list[Deliverable] = []
    for di, d in enumerate(_table_list(path, "deliverable", raw.get("deliverable"), required=False)):
        dk = f"deliverable[{di}]"
        _unknown(path, dk, d, ("id", "name", "text", "kind", "min", "basis", "applies_to"))
        did = _str(path, f"{dk}.id", d.get("id"))
        if not ID_RE.fullmatch(did) or len(did) > 20:
            raise _err(path, f"{dk}.id", f"must be a lower-case slug of at most 20 characters (got {did!r})")
        if any(x.id == did for x in deliverables):
            raise _err(path, f"{dk}.id", f"deliverable {did!r} is listed twice")
        kind = d.get("kind", "record")
        if kind not in ("record", "experience"):
            raise _err(path, f"{dk} ({did}).kind", f"must be 'record' or 'experience' (got {kind!r})")
        mn = d.get("min", 1)
        if not isinstance(mn, int) or isinstance(mn, bool) or mn < 1:
            raise _err(path, f"{dk} ({did}).min", f"must be a whole number ≥ 1 (got {mn!r})")
        deliverables.append(Deliverable(id=did, text=_str(path, f"{dk} ({did}).text", d.get("text")), kind=kind,
                                        name=_str(path, f"{dk} ({did}).name", d.get("name"), required=False),
                                        min=mn, basis=_str(path, f"{dk}.basis", d.get("basis"), required=False),
                                        applies_to=_strs(path, f"{dk} ({did}).applies_to", d.get("applies_to"))))

    known_items = {r.no for r in requirements} | {d.id for d in deliverables}
    plan_unit_ids = {u.id for u in plan_units}

    def check_scope(key: str, scope: tuple[str, ...]) -> None:
        for s in scope:
            if s not in UNIT_KINDS and s not in plan_unit_ids:
                raise _err(path, key, f"{s!r} is neither a unit kind ({', '.join(UNIT_KINDS)}) nor a unit of plan.units")

    for r in requirements:
        check_scope(f"requirement {r.no}.applies_to", r.applies_to)
    for d in deliverables:
        check_scope(f"deliverable {d.id}.applies_to", d.applies_to)

    # ---- phases
    phases: list[Phase] = []
    owner: dict[str, str] = {}
    for pi, ph in enumerate(_table_list(path, "phase", raw.get("phase"))):
        pk = f"phase[{pi}]"
        _unknown(path, pk, ph, ("id", "name", "start", "end", "requires", "basis"))
        pid = _str(path, f"{pk}.id", ph.get("id"))
        if not ID_RE.fullmatch(pid):
            raise _err(path, f"{pk}.id", f"must be a lower-case slug (got {pid!r})")
        if any(p.id == pid for p in phases):
            raise _err(path, f"{pk}.id", f"phase {pid!r} is listed twice")
        pk = f"{pk} ({pid})"
        start = _date(path, f"{pk}.start", ph.get("start"))
        end = _date(path, f"{pk}.end", ph.get("end"))
        if end < start:
            raise _err(path, f"{pk}.end", f"{end} is before the start {start}")
        req_raw = ph.get("requires")
        if not isinstance(req_raw, list) or not req_raw:
            raise _err(path, f"{pk}.requires", "must list the requirement numbers and deliverable ids due by the phase's end")
        requires: list[str] = []
        for j, v in enumerate(req_raw):
            no = _item_no(path, f"{pk}.requires[{j}]", v)
            if no not in known_items:
                raise _err(path, f"{pk}.requires[{j}]", f"{no!r} is neither a requirement number nor a deliverable id")
            if no in owner:
                raise _err(path, f"{pk}.requires[{j}]", f"{no!r} is already required by phase {owner[no]!r} (each item belongs to one phase)")
            owner[no] = pid
            requires.append(no)
        phases.append(Phase(id=pid, name=_str(path, f"{pk}.name", ph.get("name")), start=start, end=end,
                            requires=tuple(requires), basis=_str(path, f"{pk}.basis", ph.get("basis"), required=False)))
    missing = [no for no in sorted(known_items, key=_sort_key) if no not in owner]
    if missing:
        raise _err(path, "phase[*].requires", f"no phase requires {', '.join(missing)} (give each item a deadline)")

    # ---- exemptions
    exempt: dict[str, frozenset[str]] = {}
    ex_raw = raw.get("exempt", {})
    if not isinstance(ex_raw, dict):
        raise _err(path, "exempt", "must be a table: unit id = [requirement numbers]")
    for uid, nos in ex_raw.items():
        if uid not in plan_unit_ids:
            raise _err(path, f"exempt.{uid}", f"unit {uid!r} is not in plan.units")
        if not isinstance(nos, list):
            raise _err(path, f"exempt.{uid}", "must be a list of requirement numbers or deliverable ids")
        items = set()
        for j, v in enumerate(nos):
            no = _item_no(path, f"exempt.{uid}[{j}]", v)
            if no not in known_items:
                raise _err(path, f"exempt.{uid}[{j}]", f"{no!r} is neither a requirement number nor a deliverable id")
            items.add(no)
        exempt[uid] = frozenset(items)

    return Plan(id=plan_id, name=name, document=document, phases=tuple(phases), requirements=tuple(requirements),
                deliverables=tuple(deliverables), units=tuple(plan_units), reminders=reminders, exempt=exempt,
                areas=tuple(areas), tasks=tuple(tasks), path=path)


def _sort_key(no: str) -> tuple[int, str]:
    return (int(no), "") if no.isdigit() else (10**6, no)


def plan_from_settings(settings: Any) -> Plan | None:
    """The configured plan, or None when ``data.plan = ""`` switches the plan capability off."""
    path = settings.data_paths["plan"]
    if path.is_dir():
        return None
    return load_plan(path, settings.units)
