"""Matching and recording replies; creating a case's reply code (in the engine's transaction)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from responder import audit
from responder.notify import bundle_store
from responder.notify import links as notify_links
from responder.db import transaction
from responder.models import Case, OutboxMessage
from responder.models.links import ReplyCode, SmsReply

CODE_DIGITS = 4
CODE_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
PHONE_PREFIX = re.compile(r"^(?:\+?86|0086)(?=1\d{10}$)")


@dataclass(frozen=True)
class Reply:
    provider: str
    phone: str
    text: str
    sent_at: dt.datetime | None
    key: str
    """The provider's identity of this reply (sequence id, or a hash of phone+time+text): replays share it."""


def normalise_phone(phone: str) -> str:
    p = re.sub(r"[\s-]", "", str(phone or ""))
    return PHONE_PREFIX.sub("", p)[:20]


def ensure_code(session: Session, case_id: int, now: dt.datetime) -> str:
    """The case's code, created once; unique among open cases' codes so a code names one case."""
    row = session.execute(select(ReplyCode).where(ReplyCode.case_id == case_id)).scalar_one_or_none()
    if row is not None:
        return row.code
    for _ in range(50):
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        taken = session.execute(select(ReplyCode.id).join(Case, Case.id == ReplyCode.case_id).where(
            ReplyCode.code == code, Case.closed_at.is_(None))).first()
        if taken is None:
            break
    session.add(ReplyCode(case_id=case_id, code=code, created_at=now))
    session.flush()
    return code


def _recipient(session: Session, case_id: int, phone: str) -> str | None:
    """The contact key of the person at ``phone`` who was sent an SMS of this case, if any."""
    return session.execute(select(OutboxMessage.recipient).where(
        OutboxMessage.case_id == case_id, OutboxMessage.channel == "sms", OutboxMessage.address == phone).limit(1)).scalar()


def _one(session: Session, settings: Any, r: Reply, now: dt.datetime) -> str:
    phone = normalise_phone(r.phone)
    if session.execute(select(SmsReply.id).where(SmsReply.dedupe_key == r.key[:200])).first() is not None:
        return "duplicate"
    recent = session.execute(select(func.count()).select_from(SmsReply).where(
        SmsReply.phone == phone, SmsReply.received_at > now - dt.timedelta(hours=1))).scalar()
    row = SmsReply(provider=r.provider, dedupe_key=r.key[:200], phone=phone, text=r.text[:500], sent_at=r.sent_at,
                   received_at=now, outcome="unmatched")
    if recent >= settings.file.notify.replies.per_hour:
        row.outcome = "throttled"
    else:
        m = CODE_RE.search(r.text or "")
        if m is None:
            row.outcome = "no_code"
        else:
            # Issue 17: a bundle's code (sent to this very number) signs for every open case it listed.
            bundle = bundle_store.match_reply(session, m.group(1), phone, now)
            found = session.execute(select(ReplyCode.case_id).join(Case, Case.id == ReplyCode.case_id).where(
                ReplyCode.code == m.group(1), Case.closed_at.is_(None))).scalar() if bundle is None else None
            who = _recipient(session, found, phone) if found is not None else None
            if bundle is not None:
                who, case_ids = bundle
                open_ids = [c for c in case_ids if (case := session.get(Case, c)) is not None and case.closed_at is None]
                row.recipient, row.case_id = who, (open_ids[0] if open_ids else None)
                fresh = [_ack(session, c, who, phone, r, now) for c in open_ids]
                row.outcome = "acked" if any(fresh) else "already" if open_ids else "unmatched"
            elif found is None:
                row.outcome = "unmatched"
            elif who is None:
                row.outcome, row.case_id = "wrong_number", found
            else:
                row.case_id, row.recipient = found, who
                row.outcome = "acked" if _ack(session, found, who, phone, r, now) else "already"
    session.add(row)
    session.flush()
    if row.outcome not in ("acked", "already"):
        audit.record(session, at=now, kind="sms_reply.unmatched", subject=f"phone:{phone[:3]}****{phone[-4:]}",
                     data={"outcome": row.outcome, "provider": r.provider, "case_id": row.case_id})
    return row.outcome


def _ack(session: Session, case_id: int, who: str, phone: str, r: Reply, now: dt.datetime) -> bool:
    """One person's 签收 of one case by SMS; False if they had signed already."""
    fresh = notify_links.record_recipient_ack(session, case_id=case_id, recipient=who, now=now, via="sms")
    if fresh:
        case = session.get(Case, case_id)
        actor = f"{who}（短信回复，{phone[:3]}****{phone[-4:]}）"
        if case.acked_at is None:
            case.acked_at, case.acked_by = now, actor
            session.add(case)
        audit.record(session, at=now, kind="case.acked", subject=f"case:{case_id}", actor=actor,
                     data={"via": "sms", "recipient": who, "provider": r.provider})
    return fresh


def record_replies(engine: Any, settings: Any, replies: list[Reply], now: dt.datetime) -> list[str]:
    """Store and act on each reply in its own transaction (one bad reply never loses the others)."""
    out = []
    for r in replies:
        with transaction(engine) as s:
            out.append(_one(s, settings, r, now))
    return out


def record_unparsed(engine: Any, *, provider: str, key: str, raw: str, reason: str, now: dt.datetime) -> str:
    """Store a message that is not a reply we can read (outcome ``unparsed``: shown to the office, never acted
    on), once per key, so that the queue can let go of it and nothing is lost."""
    with transaction(engine) as s:
        if s.execute(select(SmsReply.id).where(SmsReply.dedupe_key == key[:200])).first() is not None:
            return "duplicate"
        s.add(SmsReply(provider=provider, dedupe_key=key[:200], phone="", text=raw[:500], received_at=now,
                       outcome="unparsed"))
        audit.record(s, at=now, kind="sms_reply.unmatched", subject=f"{provider}:{key[:60]}",
                     data={"outcome": "unparsed", "provider": provider, "reason": reason[:200]})
    return "unparsed"
