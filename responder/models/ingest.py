"""What was heard: feed sources and the items read from them.

Owned by the ingestion capability (issue 3). An item is never deleted: a
duplicate is recognised by ``(source_name, guid)`` before insert, and a story
heard from two sources is attached to one case (``case_id``) with the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from responder.models.common import json_field, utc_field, utc_required


class Source(SQLModel, table=True):
    """Fetch state and health of one configured source (the config says what it is)."""

    __tablename__ = "source"

    name: str = Field(primary_key=True, max_length=100)
    kind: str = Field(max_length=20)
    role: str = Field(max_length=20)
    url: str = Field(default="")
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = Field(default=None, max_length=64)
    last_polled_at: dt.datetime | None = utc_field()
    last_success_at: dt.datetime | None = utc_field()
    last_error_at: dt.datetime | None = utc_field()
    last_error: str | None = None
    consecutive_failures: int = 0
    next_poll_at: dt.datetime | None = utc_field()
    items_total: int = 0


class Item(SQLModel, table=True):
    """One entry read from a source, stored as untrusted text."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("source_name", "guid", name="uq_item_source_guid"),)

    id: int | None = Field(default=None, primary_key=True)
    source_name: str = Field(foreign_key="source.name", index=True, max_length=100)
    role: str = Field(max_length=20)
    guid: str = Field(max_length=512)
    link: str | None = None
    title: str = ""
    text: str = ""
    title_key: str = Field(default="", index=True, max_length=512)
    """Normalised title (NFKC, no punctuation/space), for cross-source matching."""
    content_hash: str = Field(default="", index=True, max_length=64)
    published_at: dt.datetime | None = utc_field()
    published_source: str = Field(default="feed", max_length=20)
    """``feed`` when the feed gave a usable date, ``first_seen`` when we used first sight."""
    first_seen_at: dt.datetime = utc_required(index=True)
    declared_level: str | None = None
    declared_category: str | None = None
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    attach_reason: str | None = None
    status: str = Field(default="new", max_length=20)
    """new → classified/attached/release/ignored; never deleted."""
    extra: dict[str, Any] = json_field()
