"""Capability checks run by ``config.load`` (and so by ``check-config`` and at every start/reload).

Each returns a list of problems, one line each, naming the file, the key and
what is wrong. Importing this module registers them; capability modules add
their own through ``responder.config.register_validator``.
"""

from __future__ import annotations

import importlib
from typing import Any

from responder.config import register_validator
from responder.data import DataError


def _policies(settings: Any) -> list[str]:
    from responder.engine.policy import load_policies

    try:
        load_policies(settings.data_paths["policies"])
    except DataError as exc:
        return [f"{settings.path}: data.policies: {exc}"]
    return []


def _classifier(settings: Any) -> list[str]:
    from responder.classify import Classifier

    p = settings.data_paths
    try:
        Classifier.from_paths(p["thresholds"], p["routing"], p["domains"])
    except DataError as exc:
        return [f"{settings.path}: data.thresholds/routing: {exc}"]
    return []


def _routing_departments(settings: Any) -> list[str]:
    """Every department the routing data can send a case to must be a unit with contacts."""
    import tomllib

    names = {u.name for u in settings.units}
    with open(settings.data_paths["routing"], "rb") as fh:
        raw = tomllib.load(fh)
    problems = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
        elif isinstance(node, str) and path.split(".")[-1].split("[")[0] in ("department", "owner", "departments", "co_departments") \
                and node.startswith("县") and node not in names:
            problems.append(f"{settings.data_paths['routing']}: {path}: department {node!r} is not a unit in {settings.data_paths['units']}")

    walk(raw, "")
    return problems


def _gazetteer(settings: Any) -> list[str]:
    """The county's place names (issue 14); a configuration without the file uses the shipped one."""
    from responder.engine.event_identity import GazetteerError, load_gazetteer

    path = settings.data_paths.get("gazetteer")
    if path is None or not path.exists():
        return []
    try:
        load_gazetteer(path)
    except GazetteerError as exc:
        return [f"{settings.path}: data.gazetteer: {exc}"]
    return []


def _weekly_slot(settings: Any) -> list[str]:
    from responder.report.job import parse_slot

    try:
        parse_slot(settings.file.schedule.weekly_report)
    except ValueError as exc:
        return [f"{settings.path}: {exc}"]
    return []


def _ledger(settings: Any) -> list[str]:
    from responder.report.ledger_job import validate_ledger_config

    return [f"{settings.path}: {p}" for p in validate_ledger_config(settings)]


register_validator("policies", _policies)
register_validator("weekly slot", _weekly_slot)
register_validator("monthly ledger", _ledger)
register_validator("classifier", _classifier)
register_validator("gazetteer", _gazetteer)
register_validator("routing departments", _routing_departments)

for _mod in ("responder.validators_notify", "responder.validators_plan", "responder.validators_ingest",
             "responder.disclosure.validate"):
    try:
        importlib.import_module(_mod)
    except ModuleNotFoundError as _exc:
        if _exc.name != _mod:
            raise
