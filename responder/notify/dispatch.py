"""The dispatcher's shell: claim due rows, send them through their channel, record what happened.

It reads rows, asks :mod:`responder.notify.decide` (quiet hours, digests, limits)
and :mod:`responder.notify.bundle` (one message per person per moment) what to do
with them at ``now``, claims them with a compare-and-swap update, and hands the
claimed rows to :mod:`responder.notify.attempts`, which calls the provider outside
any transaction and records each attempt; ``reconcile_sending`` settles rows a
crash left in ``sending``. See docs/messages.md and docs/notifications.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from responder import audit
from responder.db import transaction
from responder.models import OutboxMessage
from responder.notify import bundle_store
from responder.notify.attempts import DispatchReport, _Batch, _cas, _reconcile
from responder.notify.bundle import BundlePlan, plan_bundles
from responder.notify.channels.base import Channel
from responder.notify.decide import OPEN_STATUSES, Candidate, digest_context, parse_quiet_hours, plan_batch
from responder.notify.enqueue import idem_key
from responder.timeutil import UTC

log = logging.getLogger("responder.notify")


def _candidate(m: OutboxMessage, due: dt.datetime | None = None) -> Candidate:
    at = m.next_attempt_at if due is None else min(due, m.next_attempt_at)
    return Candidate(id=m.id, kind=m.kind, channel=m.channel, recipient=m.recipient, urgent=m.urgent,
                     next_attempt_at=at, attempts=m.attempts, status=m.status,
                     outcome_unknown=m.outcome_unknown)


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
        acked: list[OutboxMessage] = []
        if cfg.bundle:
            rows += bundle_store.more_waiting(s, rows, now)
            acked = bundle_store.acked_repeats(s, rows)
            gone = {r.id for r in acked}
            rows = [r for r in rows if r.id not in gone]
            keys = {(r.channel, r.address) for r in rows if bundle_store.is_bundleable(r)}
            last = bundle_store.last_sent(s, keys)
    by_id = {r.id: r for r in rows}
    # Issue 17: urgent case messages to one address go together (pure: notify.bundle.plan_bundles).
    bplan, planned = BundlePlan(), set()
    if cfg.bundle:
        waits = [bundle_store.waiting(r) for r in rows if bundle_store.is_bundleable(r)]
        planned = {w.id for w in waits if w.due_at <= now}
        bplan = plan_bundles(waits, now, window=dt.timedelta(seconds=cfg.bundle_window_s),
                             repeat_gap=dt.timedelta(seconds=cfg.bundle_repeat_s), last_sent=last)
    in_bundles = {ids[0]: ids for ids in bplan.bundles}
    go_now = set(bplan.alone) | set(in_bundles)
    # What goes now meets the limits as one message (a bundle by its first member); the rest of the bundles waits.
    candidates = [_candidate(r, due=now if r.id in go_now else None) for r in rows
                  if r.id not in planned or r.id in go_now]
    try:
        quiet = cfg.quiet_hours
        parse_quiet_hours(quiet)
    except ValueError:
        log.error("notify.quiet_hours %r is not HH:MM-HH:MM; quiet hours ignored", cfg.quiet_hours)
        quiet = None
    plan = plan_batch(candidates, now, quiet_hours=quiet, quiet_channels=tuple(cfg.quiet_channels),
                      digest_window=digest_window, per_recipient=lim.sms_per_window, window=window, recent_sms=recent,
                      provider_per_minute=lim.sms_provider_per_minute, provider_recent=prov)

    to_send: list[OutboxMessage] = []
    with transaction(engine) as s:
        for rid, until in plan.hold.items():
            if _cas(s, by_id[rid], status="held", next_attempt_at=until):
                b.report.held += 1
        for r in acked:
            if _cas(s, r, status="cancelled", last_error="已签收：不再重复超时通报（计时继续）"):
                b.report.cancelled += 1
        for rid, until in bplan.wait.items():
            if _cas(s, by_id[rid], next_attempt_at=until):
                b.report.waiting += 1
        for rid, until in plan.defer.items():
            for i in in_bundles.get(rid, [rid]):
                if _cas(s, by_id[i], next_attempt_at=until):
                    b.report.deferred += 1
        claim = dict(status="sending", claimed_by=owner, claimed_until=now + lease)
        for rid in plan.send:
            if rid in in_bundles:
                ids = in_bundles[rid]
                members = [by_id[i] for i in ids if _cas(s, by_id[i], **claim)]
                b.report.lost_claims += len(ids) - len(members)
                if len(members) > 1:
                    to_send.append(bundle_store.create_bundle(s, settings, members, now=now, owner=owner, lease=lease))
                    b.report.bundled += len(members)
                    b.report.bundles += 1
                else:
                    to_send.extend(members)
                continue
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
