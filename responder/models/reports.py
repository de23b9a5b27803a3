"""Weekly compliance logs as written (issue 8): figures, chain head and archive path."""

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
    path: str = ""
    figures: dict[str, Any] = json_field()
