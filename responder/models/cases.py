"""Cases, their clocks, escalation steps and releases: the obligations the rules impose.

Owned by the clocks engine (issue 5). A clock stores its own policy snapshot so a
later configuration change cannot silently rewrite a running obligation, and a
``next_action_at`` that is NULL exactly when nothing more will happen to it —
the partial index on that column is what lets ``advance`` find due work without
loading every open case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from responder.models.common import json_field, utc_field, utc_required


class Case(SQLModel, table=True):
    """One real-world matter; several items may point to it."""

    __tablename__ = "cases"  # "case" is an SQL keyword

    id: int | None = Field(default=None, primary_key=True)
    title: str = ""
    state: str = Field(default="open", max_length=20, index=True)  # open | closed
    source_role: str = Field(default="opinion", max_length=20)
    level: str | None = Field(default=None, max_length=4)  # I | II | III | IV | None
    level_name: str | None = None
    category: str | None = None
    domain: str | None = None
    department: str | None = None
    co_departments: list[str] = json_field(list)
    clock_class: str = Field(default="48h", max_length=4)  # 5h | 48h
    needs_review: bool = False
    reasons: list[str] = json_field(list)
    facts: dict[str, Any] = json_field()
    event_at: dt.datetime | None = utc_field()
    first_report_at: dt.datetime | None = utc_field()
    detected_at: dt.datetime = utc_required()
    opened_at: dt.datetime = utc_required(index=True)
    generation: int = 1
    """Bumped by every change (reclassification, release, closure); part of step and message keys."""
    acked_at: dt.datetime | None = utc_field()
    acked_by: str | None = None
    closed_at: dt.datetime | None = utc_field()
    close_kind: str | None = None  # met | duplicate | not_ours | resolved
    close_reason: str | None = None
    duplicate_of: int | None = None
    updated_at: dt.datetime = utc_required()


class Clock(SQLModel, table=True):
    """One obligation with its deadline: a response clock or a plan reminder schedule."""

    __tablename__ = "clock"
    __table_args__ = (
        Index(
            "ix_clock_next_action_open",
            "next_action_at",
            sqlite_where=text("next_action_at IS NOT NULL"),
            postgresql_where=text("next_action_at IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    subject: str = Field(default="", max_length=200, index=True)
    """What the clock is about: ``case:12`` or ``plan:2022:deploy:renli``."""
    unit_id: str | None = Field(default=None, max_length=100)
    obligation: str = Field(max_length=40)  # release_5h | press_24h | continued_release | response_48h | plan_phase
    state: str = Field(default="running", max_length=20, index=True)
    """running | overdue | met | met_late | cancelled."""
    start_basis: str = Field(default="first_report", max_length=40)
    started_at: dt.datetime = utc_required()
    deadline_at: dt.datetime = utc_required()
    original_start_at: dt.datetime | None = utc_field()
    """For a clock started by an upgrade: the case's original start, to show how late the upgrade came."""
    met_at: dt.datetime | None = utc_field()
    met_by_release_id: int | None = None
    generation: int = 1
    policy: dict[str, Any] = json_field()
    """Snapshot of the policy in force when the clock started: deadline, ladder, legal basis, satisfiers."""
    next_step: int = 0
    next_action_at: dt.datetime | None = utc_field()
    claimed_by: str | None = None
    claimed_until: dt.datetime | None = utc_field()


class ClockStep(SQLModel, table=True):
    """A ladder step taken: recorded in the same transaction as the messages it caused."""

    __tablename__ = "clock_step"
    __table_args__ = (UniqueConstraint("clock_id", "step_key", name="uq_clock_step_key"),)

    id: int | None = Field(default=None, primary_key=True)
    clock_id: int = Field(foreign_key="clock.id", index=True)
    case_id: int | None = Field(default=None, index=True)
    step_key: str = Field(max_length=120)
    """Idempotency key of the step: ``g{generation}:s{index}[:r{repeat}]``."""
    step_kind: str = Field(max_length=40)  # opened | reminder | final_warning | overdue | repeat_overdue | …
    due_at: dt.datetime = utc_required()
    taken_at: dt.datetime = utc_required(index=True)
    recipients: list[str] = json_field(list)
    messages: int = 0


class Release(SQLModel, table=True):
    """An authoritative release or response that may stop clocks."""

    __tablename__ = "release"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    kind: str = Field(max_length=20)  # 权威发布 | 新闻发布会 | 吹风会 | 媒体采访 | 回应
    url: str | None = None
    title: str = ""
    published_at: dt.datetime = utc_required()
    recorded_at: dt.datetime = utc_required()
    recorded_by: str = "system"
    item_id: int | None = Field(default=None, foreign_key="item.id")
    status: str = Field(default="confirmed", max_length=20)  # confirmed | proposed | rejected
    match_score: float | None = None
    match_reasons: list[str] = json_field(list)
