"""The durable outbox: messages are rows first, deliveries second.

``enqueue`` is called inside the transaction of the state change that causes
the message (a clock step, a plan reminder, a delivery failure), so the change
and its messages commit together or not at all. The key is stable — the same
step computed twice yields the same key — and the UNIQUE constraint on
``idem_key`` makes a second insert impossible, so nothing is sent twice.

The dispatcher (claiming, digests, quiet hours, limits, retries, attempts) is
the notification capability's; see docs/messages.md for the context contract.
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


def enqueue(session: Session, *, now: dt.datetime, key: str, kind: str, contact: Contact, context: dict[str, Any],
            channels: Sequence[str], urgent: bool = False, case_id: int | None = None, clock_id: int | None = None,
            generation: int = 1, not_before: dt.datetime | None = None,
            check_existing: bool = True) -> list[OutboxMessage]:
    """Write one message per channel the contact can receive; skip keys already present.

    ``key`` identifies the cause (e.g. ``clock:12|g2:s1``); the full idempotency
    key adds channel and recipient. Returns the rows created now.
    ``check_existing=False`` skips the look-up when the caller already holds an
    exclusive claim on the cause (the engine's conditional UPDATE); the UNIQUE
    constraint still guards it.
    """
    created: list[OutboxMessage] = []
    for channel in channels:
        address = contact.phone if channel == "sms" else contact.email if channel == "email" else None
        if not address:
            continue
        k = idem_key(key, channel, contact.key)
        if check_existing and session.exec(select(OutboxMessage.id).where(OutboxMessage.idem_key == k)).first() is not None:
            continue
        msg = OutboxMessage(
            idem_key=k, kind=kind, channel=channel, recipient=contact.key, address=address, urgent=urgent,
            context={**context, "recipient_name": contact.name, "recipient_role": contact.role},
            case_id=case_id, clock_id=clock_id, generation=generation, status="pending",
            created_at=now, next_attempt_at=not_before or now,
        )
        session.add(msg)
        created.append(msg)
    if created:
        session.flush()
    return created
