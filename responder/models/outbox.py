"""The notification outbox and every delivery attempt.

Owned by the notification capability (issue 6). A message row is written in the
same transaction as the event that caused it, under a unique idempotency key;
the dispatcher claims due rows with a conditional update and records an attempt
before and after every provider call, so a crash stays visible.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from responder.models.common import json_field, utc_field, utc_required


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_due_open",
            "next_attempt_at",
            sqlite_where=text("status IN ('pending', 'sending', 'held', 'failed')"),
            postgresql_where=text("status IN ('pending', 'sending', 'held', 'failed')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    idem_key: str = Field(max_length=300, unique=True)
    kind: str = Field(max_length=40)
    """Template kind: case_opened | reminder | final_warning | overdue | repeat_overdue | delivery_failure | milestone_reminder | milestone_overdue | plan_summary | weekly_report | test."""
    channel: str = Field(max_length=20)  # sms | email | robot
    recipient: str = Field(max_length=200, index=True)
    """Contact key ``unit:role`` (or a literal for tests)."""
    address: str = Field(max_length=300)
    urgent: bool = False
    """5-hour cases and overdue notices: never held by quiet hours, never rate limited."""
    context: dict[str, Any] = json_field()
    case_id: int | None = Field(default=None, index=True)
    clock_id: int | None = None
    generation: int = 1
    status: str = Field(default="pending", max_length=20, index=True)
    """pending | sending | sent | failed(retrying) | dead | held | merged | cancelled."""
    created_at: dt.datetime = utc_required(index=True)
    next_attempt_at: dt.datetime = utc_required()
    attempts: int = 0
    sent_at: dt.datetime | None = utc_field()
    last_error: str | None = None
    provider_id: str | None = None
    claimed_by: str | None = None
    claimed_until: dt.datetime | None = utc_field()
    digest_id: int | None = None
    """Set on a message folded into a digest: the id of the digest message that carries it."""
    outcome_unknown: bool = False
    """A crash left this row in ``sending``: before sending again, ask the provider (if it can tell)."""


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    channel: str = Field(default="", max_length=20)
    started_at: dt.datetime = utc_required()
    finished_at: dt.datetime | None = utc_field()
    outcome: str = Field(default="sending", max_length=20)
    """sending | sent | retry | permanent | unknown."""
    provider_response: str | None = None
    error: str | None = None
    repeat: bool = False
    """True when resent after a crash left the outcome unknown."""
