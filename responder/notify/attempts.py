"""Delivering one claimed row: the provider call between two short transactions, and its record.

Split from :mod:`responder.notify.dispatch` (which reads, decides and claims): a
``_Batch`` opens an attempt and commits it *before* calling the provider, records
the outcome in another transaction (retrying while the database is busy), turns a
permanent failure into a notice to the office, and settles crash leftovers
(``_reconcile``). See docs/notifications.md (crashes between sending and recording).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from responder import audit
from responder.db import transaction
from responder.masking import mask_text
from responder.models import DeliveryAttempt, OutboxMessage
from responder.notify.channels.base import Channel, ChannelError, SendResult
from responder.notify.decide import INTERRUPTED, backoff_seconds, build_outgoing
from responder.notify.enqueue import enqueue
from responder.timeutil import UTC

log = logging.getLogger("responder.notify")

@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    held: int = 0
    deferred: int = 0
    merged: int = 0
    digests: int = 0
    confirmed_by_provider: int = 0
    """Rows whose interrupted send the provider confirmed: recorded as sent without sending again."""
    repeats: int = 0
    fallbacks: int = 0
    cancelled: int = 0
    lost_claims: int = 0
    bundles: int = 0
    """Bundles written this pass (issue 17): one message for several urgent case messages to one address."""
    bundled: int = 0
    """Rows merged into those bundles."""
    waiting: int = 0
    """Rows told to wait for their address's bundle (at most ``bundle_window_s``; repeats ``bundle_repeat_s``)."""
    unconfirmed: int = 0
    """Rows given up because the marked repeat's outcome was unknown too (a person is asked)."""
    next_due_at: dt.datetime | None = None

    def did_work(self) -> bool:
        return bool(self.claimed or self.held or self.deferred or self.cancelled)

def _as_read(m: OutboxMessage):
    """The claim condition: the row is still exactly as we read it."""
    cond = [OutboxMessage.id == m.id, OutboxMessage.status == m.status, OutboxMessage.attempts == m.attempts]
    cond.append(OutboxMessage.claimed_by.is_(None) if m.claimed_by is None else OutboxMessage.claimed_by == m.claimed_by)
    return cond


def _cas(session: Session, m: OutboxMessage, **values: Any) -> bool:
    res = session.execute(update(OutboxMessage).where(*_as_read(m)).values(**values))
    return res.rowcount == 1


def _open_attempt_rows(session: Session, ids: list[int]) -> list[DeliveryAttempt]:
    if not ids:
        return []
    return list(session.exec(select(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_(ids),
                                                           DeliveryAttempt.outcome == "sending")).all())


def _reconcile(session: Session, rows: list[OutboxMessage], now: dt.datetime) -> int:
    """Rows stuck in ``sending``: back to pending; if a provider call was open, the outcome is unknown."""
    n = 0
    open_attempts = _open_attempt_rows(session, [r.id for r in rows])
    open_ids = {a.outbox_id for a in open_attempts}
    for r in rows:
        unknown = r.id in open_ids or r.outcome_unknown
        if _cas(session, r, status="pending", claimed_by=None, claimed_until=None, next_attempt_at=now,
                outcome_unknown=unknown):
            n += 1
            if unknown:
                log.warning("outbox %s (%s to %s): %s; the provider will be asked, else it is resent marked as a repeat",
                            r.id, r.channel, r.recipient, INTERRUPTED)
    for a in open_attempts:
        a.outcome, a.finished_at, a.error = "unknown", now, INTERRUPTED
        session.add(a)
    return n

async def _db_retry(max_seconds: float, fn: Any, what: str) -> Any:
    """Run a short transaction, retrying (asynchronously) while the database is locked or unreachable."""
    from sqlalchemy.exc import OperationalError
    from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

    def warn(state: Any) -> None:
        log.warning("%s: database busy or unreachable (try %d), retrying: %s", what, state.attempt_number,
                    str(state.outcome.exception()).splitlines()[0][:200])

    async for attempt in AsyncRetrying(retry=retry_if_exception_type(OperationalError), reraise=True,
                                       stop=stop_after_delay(max_seconds), before_sleep=warn,
                                       wait=wait_exponential(multiplier=0.05, max=5.0)):
        with attempt:
            return fn()
    return None  # pragma: no cover (reraise=True)


class _Batch:
    """One dispatch pass: shared state of the shell (report, throttled channels)."""

    def __init__(self, engine: Engine, settings: Any, channels: dict[str, Channel], renderer: Any, now: dt.datetime,
                 owner: str):
        self.engine, self.settings, self.channels, self.renderer = engine, settings, channels, renderer
        self.now, self.owner = now, owner
        self.cfg = settings.file.notify
        self.report = DispatchReport()
        self.throttled: dict[str, dt.datetime] = {}

    # -- recording

    def _escalate(self, s: Session, row: OutboxMessage, error: str) -> None:
        """A message that will never arrive becomes a message to the office (never about a failure notice)."""
        audit.record(s, at=self.now, kind="notify.dead", subject=f"outbox:{row.id}",
                     data={"kind": row.kind, "channel": row.channel, "recipient": row.recipient, "error": mask_text(error),
                           "case_id": row.case_id})
        if row.kind in ("delivery_failure", "test"):
            return
        from responder.data import ROLE_NAMES

        name = row.context.get("recipient_name") or row.recipient
        ctx = {"failed_recipient": row.recipient, "failed_name": name, "channel": row.channel, "error": mask_text(error),
               "original_kind": row.kind, "case_id": row.case_id,
               "failed_role": ROLE_NAMES.get(str(row.context.get("recipient_role")), "")}
        office = self.settings.office
        for role in ("liaison", "deputy"):
            c = office.contact(role)
            if c is None:
                continue
            enqueue(s, now=self.now, key=f"dfail:{row.id}", kind="delivery_failure", contact=c, context=ctx,
                    channels=[ch for ch in self.cfg.channels], urgent=True, case_id=row.case_id)

    async def record(self, row: OutboxMessage, attempt_id: int | None, **kw: Any) -> None:
        """Record an outcome, retrying while the database is locked or briefly unreachable.

        Abandoning the record would leave the row ``sending`` until its lease
        expires and then send it again (issue 13: 22 extra SMS from one lock).
        The wait is asynchronous, so the other sends of the batch go on.
        """
        await _db_retry(self.cfg.limits.lease_seconds, lambda: self._record_once(row, attempt_id, **kw),
                        f"outbox {row.id}: recording the outcome")

    def _record_once(self, row: OutboxMessage, attempt_id: int | None, *, result: SendResult | None = None,
                     error: ChannelError | None = None, notes: list[str] | None = None, repeat: bool = False,
                     confirmed: bool = False) -> None:
        notes = notes or []
        counted = ""
        with transaction(self.engine) as s:
            m = s.get(OutboxMessage, row.id)
            a = s.get(DeliveryAttempt, attempt_id) if attempt_id else None
            if a is not None and a.finished_at is not None:
                return  # an earlier try committed after all (the error came after COMMIT)
            if a is None:
                a = DeliveryAttempt(outbox_id=row.id, channel=row.channel, started_at=self.now, repeat=repeat)
            a.finished_at = self.now
            m.claimed_by, m.claimed_until = None, None
            if result is not None:
                a.outcome = "sent"
                a.provider_response = result.response
                a.error = "; ".join(notes) or None
                m.status, m.sent_at, m.provider_id, m.outcome_unknown = "sent", self.now, result.provider_id, False
                if not confirmed:
                    m.attempts += 1
                counted = "sent"
            else:
                assert error is not None
                m.attempts += 1
                a.provider_response = error.response or None
                a.error = "; ".join([str(error), *notes])
                m.last_error = str(error)
                if error.unknown:
                    m.outcome_unknown = True
                limits = self.cfg.limits
                # "unknown": the request may have reached the provider (counted against the one allowed repeat).
                retry_outcome = "unknown" if error.unknown else "retry"
                if error.permanent or m.attempts >= limits.max_attempts:
                    a.outcome = "permanent" if error.permanent else retry_outcome
                    m.status = "dead"
                    counted = "dead"
                    why = str(error) if error.permanent else f"gave up after {m.attempts} attempts: {error}"
                    self._escalate(s, m, why)
                else:
                    a.outcome = retry_outcome
                    m.status = "failed"
                    delay = backoff_seconds(m.attempts, base=limits.backoff_base_seconds, cap=limits.backoff_max_seconds,
                                            jitter=limits.jitter, key=m.idem_key)
                    if error.retry_after:
                        delay = max(delay, error.retry_after)
                    m.next_attempt_at = self.now + dt.timedelta(seconds=delay)
                    counted = "retried"
            s.add(m)
            s.add(a)
        setattr(self.report, counted, getattr(self.report, counted) + 1)
        level = logging.INFO if result is not None else logging.WARNING
        log.log(level, "outbox %s %s %s to %s: %s%s%s", row.id, row.kind, row.channel, row.recipient,
                "sent" if result is not None else mask_text(str(error)),
                " (repeat)" if repeat else "", (" [" + mask_text("; ".join(notes)) + "]") if notes else "")

    def give_up_unknown(self, row: OutboxMessage) -> None:
        """The marked repeat's outcome is unknown too: no third copy; a person is asked instead.

        The promise (docs/reliability.md) is "at most once more, marked" where the
        provider neither deduplicates by our key nor can be asked.
        """
        why = "发送结果两次未知（已重发一次），不再重发，请人工确认是否收到"
        with transaction(self.engine) as s:
            m = s.get(OutboxMessage, row.id)
            if m.status != "sending" or m.claimed_by != self.owner:
                return
            m.status, m.claimed_by, m.claimed_until, m.last_error = "dead", None, None, why
            s.add(m)
            self._escalate(s, m, why)
        self.report.dead += 1
        self.report.unconfirmed += 1
        log.warning("outbox %s %s %s to %s: %s", row.id, row.kind, row.channel, row.recipient, why)

    def release(self, row: OutboxMessage, until: dt.datetime) -> None:
        """Give a claimed row back untouched (its channel is throttled): no attempt is spent."""
        with transaction(self.engine) as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == self.owner)
                      .values(status="pending" if row.status == "sending" else row.status, claimed_by=None,
                              claimed_until=None, next_attempt_at=until))
        self.report.deferred += 1

    # -- sending

    async def deliver(self, row: OutboxMessage) -> None:
        ch = self.channels.get(row.channel)
        if ch is None:
            from responder.notify.channels import deliberately_off

            if deliberately_off(self.settings, row.channel):
                with transaction(self.engine) as s:
                    s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                        status="cancelled", claimed_by=None, claimed_until=None,
                        last_error=f"channel {row.channel!r} is turned off in the configuration"))
                self.report.cancelled += 1
                return
            await self.record(row, None, error=ChannelError(f"channel {row.channel!r} is not available (see check-config)",
                                                      permanent=False, code="no-channel"))
            return
        until = self.throttled.get(row.channel)
        if until is not None:
            self.release(row, until)
            return
        repeat = False
        if row.outcome_unknown:
            probe, _ = build_outgoing(key=row.idem_key, kind=row.kind, address=row.address, context=row.context,
                                      channel=ch, renderer=self.renderer, templates=self.cfg.sms.templates,
                                      county=self.settings.file.service.county, repeat=False)
            verdict: bool | None = None
            if ch.can_query:
                since = self._last_attempt_at(row.id) or row.created_at
                verdict = await ch.query(probe, since=since)
            if verdict is True:
                self.report.confirmed_by_provider += 1
                await self.record(row, None, result=SendResult(provider_id=None, response="provider confirms the interrupted send"),
                            notes=["not sent again: the provider reports the interrupted send as sent"], confirmed=True)
                return
            repeat = verdict is None and not ch.dedupes
            if repeat and self._repeat_may_have_arrived(row.id):
                self.give_up_unknown(row)
                return
        msg, notes = build_outgoing(key=row.idem_key, kind=row.kind, address=row.address, context=row.context,
                                    channel=ch, renderer=self.renderer, templates=self.cfg.sms.templates,
                                    county=self.settings.file.service.county, repeat=repeat, created_at=self.now)
        if any(n.startswith("template") for n in notes):
            self.report.fallbacks += 1
        if repeat:
            self.report.repeats += 1
            notes.append("repeat: the previous send's outcome is unknown and the provider cannot be asked")
        # The attempt is committed before the provider call: a crash during the call stays visible
        # (the row is then reconciled as "outcome unknown"), and nothing is written between the
        # provider's answer and its record but that record — the window a kill -9 can hit is this small.
        def open_attempt() -> int:
            with transaction(self.engine) as s:
                a = DeliveryAttempt(outbox_id=row.id, channel=row.channel, started_at=self.now, outcome="sending",
                                    repeat=repeat)
                s.add(a)
                s.flush()
                if any(n.startswith("template") for n in notes):
                    audit.record(s, at=self.now, kind="notify.template_failed", subject=f"outbox:{row.id}",
                                 data={"kind": row.kind, "channel": row.channel, "notes": [mask_text(n) for n in notes]})
                return int(a.id)

        attempt_id = await _db_retry(self.cfg.limits.lease_seconds / 2, open_attempt, f"outbox {row.id}: opening the attempt")
        try:
            result = await ch.send(msg)
        except ChannelError as exc:
            if exc.throttled:
                self.throttled[row.channel] = self.now + dt.timedelta(seconds=exc.retry_after or 60)
            await self.record(row, attempt_id, error=exc, notes=notes, repeat=repeat)
            return
        except Exception as exc:  # a channel bug must not kill the batch; retried like a transient error
            log.exception("outbox %s: channel %s raised", row.id, row.channel)
            await self.record(row, attempt_id, error=ChannelError(f"{type(exc).__name__}: {exc}", permanent=False, code="internal",
                                                            unknown=True), notes=notes, repeat=repeat)
            return
        await self.record(row, attempt_id, result=result, notes=notes, repeat=repeat)

    def _repeat_may_have_arrived(self, outbox_id: int) -> bool:
        """A marked repeat of this row was sent, or its outcome is unknown too."""
        with Session(self.engine) as s:
            n = s.exec(select(func.count()).select_from(DeliveryAttempt).where(
                DeliveryAttempt.outbox_id == outbox_id, DeliveryAttempt.repeat.is_(True),
                DeliveryAttempt.outcome.in_(("sent", "unknown", "sending")))).one()
        return bool(n)

    def _last_attempt_at(self, outbox_id: int) -> dt.datetime | None:
        with Session(self.engine) as s:
            v = s.exec(select(func.max(DeliveryAttempt.started_at)).where(DeliveryAttempt.outbox_id == outbox_id)).one()
        return (v if v.tzinfo else v.replace(tzinfo=UTC)) if v else None
