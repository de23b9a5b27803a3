"""Audit events (an append-only SHA-256 hash chain) and small service state.

Every state change, operator action, message attempt and configuration load is
an :class:`AuditEvent`. ``seq`` is the chain position and ``hash`` covers the
previous hash, so editing or deleting a row behind the service's back breaks
the chain at that row (``responder audit verify``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Field, SQLModel

from responder.models.common import json_field, utc_required


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    at: dt.datetime = utc_required(index=True)
    actor: str = Field(default="system", max_length=100)
    kind: str = Field(max_length=60, index=True)
    subject: str = Field(default="", max_length=200, index=True)
    data: dict[str, Any] = json_field()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Meta(SQLModel, table=True):
    """Key/value state of the service itself (engine last run, self-check, audit head)."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True, max_length=100)
    value: str = ""
    updated_at: dt.datetime = utc_required()
