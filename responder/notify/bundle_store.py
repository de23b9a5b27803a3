"""Bundles in the database (issue 17): what the pure :mod:`responder.notify.bundle` needs read, and its result written.

A bundle is an ordinary outbox row (``kind = "bundle"``) created in the transaction
that claims its members; each member becomes ``merged`` with ``digest_id`` naming the
bundle (the same mark a digest leaves). From then on the bundle row alone is sent,
retried, reconciled after a crash, asked about or resent marked 【重发】 at most once,
exactly as any row (docs/notifications.md): a restart can neither lose it (members and
bundle commit together) nor send it twice (its key is derived from its members), and
a member is never sent on its own once merged. If the bundle dies, the office is told
(``delivery_failure``), as for any row.

The bundle's reply code covers every case it lists: it is kept in the bundle row's
context, and :func:`match_reply` finds it by code *and* the number it was sent to.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from responder.models import Case, OutboxMessage
from responder.models.links import RecipientAck, ReplyCode
from responder.notify.bundle import (
    BUNDLE_KIND,
    CASE_LADDER_KINDS,
    FIRST_ALERT_KIND,
    REPEAT_KIND,
    Waiting,
    bundle_context,
    bundle_key,
    bundleable,
)
from responder.notify.enqueue import idem_key
from responder.timeutil import UTC

CODE_DIGITS = 4
"""As a case's code (responder.inbound.core.CODE_DIGITS): one shape for people to type."""
REPLY_DAYS = 7
"""How long a bundle's code is honoured: longer than any ladder's repeats run (12 × 2 h)."""


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def is_bundleable(m: OutboxMessage) -> bool:
    return bundleable(kind=m.kind, channel=m.channel, urgent=m.urgent, case_id=m.case_id, attempts=m.attempts,
                      status=m.status, outcome_unknown=m.outcome_unknown)


def waiting(m: OutboxMessage) -> Waiting:
    return Waiting(id=m.id, kind=m.kind, channel=m.channel, address=m.address, case_id=int(m.case_id or 0),
                   due_at=_aware(m.created_at), next_attempt_at=_aware(m.next_attempt_at),
                   first_alert=m.kind == FIRST_ALERT_KIND)


def more_waiting(session: Session, rows: list[OutboxMessage], now: dt.datetime) -> list[OutboxMessage]:
    """Rows already waiting for a bundle to the addresses of ``rows`` (their ``next_attempt_at`` is later)."""
    keys = {(r.channel, r.address) for r in rows if is_bundleable(r)}
    if not keys:
        return []
    have = {r.id for r in rows}
    q = select(OutboxMessage).where(OutboxMessage.status == "pending", OutboxMessage.attempts == 0,
                                    OutboxMessage.urgent.is_(True), OutboxMessage.case_id.is_not(None),
                                    OutboxMessage.kind.in_(sorted(CASE_LADDER_KINDS)),
                                    OutboxMessage.address.in_(sorted({a for _, a in keys})),
                                    OutboxMessage.created_at <= now, OutboxMessage.next_attempt_at > now)
    out = []
    for m in session.execute(q).scalars():
        if m.id not in have and (m.channel, m.address) in keys and is_bundleable(m):
            out.append(m)
    return out


def acked_repeats(session: Session, rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """Repeats waiting for a bundle whose person has signed for the case meanwhile (签收 stops their repeats)."""
    reps = [r for r in rows if r.kind == REPEAT_KIND and r.case_id is not None and is_bundleable(r)]
    if not reps:
        return []
    acked = set(session.execute(select(RecipientAck.case_id, RecipientAck.recipient).where(
        RecipientAck.case_id.in_(sorted({r.case_id for r in reps})))).all())
    return [r for r in reps if (r.case_id, r.recipient) in acked]


def last_sent(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], dt.datetime]:
    """Per (channel, address): when the last bundle or urgent case message was sent to it."""
    if not keys:
        return {}
    q = (select(OutboxMessage.channel, OutboxMessage.address, func.max(OutboxMessage.sent_at))
         .where(OutboxMessage.status == "sent", OutboxMessage.address.in_(sorted({a for _, a in keys})),
                or_(OutboxMessage.kind == BUNDLE_KIND,
                    OutboxMessage.urgent.is_(True) & OutboxMessage.kind.in_(sorted(CASE_LADDER_KINDS))))
         .group_by(OutboxMessage.channel, OutboxMessage.address))
    return {(c, a): _aware(t) for c, a, t in session.execute(q).all() if t is not None and (c, a) in keys}


def allocate_code(session: Session, address: str, now: dt.datetime) -> str:
    """A code no open case uses and no recent bundle to this number uses: a reply names one thing."""
    recent = {str((m.context or {}).get("reply_code")) for m in _recent_bundles(session, address, now)}
    code = ""
    for _ in range(50):
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        if code in recent:
            continue
        taken = session.execute(select(ReplyCode.id).join(Case, Case.id == ReplyCode.case_id).where(
            ReplyCode.code == code, Case.closed_at.is_(None))).first()
        if taken is None:
            break
    return code


def _recent_bundles(session: Session, address: str, now: dt.datetime) -> list[OutboxMessage]:
    return list(session.execute(select(OutboxMessage).where(
        OutboxMessage.kind == BUNDLE_KIND, OutboxMessage.channel == "sms", OutboxMessage.address == address,
        OutboxMessage.created_at > now - dt.timedelta(days=REPLY_DAYS)).order_by(OutboxMessage.id.desc())).scalars())


def match_reply(session: Session, code: str, phone: str, now: dt.datetime) -> tuple[str, list[int]] | None:
    """(recipient, case ids) of the newest bundle with this code sent to this number, or None."""
    for m in _recent_bundles(session, phone, now):
        ctx = m.context or {}
        if str(ctx.get("reply_code") or "") == code:
            return m.recipient, [int(i) for i in ctx.get("case_ids") or []]
    return None


def create_bundle(session: Session, settings: Any, members: list[OutboxMessage], *, now: dt.datetime, owner: str,
                  lease: dt.timedelta) -> OutboxMessage:
    """Write the bundle row (claimed by ``owner``) and mark its members merged into it, in the caller's transaction."""
    first = members[0]
    code = None
    if first.channel == "sms" and settings.file.notify.replies.enabled:
        code = allocate_code(session, first.address, now)
    web = settings.file.web
    console = (web.public_url or settings.file.service.public_base_url or "").rstrip("/")
    ctx = bundle_context([(m.kind, m.context) for m in members],
                         {**first.context, "county": settings.file.service.county}, reply_code=code,
                         console_url=console)
    ctx["members"] = [m.id for m in members]
    b = OutboxMessage(idem_key=idem_key(bundle_key([m.id for m in members]), first.channel, first.recipient),
                      kind=BUNDLE_KIND, channel=first.channel, recipient=first.recipient, address=first.address,
                      urgent=True, context=ctx, status="sending", created_at=now, next_attempt_at=now,
                      claimed_by=owner, claimed_until=now + lease)
    session.add(b)
    session.flush()
    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in members]))
                    .values(status="merged", digest_id=b.id, claimed_by=None, claimed_until=None))
    return b
