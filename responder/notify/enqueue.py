"""The durable outbox's writer: messages are rows first, deliveries second.

``enqueue`` is called inside the transaction of the state change that causes
the message (a clock step, a plan reminder, a delivery failure), so the change
and its messages commit together or not at all. The key is stable — the same
step computed twice yields the same key — and the UNIQUE constraint on
``idem_key`` makes a second insert impossible, so nothing is sent twice.

The decisions about a row live in :mod:`responder.notify.decide` and the
dispatcher that sends it in :mod:`responder.notify.dispatch`; see
docs/messages.md for the context contract.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, select


from responder.data import Contact
from responder.models import OutboxMessage


def idem_key(key: str, channel: str, contact_key: str) -> str:
    return f"{key}|{channel}|{contact_key}"


def message_rows(*, now: dt.datetime, key: str, kind: str, contact: Contact, context: dict[str, Any],
                 channels: Sequence[str], urgent: bool, case_id: int | None, clock_id: int | None,
                 generation: int, not_before: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The rows of one message to one contact, one per channel it can receive (pure).

    The engine inserts these with one executemany per batch; :func:`enqueue` inserts
    them one by one. Either way the row is the same.
    """
    rows = []
    for channel in channels:
        address = contact.phone if channel == "sms" else contact.email if channel == "email" else None
        if not address:
            continue
        rows.append({
            "idem_key": idem_key(key, channel, contact.key), "kind": kind, "channel": channel, "recipient": contact.key,
            "address": address, "urgent": urgent,
            "context": {**context, "recipient_name": contact.name, "recipient_role": contact.role},
            "case_id": case_id, "clock_id": clock_id, "generation": generation, "status": "pending",
            "created_at": now, "next_attempt_at": not_before or now, "attempts": 0,
        })
    return rows


def group_row(*, now: dt.datetime, key: str, kind: str, context: dict[str, Any], urgent: bool, case_id: int | None,
              clock_id: int | None, generation: int) -> dict[str, Any]:
    """The one row of a step for the office's group robot (WeCom / DingTalk): a group, not a person."""
    return {
        "idem_key": idem_key(key, "robot", "group"), "kind": kind, "channel": "robot", "recipient": "group",
        "address": "group", "urgent": urgent, "context": {**context, "recipient_name": "各位", "recipient_role": "group"},
        "case_id": case_id, "clock_id": clock_id, "generation": generation, "status": "pending",
        "created_at": now, "next_attempt_at": now, "attempts": 0,
    }


def enqueue(session: Session, *, now: dt.datetime, key: str, kind: str, contact: Contact, context: dict[str, Any],
            channels: Sequence[str], urgent: bool = False, case_id: int | None = None, clock_id: int | None = None,
            generation: int = 1, not_before: dt.datetime | None = None) -> list[OutboxMessage]:
    """Write one message per channel the contact can receive; skip keys already present.

    ``key`` identifies the cause (e.g. ``clock:12|g2:s1``); the full idempotency
    key adds channel and recipient. Returns the rows created now.
    """
    created: list[OutboxMessage] = []
    for row in message_rows(now=now, key=key, kind=kind, contact=contact, context=context, channels=channels,
                            urgent=urgent, case_id=case_id, clock_id=clock_id, generation=generation,
                            not_before=not_before):
        if session.exec(select(OutboxMessage.id).where(OutboxMessage.idem_key == row["idem_key"])).first() is not None:
            continue
        msg = OutboxMessage(**row)
        session.add(msg)
        created.append(msg)
    if created:
        session.flush()
    return created
