"""Links in escalation messages (issue 17): one purpose-bound page per case, recipient and purpose.

A link is created in the same transaction as the outbox rows that carry it (the engine's clock step),
so a message never names a link the database does not know, and a rolled-back step leaves neither.
The token is random (``secrets.token_urlsafe``: 8 bytes, 11 characters, short enough for an SMS);
only its SHA-256 is stored. The link does exactly one thing — sign for the case (签收) or record the
release — once, for the person it was sent to, until the case closes or ``[web] link_hours`` pass.
Whoever holds the link can use it once: that is the price of needing no password (docs/console.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from responder.models import Case
from responder.models.links import MessageLink, RecipientAck

LINK_KINDS = frozenset({"case_opened", "reminder", "final_warning", "overdue", "repeat_overdue", "continued_release"})
"""The ladder's messages to the people who must act (not the office's review or plan messages)."""
TOKEN_BYTES = 8
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{11}$")
LABELS = {"ack": "签收", "release": "记录发布"}
TABLE = MessageLink.__table__


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def purpose_for(settings: Any, role: str) -> str | None:
    """The link's purpose for a contact role, or None: no ``public_url``, or links off for the role."""
    web = settings.file.web
    if not web.public_url:
        return None
    p = web.links.get(role, "off")
    return None if p == "off" else p


def for_message(settings: Any, *, kind: str, case_id: int | None, contact: Any, cause: str,
                now: dt.datetime) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(context keys to add, the ``message_link`` row to insert) — both empty when the message gets no link."""
    if case_id is None or kind not in LINK_KINDS:
        return {}, None
    purpose = purpose_for(settings, contact.role)
    if purpose is None:
        return {}, None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    url = settings.file.web.public_url.rstrip("/") + "/l/" + token
    row = {"token_hash": token_hash(token), "case_id": case_id, "recipient": contact.key,
           "recipient_name": contact.name[:60], "purpose": purpose, "cause": cause[:200], "created_at": now,
           "expires_at": now + dt.timedelta(hours=settings.file.web.link_hours), "used_at": None}
    # link_token: the part a provider template's variable carries (the template holds <public_url>/l/).
    return {"link_url": url, "link_token": token, "link_purpose": purpose, "link_label": LABELS[purpose]}, row


@dataclass(frozen=True)
class Resolved:
    link: MessageLink | None
    case: Case | None
    problem: str | None
    """Chinese, for the page; None: the link may be used."""


def resolve(session: Session, token: str, now: dt.datetime) -> Resolved:
    """What a token names and whether it may still be used (one query, no side effect)."""
    if not TOKEN_RE.match(token or ""):
        return Resolved(None, None, "链接无效：链接不完整或被改动过。请使用短信或邮件中的原始链接，或联系县政务公开办。")
    link = session.execute(select(MessageLink).where(MessageLink.token_hash == token_hash(token))).scalar_one_or_none()
    if link is None:
        return Resolved(None, None, "链接无效：链接不完整或被改动过。请使用短信或邮件中的原始链接，或联系县政务公开办。")
    case = session.get(Case, link.case_id)
    if link.used_at is not None:
        return Resolved(link, case, "此链接已经使用过，不能再次使用。如需补充，请联系县政务公开办。")
    if case is None or case.closed_at is not None:
        return Resolved(link, case, "案件已关闭，此链接已失效。")
    if now >= link.expires_at:
        return Resolved(link, case, "链接已过期。请联系县政务公开办办理。")
    return Resolved(link, case, None)


def claim(session: Session, link_id: int, now: dt.datetime) -> bool:
    """Mark the link used; False if another request already did (single use, race-safe)."""
    r = session.connection().execute(update(TABLE).where(TABLE.c.id == link_id, TABLE.c.used_at.is_(None))
                                     .values(used_at=now))
    return r.rowcount == 1


def unclaim(session: Session, link_id: int) -> None:
    session.connection().execute(update(TABLE).where(TABLE.c.id == link_id).values(used_at=None))


def record_recipient_ack(session: Session, *, case_id: int, recipient: str, now: dt.datetime, via: str) -> bool:
    """One person's 签收 of one case; False if they had already signed (the first stands)."""
    exists = session.execute(select(RecipientAck.id).where(RecipientAck.case_id == case_id,
                                                           RecipientAck.recipient == recipient)).first()
    if exists is not None:
        return False
    session.add(RecipientAck(case_id=case_id, recipient=recipient, at=now, via=via))
    session.flush()
    return True


def acked_recipients(session: Session, case_id: int) -> set[str]:
    return set(session.execute(select(RecipientAck.recipient).where(RecipientAck.case_id == case_id)).scalars())


def actor_for(link: MessageLink, via: str = "短信链接") -> str:
    """The audit actor: the recipient by name and contact key, and how they acted."""
    return f"{link.recipient_name or link.recipient}（{via}，{link.recipient}）"
