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

from responder.db import transaction

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


# =====================================================================================
# The dispatcher (issue 6). Decisions are pure functions of the rows read and ``now``;
# ``dispatch_due`` / ``reconcile_sending`` are the shell that reads, claims, sends, records.
# =====================================================================================

import asyncio  # noqa: E402
import hashlib  # noqa: E402
import logging  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from sqlalchemy import func, update  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from responder import audit  # noqa: E402
from responder.channels.base import Channel, ChannelError, OutgoingMessage, SendResult  # noqa: E402
from responder.masking import mask_text  # noqa: E402
from responder.models import DeliveryAttempt  # noqa: E402
from responder.timeutil import BEIJING, UTC  # noqa: E402

log = logging.getLogger("responder.notify")

OPEN_STATUSES = ("pending", "failed", "held")
URGENT_KINDS = frozenset({"overdue", "repeat_overdue", "milestone_overdue", "delivery_failure"})
"""Overdue notices and failure escalations: never held by quiet hours, never rate limited, never digested."""
NO_DIGEST_KINDS = frozenset({"digest", "test", "weekly_report", "delivery_failure"})
INTERRUPTED = "interrupted: the process stopped between the provider call and its record"


def is_urgent(urgent: bool, kind: str) -> bool:
    return bool(urgent) or kind in URGENT_KINDS


# ---------------------------------------------------------------- pure decisions


def parse_quiet_hours(spec: str | None) -> tuple[dt.time, dt.time] | None:
    """``"22:00-07:30"`` → (22:00, 07:30); None/"" → no quiet hours. Raises ValueError on nonsense."""
    if not spec:
        return None
    a, _, b = spec.partition("-")
    start, end = dt.time.fromisoformat(a.strip()), dt.time.fromisoformat(b.strip())
    if start == end:
        raise ValueError(f"quiet hours {spec!r}: start equals end")
    return start, end


def quiet_until(now: dt.datetime, spec: str | None) -> dt.datetime | None:
    """If ``now`` falls in the quiet hours (Beijing time), the UTC instant they end; else None."""
    q = parse_quiet_hours(spec)
    if q is None:
        return None
    start, end = q
    local = now.astimezone(BEIJING)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date() if (start < end or t < end) else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(end_day, end, tzinfo=BEIJING).astimezone(UTC)


def backoff_seconds(attempts: int, *, base: float, cap: float, jitter: float, key: str) -> float:
    """Exponential backoff (base·2^(n-1), capped) with deterministic jitter.

    The jitter comes from a hash of the key and attempt number rather than a
    random generator: retries after an outage still spread out, and a test can
    predict the exact time.
    """
    raw = min(cap, base * (2 ** max(attempts - 1, 0)))
    h = int(hashlib.sha256(f"{key}|{attempts}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return max(1.0, raw * (1 + jitter * (2 * h - 1)))


def window_free_at(sent: list[dt.datetime], now: dt.datetime, limit: int, window: dt.timedelta) -> dt.datetime | None:
    """None if one more send fits in the sliding window; else when the oldest send leaves it."""
    recent = sorted(t for t in sent if t > now - window)
    if len(recent) < limit:
        return None
    return recent[len(recent) - limit] + window


@dataclass(frozen=True)
class Candidate:
    """What the planner needs of an outbox row (a plain value: the planner never touches the DB)."""

    id: int
    kind: str
    channel: str
    recipient: str
    urgent: bool
    next_attempt_at: dt.datetime
    attempts: int
    status: str
    outcome_unknown: bool = False


@dataclass
class Plan:
    send: list[int] = field(default_factory=list)
    digests: list[list[int]] = field(default_factory=list)
    hold: dict[int, dt.datetime] = field(default_factory=dict)
    defer: dict[int, dt.datetime] = field(default_factory=dict)


def plan_batch(cands: list[Candidate], now: dt.datetime, *, quiet_hours: str | None, quiet_channels: tuple[str, ...],
               digest_window: dt.timedelta, per_recipient: int, window: dt.timedelta,
               recent_sms: dict[str, list[dt.datetime]], provider_per_minute: int = 0,
               provider_recent: list[dt.datetime] | None = None) -> Plan:
    """Decide, for rows read from the outbox, what happens to each now.

    Order of the stages (Alertmanager-style, each one small): quiet hours hold
    non-urgent rows; non-urgent rows for one person and channel fold into a
    digest when more than one is due within ``digest_window``; the per-person
    SMS window and the provider's per-minute quota defer what does not fit.
    Urgent rows (5-hour cases, overdue notices) skip every stage but the
    provider quota, and even there go first.
    """
    plan = Plan()
    q_end = quiet_until(now, quiet_hours)
    due_now = [c for c in cands if c.next_attempt_at <= now]
    soon = [c for c in cands if now < c.next_attempt_at <= now + digest_window]
    ordered: list[Candidate] = []
    for c in sorted(due_now, key=lambda c: (not is_urgent(c.urgent, c.kind), c.next_attempt_at, c.id)):
        if not is_urgent(c.urgent, c.kind) and q_end is not None and c.channel in quiet_channels:
            if c.status != "held" or c.next_attempt_at < q_end:
                plan.hold[c.id] = q_end
            continue
        ordered.append(c)

    # Digest: per (recipient, channel), the non-urgent first attempts due now, plus those due within the window.
    foldable = lambda c: (not is_urgent(c.urgent, c.kind) and c.kind not in NO_DIGEST_KINDS  # noqa: E731
                          and c.attempts == 0 and not c.outcome_unknown)
    groups: dict[tuple[str, str], list[Candidate]] = {}
    for c in ordered:
        if foldable(c):
            groups.setdefault((c.recipient, c.channel), []).append(c)
    for c in soon:
        if foldable(c) and (c.recipient, c.channel) in groups and not (q_end and c.channel in quiet_channels):
            groups[(c.recipient, c.channel)].append(c)
    units: list[tuple[Candidate, list[int]]] = []  # (representative, member ids)
    folded: set[int] = set()
    for members in groups.values():
        if len(members) > 1:
            ids = sorted(m.id for m in members)
            folded.update(ids)
            units.append((members[0], ids))
    for c in ordered:
        if c.id not in folded:
            units.append((c, [c.id]))
    units.sort(key=lambda u: (not is_urgent(u[0].urgent, u[0].kind), u[0].next_attempt_at, u[0].id))

    # Limits: SMS per person (urgent excepted, but counted) and all SMS per minute.
    sent_by = {k: list(v) for k, v in recent_sms.items()}
    prov = list(provider_recent or [])
    for rep, ids in units:
        if rep.channel == "sms":
            urgent = is_urgent(rep.urgent, rep.kind)
            if provider_per_minute:
                free = window_free_at(prov, now, provider_per_minute, dt.timedelta(minutes=1))
                if free is not None:
                    for i in ids:
                        plan.defer[i] = free
                    continue
            if not urgent:
                free = window_free_at(sent_by.get(rep.recipient, []), now, per_recipient, window)
                if free is not None:
                    for i in ids:
                        if i in {c.id for c in due_now}:
                            plan.defer[i] = free
                    continue
            sent_by.setdefault(rep.recipient, []).append(now)
            prov.append(now)
        if len(ids) > 1:
            plan.digests.append(ids)
        else:
            plan.send.append(ids[0])
    return plan


def digest_context(items: list[tuple[str, dict[str, Any]]], base: dict[str, Any]) -> dict[str, Any]:
    """The context of a digest (docs/messages.md ``digest``): the folded messages, oldest first."""
    return {**{k: base[k] for k in ("recipient_name", "recipient_role", "county") if k in base},
            "items": [{"kind": k, "context": c} for k, c in items], "count": len(items)}


def fallback_params(names: list[str], kind: str, ctx: dict[str, Any], text: str) -> dict[str, str]:
    """Best-effort values for a provider template when params.toml failed: a template never swallows a message."""
    from responder.render import bj, clip, dur

    known = {
        "title": lambda: clip(ctx.get("case_title") or ctx.get("phase_name") or "", 20),
        "deadline": lambda: bj(ctx.get("deadline_at"), "%m月%d日%H:%M"),
        "dept": lambda: clip(ctx.get("department") or "", 12),
        "overdue": lambda: dur(ctx.get("overdue_seconds") or 0),
        "task": lambda: str(ctx.get("obligation_label") or ""),
        "count": lambda: str(ctx.get("count") or len(ctx.get("pending") or []) or ""),
        "text": lambda: text,
    }
    out = {}
    for n in names:
        try:
            out[n] = known[n]() if n in known else "—"
        except Exception:
            out[n] = "—"
        out[n] = out[n] or "—"
    return out


def build_outgoing(*, key: str, kind: str, address: str, context: dict[str, Any], channel: Channel,
                   renderer: Any, templates: dict[str, str], county: str, repeat: bool,
                   created_at: dt.datetime | None = None) -> tuple[OutgoingMessage, list[str]]:
    """Render one outbox row for one channel (pure). Returns the message and notes for the attempt record.

    A template that fails falls back to :func:`responder.render.fallback_text` and
    says so in the notes; over-long provider parameters are clipped and named.
    """
    from responder.render import RenderError, fallback_email, fallback_text, fit, fit_params

    ctx = {"county": county, **context}
    notes: list[str] = []
    subject = html = code = ""
    params: dict[str, str] = {}
    if channel.name == "email":
        try:
            subject, text, html = renderer.render_email(kind, ctx)
        except RenderError as exc:
            notes.append(f"template failed, built-in message sent: {exc}")
            subject, text, html = fallback_email(kind, ctx)
    else:
        try:
            text = renderer.render_sms(kind, ctx)
        except RenderError as exc:
            notes.append(f"template failed, built-in message sent: {exc}")
            text = fallback_text(kind, ctx)
        if channel.uses_templates:
            code = templates.get(kind) or templates.get("_generic", "")
            if kind not in templates and "_generic" in templates:
                params = {"text": text}
            else:
                try:
                    params = renderer.sms_params(kind, ctx)
                except RenderError as exc:
                    notes.append(f"template parameters failed, built-in values sent: {exc}")
                    names = list(getattr(renderer, "params_spec", {}).get(kind, {}) or ["text"])
                    params = fallback_params(names, kind, ctx, fallback_text(kind, ctx))
            params, clipped = fit_params(params, channel.param_limit)
            if clipped:
                notes.append(f"parameters clipped to {channel.param_limit} characters: {', '.join(clipped)}")
        else:
            if repeat:
                text = "【重发】" + text
            text = fit(text, channel.text_limit)
    msg = OutgoingMessage(key=key, address=address, kind=kind, text=text, subject=subject, html=html,
                          template_code=code, params=params, repeat=repeat, created_at=created_at)
    return msg, notes


# ---------------------------------------------------------------- the shell


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
    unconfirmed: int = 0
    """Rows given up because the marked repeat's outcome was unknown too (a person is asked)."""
    next_due_at: dt.datetime | None = None

    def did_work(self) -> bool:
        return bool(self.claimed or self.held or self.deferred or self.cancelled)


def _candidate(m: OutboxMessage) -> Candidate:
    return Candidate(id=m.id, kind=m.kind, channel=m.channel, recipient=m.recipient, urgent=m.urgent,
                     next_attempt_at=m.next_attempt_at, attempts=m.attempts, status=m.status,
                     outcome_unknown=m.outcome_unknown)


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


def reconcile_sending(engine: Engine, settings: Any, channels: dict[str, Channel], *, now: dt.datetime) -> int:
    """At start: every row left in ``sending`` by a crash goes back to the queue, flagged when its outcome is unknown.

    The asking (for providers that can tell whether they sent) happens in the
    next :func:`dispatch_due`, which is async and owns the channels; here we
    only make the state honest: the open attempt becomes ``unknown``.
    One dispatcher per database is the supported deployment; with several,
    expired leases are reconciled by ``dispatch_due`` itself.
    """
    with transaction(engine) as s:
        rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.status == "sending")).all())
        n = _reconcile(s, rows, now)
        if n:
            audit.record(s, at=now, kind="notify.reconciled", subject="outbox",
                         data={"rows": [r.id for r in rows], "unknown": [r.id for r in rows if r.outcome_unknown],
                               "queryable": sorted(k for k, c in channels.items() if c.can_query)})
    return n


def next_due_at(engine: Engine) -> dt.datetime | None:
    """When the dispatcher next has something to do: the earliest due row or expiring claim."""
    with Session(engine) as s:
        a = s.exec(select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status.in_(OPEN_STATUSES))).one()
        b = s.exec(select(func.min(OutboxMessage.claimed_until)).where(OutboxMessage.status == "sending")).one()
    vals = [v if v.tzinfo else v.replace(tzinfo=UTC) for v in (a, b) if v is not None]
    return min(vals) if vals else None


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
            from responder.channels import deliberately_off

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


async def dispatch_due(engine: Engine, settings: Any, channels: dict[str, Channel], renderer: Any, *,
                       now: dt.datetime, owner: str, limit: int = 200,
                       only: Sequence[str] | None = None) -> DispatchReport:
    """One pass of the dispatcher: read due rows, decide (pure), claim, send, record every attempt.

    Claims are conditional UPDATEs on the row as read (status, attempts,
    claimed_by) and count only when exactly one row changed, so several
    dispatchers never send the same row. Claim, send and record are three
    steps: no transaction and no lock is held across a provider call.
    ``only`` restricts the pass to some channels: the service runs one lane per
    channel, so a mail server that hangs does not hold back the SMS. Returns
    what happened and when to come back (``next_due_at``).
    """
    b = _Batch(engine, settings, channels, renderer, now, owner)
    cfg = b.cfg
    lim = cfg.limits
    window = dt.timedelta(minutes=lim.window_minutes)
    digest_window = dt.timedelta(seconds=lim.digest_window_seconds)
    lease = dt.timedelta(seconds=lim.lease_seconds)

    with transaction(engine) as s:
        q = select(OutboxMessage).where(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now)
        stale = list(s.exec(q.where(OutboxMessage.channel.in_(list(only))) if only is not None else q).all())
        if stale:
            _reconcile(s, stale, now)
    with Session(engine, expire_on_commit=False) as s:
        q = select(OutboxMessage).where(OutboxMessage.status.in_(OPEN_STATUSES),
                                        OutboxMessage.next_attempt_at <= now + digest_window)
        if only is not None:
            q = q.where(OutboxMessage.channel.in_(list(only)))
        rows = list(s.exec(q.order_by(OutboxMessage.urgent.desc(), OutboxMessage.next_attempt_at, OutboxMessage.id)
                           .limit(limit)).all())
        recipients = sorted({r.recipient for r in rows if r.channel == "sms"})
        recent: dict[str, list[dt.datetime]] = {}
        prov: list[dt.datetime] = []
        if recipients:
            for rcpt, at in s.exec(select(OutboxMessage.recipient, OutboxMessage.sent_at).where(
                    OutboxMessage.channel == "sms", OutboxMessage.status == "sent", OutboxMessage.recipient.in_(recipients),
                    OutboxMessage.sent_at > now - window)).all():
                recent.setdefault(rcpt, []).append(at if at.tzinfo else at.replace(tzinfo=UTC))
            if lim.sms_provider_per_minute:
                prov = [a if a.tzinfo else a.replace(tzinfo=UTC) for a in s.exec(select(OutboxMessage.sent_at).where(
                    OutboxMessage.channel == "sms", OutboxMessage.status == "sent",
                    OutboxMessage.sent_at > now - dt.timedelta(minutes=1))).all()]
    by_id = {r.id: r for r in rows}
    try:
        quiet = cfg.quiet_hours
        parse_quiet_hours(quiet)
    except ValueError:
        log.error("notify.quiet_hours %r is not HH:MM-HH:MM; quiet hours ignored", cfg.quiet_hours)
        quiet = None
    plan = plan_batch([_candidate(r) for r in rows], now, quiet_hours=quiet, quiet_channels=tuple(cfg.quiet_channels),
                      digest_window=digest_window, per_recipient=lim.sms_per_window, window=window, recent_sms=recent,
                      provider_per_minute=lim.sms_provider_per_minute, provider_recent=prov)

    to_send: list[OutboxMessage] = []
    with transaction(engine) as s:
        for rid, until in plan.hold.items():
            if _cas(s, by_id[rid], status="held", next_attempt_at=until):
                b.report.held += 1
        for rid, until in plan.defer.items():
            if _cas(s, by_id[rid], next_attempt_at=until):
                b.report.deferred += 1
        claim = dict(status="sending", claimed_by=owner, claimed_until=now + lease)
        for rid in plan.send:
            r = by_id[rid]
            if _cas(s, r, **claim):
                to_send.append(r)
            else:
                b.report.lost_claims += 1
        for ids in plan.digests:
            members = [by_id[i] for i in ids if _cas(s, by_id[i], **claim)]
            b.report.lost_claims += len(ids) - len(members)
            if len(members) == 1:
                to_send.append(members[0])
                continue
            if not members:
                continue
            first = members[0]
            ctx = digest_context([(m.kind, m.context) for m in members], {**first.context,
                                                                           "county": settings.file.service.county})
            key = "digest:" + hashlib.sha256(",".join(str(m.id) for m in members).encode()).hexdigest()[:16]
            d = OutboxMessage(idem_key=idem_key(key, first.channel, first.recipient), kind="digest", channel=first.channel,
                              recipient=first.recipient, address=first.address, urgent=False, context=ctx,
                              status="sending", created_at=now, next_attempt_at=now, claimed_by=owner,
                              claimed_until=now + lease)
            s.add(d)
            s.flush()
            s.execute(update(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in members]))
                      .values(status="merged", digest_id=d.id, claimed_by=None, claimed_until=None))
            b.report.merged += len(members)
            b.report.digests += 1
            to_send.append(d)
    for r in to_send:
        r.status, r.claimed_by = "sending", owner
    b.report.claimed = len(to_send)

    # Send with bounded concurrency (the e-mail channel also bounds its SMTP connections).
    by_channel: dict[str, list[OutboxMessage]] = {}
    for r in to_send:
        by_channel.setdefault(r.channel, []).append(r)

    async def run_channel(name: str, items: list[OutboxMessage]) -> None:
        # No more in flight than the channel can carry at once: an attempt is opened only when its
        # send can start, so a kill -9 marks as "unknown" only what may really have reached the provider.
        ch = channels.get(name)
        sem = asyncio.Semaphore(max(1, min(lim.concurrency, getattr(ch, "connections", lim.concurrency))))

        async def one(r: OutboxMessage) -> None:
            async with sem:
                await b.deliver(r)

        await asyncio.gather(*(one(r) for r in items))
        if ch is not None:
            try:
                await ch.flush()
            except Exception:
                log.exception("flushing channel %s", name)

    await asyncio.gather(*(run_channel(n, items) for n, items in by_channel.items()))
    b.report.next_due_at = next_due_at(engine)
    return b.report


async def send_now(engine: Engine, settings: Any, channels: dict[str, Channel], renderer: Any, ids: list[int], *,
                   now: dt.datetime, owner: str) -> DispatchReport:
    """Claim and deliver the given rows at once, ignoring quiet hours and digests (``notify-test``)."""
    b = _Batch(engine, settings, channels, renderer, now, owner)
    lease = dt.timedelta(seconds=b.cfg.limits.lease_seconds)
    claimed: list[OutboxMessage] = []
    with transaction(engine) as s:
        for m in s.exec(select(OutboxMessage).where(OutboxMessage.id.in_(ids),
                                                    OutboxMessage.status.in_(OPEN_STATUSES))).all():
            if _cas(s, m, status="sending", claimed_by=owner, claimed_until=now + lease):
                claimed.append(m)
    b.report.claimed = len(claimed)
    for r in claimed:
        await b.deliver(r)
    for ch in channels.values():
        await ch.flush()
    b.report.next_due_at = next_due_at(engine)
    return b.report
