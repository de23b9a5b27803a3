"""Links in messages and per-person receipts (issue 17).

A ``message_link`` row is the server side of a link in an escalation SMS/e-mail: only the SHA-256 of
the random token is kept, bound to one case, one recipient and one purpose (``ack`` or
``release``). ``recipient_ack`` records that one person has signed for a case (签收) by link, reply
code or console: it stops that person's reminder repeats, never the legal clock.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from responder.models.common import utc_field, utc_required


class MessageLink(SQLModel, table=True):
    __tablename__ = "message_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    """SHA-256 hex of the token; the token itself is only in the message."""
    case_id: int = Field(index=True)
    recipient: str = Field(max_length=100)
    """Contact key ``unit:role``."""
    recipient_name: str = Field(default="", max_length=60)
    purpose: str = Field(max_length=10)  # ack | release
    cause: str = Field(default="", max_length=200)
    """The outbox key of the message that carried it."""
    created_at: dt.datetime = utc_required()
    expires_at: dt.datetime = utc_required()
    used_at: dt.datetime | None = utc_field()


class RecipientAck(SQLModel, table=True):
    __tablename__ = "recipient_ack"
    __table_args__ = (UniqueConstraint("case_id", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(index=True)
    recipient: str = Field(max_length=100)
    at: dt.datetime = utc_required()
    via: str = Field(max_length=20)  # link | sms | console


class ReplyCode(SQLModel, table=True):
    """The short code of a case in its SMS (one per case): a reply is matched by this code AND the sender's number."""

    __tablename__ = "reply_code"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(unique=True)
    code: str = Field(max_length=8, index=True)
    created_at: dt.datetime = utc_required()


class SmsReply(SQLModel, table=True):
    """Every inbound SMS reply as received, with what became of it (shown to the office when not acted on)."""

    __tablename__ = "sms_reply"

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    dedupe_key: str = Field(max_length=200, unique=True)
    phone: str = Field(max_length=20, index=True)
    text: str = Field(default="", max_length=500)
    sent_at: dt.datetime | None = utc_field()
    received_at: dt.datetime = utc_required(index=True)
    outcome: str = Field(max_length=20)  # acked | already | unmatched | wrong_number | no_code | throttled | unparsed
    case_id: int | None = None
    recipient: str | None = Field(default=None, max_length=100)
