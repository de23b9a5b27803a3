"""``check-config`` checks for the working-day calendar files (registered by ``responder.validators``)."""

from __future__ import annotations

from typing import Any

from responder.config import register_validator


def _calendar_files(settings: Any) -> list[str]:
    from responder.data import DataError
    from responder.disclosure.service import calendar_dir
    from responder.engine.policy import load_policies
    from responder.workdays import load_local_dir

    try:
        pol = load_policies(settings.data_paths["policies"]).file.requests
    except DataError:
        return []  # the policies check reports it
    _years, problems = load_local_dir(calendar_dir(settings.data_paths["policies"], pol))
    return problems


register_validator("calendar files", _calendar_files)
