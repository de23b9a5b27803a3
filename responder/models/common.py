"""Helpers for declaring columns consistently across the model modules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Field

from responder.models.types import JsonType, UtcDateTime


def utc_field(*, nullable: bool = True, index: bool = False, **kw: Any) -> Any:
    """A timestamp column: aware UTC in Python, UTC in the database."""
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index, **kw)


def utc_required(*, index: bool = False) -> Any:
    return Field(sa_type=UtcDateTime, nullable=False, index=index)


def json_field(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_type=JsonType, nullable=False)


__all__ = ["utc_field", "utc_required", "json_field", "dt"]
