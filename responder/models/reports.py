"""Weekly compliance logs as written (issue 8): figures, chain head and archive path.

One row per ISO week, and the UNIQUE ``week`` column is what makes the weekly
job run once: two daemons (or one restarted mid-job) cannot both insert it.
``files`` keeps the SHA-256 of every archived file, so an archive edited after
the fact can be told apart from what was sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Field, SQLModel

from responder.models.common import json_field, utc_required


class WeeklyReport(SQLModel, table=True):
    __tablename__ = "weekly_report"

    id: int | None = Field(default=None, primary_key=True)
    week: str = Field(max_length=10, unique=True)  # ISO week, e.g. 2022-W30
    generated_at: dt.datetime = utc_required()
    chain_head: str = Field(default="", max_length=64)
    """Hash of the last audit event before the week's end (the genesis hash when there is none)."""
    chain_seq: int = 0
    """Sequence number of that event (0: none)."""
    path: str = ""
    figures: dict[str, Any] = json_field()
    files: dict[str, Any] = json_field()
    """Archived file name → SHA-256 of its content."""


class LedgerReport(SQLModel, table=True):
    """A month's response ledger as archived and sent by the month-end job (issue 18).

    Its own table rather than a ``weekly_report`` row: that table's UNIQUE
    ``week`` and weekly ``figures`` are what the weekly job, the demo and the
    console read, and a month mixed in would be misread as a week. The UNIQUE
    ``month`` makes the month-end job run once across restarts and daemons.
    """

    __tablename__ = "ledger_report"

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, unique=True)  # 2022-07
    generated_at: dt.datetime = utc_required()
    chain_head: str = Field(default="", max_length=64)
    chain_seq: int = 0
    path: str = ""
    summary: dict[str, Any] = json_field()
    """The ledger's ``summary`` (totals, units, trend, text); the rows are in the archived files."""
    files: dict[str, Any] = json_field()
    """Archived file name → SHA-256 of its content."""
