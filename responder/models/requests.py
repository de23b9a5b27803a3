"""Disclosure requests (依申请公开, issue 19): one row per application, with its dates.

Owned by the working-day obligations capability (``responder.disclosure``). The
dates the law counts from are Beijing calendar days (``received_on``,
``count_from``, pause days), stored as ISO dates; the deadline the engine runs
on is ``Clock.deadline_at`` (UTC) of the request's clock, recomputed from these
dates whenever a pause, an extension, a correction or a new calendar year
changes it. ``due_date`` and ``calendar`` repeat the last computation for
listings and the weekly log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Field, SQLModel

from responder.models.common import json_field, utc_field, utc_required


class DisclosureRequest(SQLModel, table=True):
    __tablename__ = "disclosure_request"

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(default="open", max_length=20, index=True)
    """open | paused | awaiting_correction | answered | withdrawn."""
    channel: str = Field(max_length=10)  # 当面 | 邮寄 | 网上 | 传真 (第31条)
    received_on: dt.date
    """The receipt date under 第31条 (in person: handed in; post: signed for; online/fax: both sides confirmed)."""
    count_from: dt.date
    """The day the count starts after: the receipt date, or the corrected application's receipt (第30条)."""
    applicant: str = ""
    contact: str = ""
    description: str = ""
    """What information is asked for (as the applicant wrote it: untrusted text)."""
    unit_id: str | None = Field(default=None, max_length=100)
    item_id: int | None = Field(default=None, foreign_key="item.id")
    clock_id: int | None = None
    pauses: list[dict[str, Any]] = json_field(list)
    """[{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD" | null, "party": "第三方"|"其他机关", "reason": …, "by": …}]"""
    extension_days: int = 0
    extension: dict[str, Any] = json_field()
    """{"days", "approver", "reason", "at", "by"} once extended (第33条第2款)."""
    correction: dict[str, Any] = json_field()
    """{"notified_on", "notice_due", "late", "received_on"} for a 补正 (第30条)."""
    due_date: dt.date | None = None
    calendar: str = Field(default="package", max_length=10)  # package | local | unknown
    answer_type: str | None = Field(default=None, max_length=30)
    answered_on: dt.date | None = None
    answered_at: dt.datetime | None = utc_field()
    answer_note: str | None = None
    on_time: bool | None = None
    created_at: dt.datetime = utc_required(index=True)
    updated_at: dt.datetime = utc_required()
    created_by: str = "operator"
