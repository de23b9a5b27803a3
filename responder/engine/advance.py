"""The engine's pass: ``advance(engine, settings, now)`` takes every clock step that is due.

It takes ``now`` and reads no clock. The shell calls it when the next thing is
due (it returns when that is) and on a slow safety tick; there is never one
scheduler job per clock.

Exactly-once steps, across crashes and several workers: due clocks are found
through the partial index on ``next_action_at``; each is *claimed* by the
conditional UPDATE that moves it on (``WHERE id = … AND next_step = <as read>
AND generation = <as read>``). Only the worker whose UPDATE changed the row
(rowcount 1) writes the step, its outbox messages and its audit event — in the
same transaction, so a crash before commit leaves the clock due and nothing
sent, and a crash after commit leaves it moved on with its messages queued.
Every change to a case bumps ``generation`` (``clocks.bump_generation``); keys
carry it, so a step computed for an older state can never fire.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import structlog
from sqlalchemy import and_, bindparam, func, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from responder import audit
from responder.db import transaction
from responder.engine import ladder as ladder_mod
from responder.engine.handlers import handler_for
from responder.engine.inputs import channels_for
from responder.engine.rules import recipients_for, service_context
from responder.inbound import ensure_code
from responder.models import Case, Clock, ClockStep, MessageLink, OutboxMessage
from responder.notify import group_row, message_rows
from responder.notify import links as notify_links
from responder.timeutil import iso_utc

log = structlog.get_logger("responder.engine")


@dataclass
class AdvanceResult:
    clocks: int = 0
    steps: int = 0
    skipped: int = 0
    messages: int = 0
    stopped: int = 0
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    """Cases that had a step taken, for the daemon's one log line per pass."""
    next_due_at: dt.datetime | None = None


def next_due_at(engine: Engine) -> dt.datetime | None:
    """The earliest pending clock action (partial index: no scan of closed clocks)."""
    with Session(engine) as s:
        return s.exec(select(func.min(Clock.next_action_at)).where(Clock.next_action_at.is_not(None))).one()


def advance(engine: Engine, settings: Any, now: dt.datetime, *, owner: str | None = None, limit: int = 500) -> AdvanceResult:
    """Take every clock step due at ``now``; return what was done and when the next thing is due.

    Fast path: all due clocks in one transaction, the audit chain head read once,
    one flush. If that transaction fails as a whole (a poisoned row, a constraint),
    it is retried clock by clock, each in its own savepoint, so one bad clock can
    neither stop nor roll back the others.
    """
    owner = owner or f"engine:{os.getpid()}"
    with Session(engine) as s:
        due_ids = list(s.exec(select(Clock.id).where(Clock.next_action_at.is_not(None), Clock.next_action_at <= now)
                              .order_by(Clock.next_action_at).limit(limit)).all())
    res = AdvanceResult()
    if due_ids:
        try:
            res = _advance_batch(engine, settings, now, owner, due_ids, isolate=False)
        except Exception:
            log.warning("engine.batch_failed_retrying_one_by_one", clocks=len(due_ids))
            res = _advance_batch(engine, settings, now, owner, due_ids, isolate=True)
    res.next_due_at = next_due_at(engine)
    return res


def _advance_batch(engine: Engine, settings: Any, now: dt.datetime, owner: str, due_ids: list[int], *,
                   isolate: bool) -> AdvanceResult:
    res = AdvanceResult()
    with transaction(engine) as s:
        clocks = s.exec(select(Clock).where(Clock.id.in_(due_ids))).all()
        case_ids = {c.case_id for c in clocks if c.case_id is not None}
        # Held here: the identity map is weak, and handlers look cases up by id.
        cases = s.exec(select(Case).where(Case.id.in_(case_ids))).all() if case_ids else []
        chain = audit.Batch(s, defer=not isolate)
        out = _Rows()
        for clock in sorted(clocks, key=lambda c: (c.next_action_at or now, c.id)):
            if clock.next_action_at is None or clock.next_action_at > now:
                continue  # someone else moved it between our two reads
            res.clocks += 1
            if not isolate:
                try:
                    with s.no_autoflush:  # one flush at commit, not one per look-up
                        _advance_clock(s, settings, clock, now, owner, res, chain, out)
                except _Conflict:
                    res.conflicts += 1
                continue
            try:
                with s.begin_nested():
                    one = _Rows()
                    _advance_clock(s, settings, clock, now, owner, res, chain, one)
                    one.write(s)
            except _Conflict:
                res.conflicts += 1
            except Exception as exc:
                log.exception("clock.advance_failed", clock_id=clock.id, case_id=clock.case_id)
                res.errors.append(f"clock {clock.id}: {exc}")
                chain = audit.Batch(s)  # the savepoint rolled back events of this clock
                with s.begin_nested():
                    # Push it forward so a poisoned row cannot spin the loop; the self-check reports it.
                    s.exec(update(Clock).where(Clock.id == clock.id).values(next_action_at=now + dt.timedelta(minutes=5)))
        out.write(s)
        chain.close()
        audit.set_meta(s, "engine_last_run", iso_utc(now) or "", now)
        del cases
    return res


class _Conflict(Exception):
    pass


class _Rows:
    """Steps and messages of a batch, written with one executemany each (ORM objects cost ~1 ms apiece)."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []

    def write(self, s: Session) -> None:
        conn = s.connection()
        if self.messages:
            conn.execute(insert(OutboxMessage), self.messages)
        if self.links:  # issue 17: a link commits with the message that carries it
            conn.execute(insert(MessageLink), self.links)
        if self.steps:
            conn.execute(insert(ClockStep), self.steps)
        self.steps, self.messages, self.links = [], [], []


def _advance_clock(s: Session, settings: Any, clock: Clock, now: dt.datetime, owner: str, res: AdvanceResult,
                   chain: audit.Batch, out: _Rows) -> None:
    handler = handler_for(clock.obligation)
    if handler is None:
        raise RuntimeError(f"no handler for obligation {clock.obligation!r}")
    old_step, gen = clock.next_step, clock.generation
    subject = f"case:{clock.case_id}" if clock.case_id else clock.subject
    reason = handler.satisfied(s, clock, now)
    if reason:
        _claim(s, clock, old_step, gen, next_step=old_step, next_action_at=None, state="met", met_at=now)
        chain.record(at=now, kind="clock.satisfied", subject=subject, actor=owner,
                     data={"clock_id": clock.id, "obligation": clock.obligation, "reason": reason, "unit": clock.unit_id})
        res.stopped += 1
        return
    plan = ladder_mod.plan_due(clock.policy, clock.started_at, clock.deadline_at, old_step, now)
    was_state = clock.state
    state = "overdue" if was_state == "running" and now >= clock.deadline_at else was_state
    _claim(s, clock, old_step, gen, next_step=plan.next_step, next_action_at=plan.next_action_at, state=state)
    policy = clock.policy
    urgent = bool(policy.get("urgent"))
    channels = policy.get("channels") or channels_for(settings)
    base_ctx: dict[str, Any] | None = None
    for index, spec, due in plan.take:
        kind = spec["kind"]
        step_urgent = urgent or kind in ("overdue", "repeat_overdue")
        contacts = handler.recipients(s, clock, spec, settings)
        if contacts is None:
            unit = settings.unit(clock.unit_id) if clock.unit_id else settings.office
            contacts = recipients_for(settings, unit or settings.office, [], spec)
        if base_ctx is None:
            base_ctx = service_context(settings, clock.case_id) | handler.context(s, clock, spec, now)
        ctx = dict(base_ctx)
        ctx.update({"step_kind": kind, "urgent": step_urgent,
                    "overdue_seconds": max(0, int((now - clock.deadline_at).total_seconds())),
                    "repeat_no": spec.get("repeat_no", 0)})
        step_key = f"g{gen}:s{index}"
        if kind == "repeat_overdue" and clock.case_id is not None:
            # Issue 17: a person who signed for the case (签收) gets no more repeats; the clock runs on.
            acked = notify_links.acked_recipients(s, clock.case_id)
            contacts = [c for c in contacts if c.key not in acked]
        if (settings.file.notify.replies.enabled and "sms" in channels and clock.case_id is not None
                and kind in notify_links.LINK_KINDS):
            ctx["reply_code"] = ensure_code(s, clock.case_id, now)  # the code a person replies with: "回复 4821 签收"
        n = 0
        for c in contacts:
            cause = f"clock:{clock.id}|{step_key}"
            extra, link = notify_links.for_message(settings, kind=kind, case_id=clock.case_id, contact=c, cause=cause, now=now)
            rows = message_rows(now=now, key=cause, kind=kind, contact=c, context=ctx | extra,
                                channels=channels, urgent=step_urgent, case_id=clock.case_id, clock_id=clock.id,
                                generation=gen)
            out.messages.extend(rows)
            if rows and link is not None:
                out.links.append(link)
            n += len(rows)
        if "robot" in channels:
            # A group robot posts once per step to the office's group, not once per person.
            out.messages.append(group_row(now=now, key=f"clock:{clock.id}|{step_key}", kind=kind, context=ctx,
                                          urgent=step_urgent, case_id=clock.case_id, clock_id=clock.id, generation=gen))
            n += 1
        out.steps.append({"clock_id": clock.id, "case_id": clock.case_id, "step_key": step_key, "step_kind": kind,
                          "due_at": due, "taken_at": now, "recipients": [c.key for c in contacts], "messages": n})
        chain.record(at=now, kind="clock.step", subject=subject, actor=owner,
                     data={"clock_id": clock.id, "step": step_key, "kind": kind, "due_at": iso_utc(due),
                           "recipients": [c.key for c in contacts], "messages": n})
        res.steps += 1
        res.messages += n
        if clock.case_id is not None and clock.case_id not in res.case_ids:
            res.case_ids.append(clock.case_id)
    res.skipped += len(plan.skipped)
    if state == "overdue" and was_state != "overdue":
        chain.record(at=now, kind="clock.overdue", subject=subject, actor=owner,
                     data={"clock_id": clock.id, "obligation": clock.obligation, "deadline_at": iso_utc(clock.deadline_at)})


@lru_cache(maxsize=1)
def _claim_statement() -> Any:
    """Built once: constructing an UPDATE per clock costs more than running it."""
    t = Clock.__table__
    return (update(t)
            .where(and_(t.c.id == bindparam("b_id"), t.c.next_step == bindparam("b_old"),
                        t.c.generation == bindparam("b_gen"), t.c.next_action_at.is_not(None)))
            .values(next_step=bindparam("b_step"), next_action_at=bindparam("b_next", type_=t.c.next_action_at.type),
                    state=bindparam("b_state"), met_at=bindparam("b_met", type_=t.c.met_at.type)))


def _claim(s: Session, clock: Clock, old_step: int, gen: int, *, next_step: int, next_action_at: dt.datetime | None,
           state: str, met_at: dt.datetime | None = None) -> None:
    """The conditional UPDATE that claims and moves a clock; raise _Conflict if another worker did."""
    r = s.connection().execute(_claim_statement(), {
        "b_id": clock.id, "b_old": old_step, "b_gen": gen, "b_step": next_step, "b_next": next_action_at,
        "b_state": state, "b_met": met_at if met_at is not None else clock.met_at})
    if r.rowcount != 1:
        raise _Conflict()
    # Keep the loaded object truthful without a reload (no per-clock SELECT).
    for k, v in (("next_step", next_step), ("next_action_at", next_action_at), ("state", state), ("met_at", met_at or clock.met_at)):
        set_committed_value(clock, k, v)
