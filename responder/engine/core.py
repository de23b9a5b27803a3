"""The clocks engine: cases, their obligations, and ``advance(…, now)``.

Everything here takes ``now`` and reads no clock. The shell calls
:func:`advance` when the next thing is due (it returns when that is) and on a
slow safety tick; there is never one scheduler job per clock.

Exactly-once steps, across crashes and several workers: due clocks are found
through the partial index on ``next_action_at``; each is *claimed* by the
conditional UPDATE that moves it on (``WHERE id = … AND next_step = <as read>
AND generation = <as read>``). Only the worker whose UPDATE changed the row
(rowcount 1) writes the step, its outbox messages and its audit event — in the
same transaction, so a crash before commit leaves the clock due and nothing
sent, and a crash after commit leaves it moved on with its messages queued.
Every change to a case bumps ``generation``; keys carry it, so a step computed
for an older state can never fire, and queued messages of an older state are
cancelled in the transaction that changes it.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import structlog
from sqlalchemy import and_, func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from responder import audit
from responder.config.notify import channels_on
from responder.db import transaction
from responder.engine import ladder as ladder_mod
from responder.engine import event_identity, joining, matching
from responder.engine.handlers import handler_for
from responder.engine.policy import RELEASE_KINDS, Policies, load_policies
from responder.engine.rules import (
    CLOSE_KINDS,
    LEVEL_NAMES,
    LEVEL_RANK,
    OPEN_STATES,
    EngineError,
    case_context,
    clock_start,
    recipients_for,
    service_context,
    unit_for_department,
)
from responder.models import Case, Clock, ClockStep, Item, Meta, OutboxMessage, Release
from responder.notify import links as notify_links
from responder.notify import enqueue, group_row, message_rows
from responder.timeutil import fmt_duration, iso_utc

log = structlog.get_logger("responder.engine")

# ------------------------------------------------------------------ policies


@lru_cache(maxsize=8)
def _policies_cached(path: str, mtime: float) -> Policies:
    return load_policies(path)


def policies_for(settings: Any) -> Policies:
    p = Path(settings.data_paths["policies"])
    return _policies_cached(str(p), p.stat().st_mtime)


def channels_for(settings: Any) -> list[str]:
    return channels_on(settings.file.notify)  # the one rule, shared with the dispatcher and the loader


# ------------------------------------------------------------------ pure helpers: engine/rules.py


# ------------------------------------------------------------------ results


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


@dataclass
class OpenResult:
    cases_opened: list[int] = field(default_factory=list)
    attached: list[int] = field(default_factory=list)
    upgraded: list[int] = field(default_factory=list)
    releases_attached: list[int] = field(default_factory=list)
    releases_proposed: list[int] = field(default_factory=list)


# ------------------------------------------------------------------ advance


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
        from sqlalchemy import insert

        from responder.models import MessageLink

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
            from responder.inbound import ensure_code  # issue 17: "回复 4821 签收"

            ctx["reply_code"] = ensure_code(s, clock.case_id, now)
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
    from sqlalchemy import bindparam

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
    from sqlalchemy.orm.attributes import set_committed_value

    for k, v in (("next_step", next_step), ("next_action_at", next_action_at), ("state", state), ("met_at", met_at or clock.met_at)):
        set_committed_value(clock, k, v)


# ------------------------------------------------------------------ cases and clocks


def _start_clock(s: Session, settings: Any, case: Case, snapshot: dict[str, Any], *, start: dt.datetime, basis: str,
                 now: dt.datetime, original_start: dt.datetime | None = None, note: str | None = None) -> Clock:
    deadline = start + dt.timedelta(seconds=snapshot["deadline_s"])
    unit = unit_for_department(settings, case.department)
    snap = dict(snapshot)
    notes = []
    if note:
        notes.append(note)
    if deadline <= now:
        notes.append(f"到达时已超时 {fmt_duration((now - deadline).total_seconds())}")
    if original_start is not None and original_start < start:
        notes.append(f"升级时距原起算时间已过 {fmt_duration((start - original_start).total_seconds())}")
    snap["notes"] = notes
    clock = Clock(case_id=case.id, subject=f"case:{case.id}", unit_id=unit.id, obligation=snap["obligation"],
                  state="overdue" if deadline <= now else "running", start_basis=basis, started_at=start,
                  deadline_at=deadline, original_start_at=original_start, generation=case.generation, policy=snap,
                  next_step=0, next_action_at=ladder_mod.first_action_at(snap, start, deadline))
    s.add(clock)
    s.flush()
    audit.record(s, at=now, kind="clock.started", subject=f"case:{case.id}",
                 data={"clock_id": clock.id, "obligation": clock.obligation, "start_basis": basis,
                       "started_at": iso_utc(start), "deadline_at": iso_utc(deadline), "notes": notes,
                       "original_start_at": iso_utc(original_start)})
    return clock


def _open_clocks(s: Session, case_id: int) -> list[Clock]:
    return list(s.exec(select(Clock).where(Clock.case_id == case_id, Clock.state.in_(OPEN_STATES))).all())


def _stop_clock(s: Session, clock: Clock, state: str, now: dt.datetime, *, met_at: dt.datetime | None = None,
                release_id: int | None = None, reason: str = "") -> None:
    clock.state = state
    clock.next_action_at = None
    clock.met_at = met_at
    clock.met_by_release_id = release_id
    clock.generation += 1
    s.add(clock)
    audit.record(s, at=now, kind=f"clock.{state}", subject=f"case:{clock.case_id}",
                 data={"clock_id": clock.id, "obligation": clock.obligation, "met_at": iso_utc(met_at),
                       "deadline_at": iso_utc(clock.deadline_at), "release_id": release_id, "reason": reason})


def _bump(s: Session, case: Case, now: dt.datetime) -> None:
    """A new generation: queued messages computed for the old state are cancelled."""
    case.generation += 1
    case.updated_at = now
    s.add(case)
    s.flush()
    s.exec(update(OutboxMessage).where(OutboxMessage.case_id == case.id, OutboxMessage.generation < case.generation,
                                       OutboxMessage.status.in_(("pending", "held", "failed")))
           .values(status="cancelled", last_error="案件状态已变化，消息作废")
           .execution_options(synchronize_session=False))
    for c in _open_clocks(s, case.id):
        c.generation = case.generation
        s.add(c)


def _item_start(policies: Policies, item: Item, now: dt.datetime) -> tuple[dt.datetime, str, str | None]:
    return clock_start(policies.start.basis, event_at=None, published_at=item.published_at,
                       first_seen_at=item.first_seen_at, now=now, future_tolerance_s=policies.start.future_tolerance_s)


def _apply_decision(case: Case, d: Any) -> None:
    case.level = d.level
    case.level_name = d.level_name or (LEVEL_NAMES.get(d.level) if d.level else None)
    case.category = d.category
    case.domain = d.domain
    case.department = d.department
    case.co_departments = list(d.co_departments or ())
    case.clock_class = d.clock
    case.needs_review = bool(d.needs_review)
    case.reasons = list(d.reasons or ())
    case.facts = dict(d.facts or {})


def create_case(s: Session, settings: Any, policies: Policies, *, title: str, decision: Any, start: dt.datetime,
                basis: str, now: dt.datetime, source_role: str = "opinion", note: str | None = None,
                actor: str = "system") -> Case:
    """Open a case from a classification and start the clocks its policy puts on it."""
    case = Case(title=title[:500], source_role=source_role, detected_at=now, opened_at=now, first_report_at=start,
                updated_at=now)
    _apply_decision(case, decision)
    if note:
        case.reasons = [*case.reasons, note]
    s.add(case)
    s.flush()
    audit.record(s, at=now, kind="case.opened", subject=f"case:{case.id}", actor=actor,
                 data={"title": case.title, "level": case.level, "clock": case.clock_class, "category": case.category,
                       "domain": case.domain, "department": case.department, "needs_review": case.needs_review,
                       "reasons": case.reasons})
    channels = channels_for(settings)
    for p in policies.for_class(case.clock_class):
        _start_clock(s, settings, case, policies.snapshot(p, channels), start=start, basis=basis, now=now, note=note)
    if case.needs_review:
        _ask_review(s, settings, policies, case, now)
    return case


def _ask_review(s: Session, settings: Any, policies: Policies, case: Case, now: dt.datetime) -> None:
    """The stricter clock runs; a person at the office is asked to confirm or downgrade."""
    ctx = case_context(settings, case, None)
    for role in policies.file.review.roles:
        c = settings.office.contact(role)
        if c is not None:
            enqueue(s, now=now, key=f"case:{case.id}|review|g{case.generation}", kind="review_needed", contact=c,
                    context=ctx, channels=channels_for(settings), urgent=case.clock_class == "5h", case_id=case.id,
                    generation=case.generation)


Classify = Callable[..., Any]


def default_classifier(settings: Any) -> Classify:

    p = settings.data_paths
    c = _classifier_cached(str(p["thresholds"]), str(p["routing"]), str(p["domains"]))
    return c.classify


@lru_cache(maxsize=4)
def _classifier_cached(thresholds: str, routing: str, domains: str) -> Any:
    from responder.classify import Classifier

    return Classifier.from_paths(Path(thresholds), Path(routing), Path(domains))


def open_cases(engine: Engine, settings: Any, now: dt.datetime, *, classify: Classify | None = None,
               limit: int = 500) -> OpenResult:
    """Turn newly ingested items into cases (or attach them), and match releases to cases."""
    classify = classify or default_classifier(settings)
    policies = policies_for(settings)
    res = OpenResult()
    with transaction(engine) as s:
        items = s.exec(select(Item).where(Item.status.in_(("new", "attached", "release"))).order_by(Item.id).limit(limit)).all()
        stories: dict[int, matching.StoryRef] = {}
        loaded = False  # open cases' titles and texts are read only if an item needs comparing (not on idle passes)
        identities: dict[int, Any] | None = None  # what identifies each open case's event (issue 14), read on demand
        for item in items:
            if item.status == "release":
                _match_release_item(s, settings, policies, item, now, res, classify)
                continue
            decision = classify(item.title, item.text, declared_level=item.declared_level,
                                declared_category=item.declared_category)
            target = None
            if item.case_id is not None:
                target = s.get(Case, item.case_id)
            elif (item.extra or {}).get("same_story_as"):
                other = s.get(Item, int(item.extra["same_story_as"]))
                if other is not None and other.case_id is not None:
                    target = s.get(Case, other.case_id)
                    item.attach_reason = item.attach_reason or f"与条目#{other.id}为同一事件"
            if target is None:
                if not loaded:
                    _load_open_stories(s, stories)
                    loaded = True
                target = _similar_case(s, item, stories)
            joined = False
            if target is not None and item.attach_reason and "高度相似" in item.attach_reason:
                if identities is None:
                    identities = joining.case_identities(s, event_identity.gazetteer_for(settings),
                                                         answered_since=now - event_identity.JOIN_WINDOW)
                veto = joining.story_conflict(item, decision, target.id, identities, event_identity.gazetteer_for(settings))
                if veto:  # similar words, different event: never merge on wording alone (issue 14)
                    item.extra = {**(item.extra or {}), "story_vetoed": f"与案件#{target.id}文字相似但{veto}"}
                    item.attach_reason, target = None, None
            if target is None:
                if identities is None:
                    identities = joining.case_identities(s, event_identity.gazetteer_for(settings),
                                                         answered_since=now - event_identity.JOIN_WINDOW)
                target = joining.join_by_identity(s, item, decision, identities, event_identity.gazetteer_for(settings),
                                                  joining.kind_names(settings), now)
                joined = target is not None
            if target is not None and (target.state == "open" or joined):
                item.case_id = target.id
                item.status = "classified"
                s.add(item)
                res.attached.append(item.id)
                audit.record(s, at=now, kind="item.joined" if joined else "item.attached", subject=f"case:{target.id}",
                             data={"item_id": item.id, "reason": item.attach_reason,
                                   **({"reasons": item.extra["join"]["reasons"]} if joined else {})})
                if target.state == "open" and LEVEL_RANK[decision.level] > LEVEL_RANK[target.level] and decision.clock == "5h":
                    _upgrade(s, settings, policies, target, decision, item, now)
                    res.upgraded.append(target.id)
                continue
            start, basis, note = _item_start(policies, item, now)
            case = create_case(s, settings, policies, title=item.title or item.text[:60], decision=decision, start=start,
                               basis=basis, now=now, source_role=item.role, note=note)
            item.case_id = case.id
            item.status = "classified"
            s.add(item)
            res.cases_opened.append(case.id)
            if loaded:
                stories[case.id] = matching.StoryRef(case.id, start, [case.title], [matching.text_shingles(item.text or "")])
            if identities is not None:
                identities[case.id] = event_identity.identity(joining.item_text(item), (case.facts or {}).get("kind"),
                                                              case.facts, start, event_identity.gazetteer_for(settings))
    return res


def _load_open_stories(s: Session, into: dict[int, matching.StoryRef]) -> None:
    """Titles and texts of open cases and of their items: what a near-duplicate story is compared with."""
    for case in s.exec(select(Case).where(Case.state == "open")).all():
        into[case.id] = matching.StoryRef(case.id, case.first_report_at or case.opened_at, [case.title], [])
    if into:
        rows = s.exec(select(Item.case_id, Item.title, Item.text).where(Item.case_id.in_(list(into)))).all()
        for case_id, title, text in rows:
            ref = into[case_id]
            if title and title not in ref.titles:
                ref.titles.append(title)
            shingles = matching.text_shingles(text or "")
            if shingles:
                ref.texts.append(shingles)


def _similar_case(s: Session, item: Item, stories: dict[int, matching.StoryRef]) -> Case | None:
    """A new item that reads as an open case's story is attached to it, with the reason.

    Exact duplicates are caught at ingest; this catches reposts that change a word,
    add a prefix or rewrite the headline over the same text. The thresholds are
    high because merging two different incidents would hide one.
    """
    at = item.published_at or item.first_seen_at
    hit = matching.same_story(item.title, item.text or "", at, list(stories.values()))
    if hit is None:
        return None
    what = "标题" if hit.by == "title" else "正文"
    item.attach_reason = f"与案件#{hit.case_id}{what}高度相似（相似度{hit.similarity}），视为同一事件"
    return s.get(Case, hit.case_id)


def _upgrade(s: Session, settings: Any, policies: Policies, case: Case, decision: Any, item: Item | None,
             now: dt.datetime, *, actor: str = "system", reason: str | None = None) -> None:
    """Later information makes the case major: 5 h and 24 h clocks start (by policy) when it arrived."""
    old = {"level": case.level, "clock": case.clock_class}
    original_start = case.first_report_at or case.opened_at
    was_5h = case.clock_class == "5h"
    _apply_decision(case, decision)
    if reason:
        case.reasons = [*case.reasons, reason]
    _bump(s, case, now)
    if not was_5h:
        if item is not None:
            info_at, _basis, _note = _item_start(policies, item, now)
        else:
            info_at = now
        start = original_start if policies.start.upgrade_start == "original" else info_at
        for c in _open_clocks(s, case.id):
            if c.policy.get("clock_class") == "wd":
                continue  # a working-day answer clock (issue 19) is owed whatever the level
            _stop_clock(s, c, "cancelled", now, reason="升级为特别重大/重大，由5小时时限取代")
        channels = channels_for(settings)
        for p in policies.for_class("5h"):
            _start_clock(s, settings, case, policies.snapshot(p, channels), start=start,
                         basis="upgrade" if start == info_at else "original", now=now, original_start=original_start)
    audit.record(s, at=now, kind="case.upgraded", subject=f"case:{case.id}", actor=actor,
                 data={"from": old, "to": {"level": case.level, "clock": case.clock_class},
                       "item_id": item.id if item else None, "reason": reason, "reasons": case.reasons})
    if case.needs_review:
        _ask_review(s, settings, policies, case, now)


# ------------------------------------------------------------------ releases


def _satisfy(s: Session, settings: Any, policies: Policies, case: Case, release: Release, now: dt.datetime) -> list[int]:
    """Stop every open clock of the case that this kind of release satisfies."""
    stopped = []
    for c in _open_clocks(s, case.id):
        if release.kind in c.policy.get("satisfied_by", []):
            state = "met" if release.published_at <= c.deadline_at else "met_late"
            _stop_clock(s, c, state, now, met_at=release.published_at, release_id=release.id)
            stopped.append(c.id)
    if case.clock_class == "5h" and case.state == "open" and release.kind in policies.file.continued_release.satisfied_by:
        _start_clock(s, settings, case, policies.continued_snapshot(channels_for(settings)),
                     start=release.published_at, basis="release", now=now)
    elif case.clock_class == "48h" and not _open_clocks(s, case.id):
        case.state, case.closed_at, case.close_kind = "closed", now, "met"
        case.close_reason = f"已{release.kind}（{release.url or release.title}）"
        s.add(case)
        audit.record(s, at=now, kind="case.closed", subject=f"case:{case.id}", data={"kind": "met", "release_id": release.id})
    return stopped


def record_release(engine: Engine, settings: Any, case_id: int, *, kind: str, url: str | None, now: dt.datetime,
                   at: dt.datetime | None = None, title: str = "", actor: str = "operator") -> Release:
    """An operator records a release or response (``responder release``)."""
    if kind not in RELEASE_KINDS:
        raise EngineError(f"未知的发布类型 {kind!r}；可选：{'、'.join(RELEASE_KINDS)}")
    published = at or now
    if published > now + dt.timedelta(minutes=10):
        raise EngineError("发布时间晚于当前时间：请检查 --at")
    policies = policies_for(settings)
    with transaction(engine) as s:
        case = _open_case(s, case_id)
        rel = Release(case_id=case.id, kind=kind, url=url, title=title, published_at=published, recorded_at=now,
                      recorded_by=actor, status="confirmed")
        s.add(rel)
        s.flush()
        _bump(s, case, now)
        stopped = _satisfy(s, settings, policies, case, rel, now)
        audit.record(s, at=now, kind="release.recorded", subject=f"case:{case.id}", actor=actor,
                     data={"release_id": rel.id, "kind": kind, "url": url, "published_at": iso_utc(published),
                           "clocks_stopped": stopped})
        return rel


def _case_text(s: Session, case: Case) -> str:
    texts = [case.title]
    for it in s.exec(select(Item).where(Item.case_id == case.id).order_by(Item.id).limit(5)).all():
        texts.append(it.title)
        texts.append((it.text or "")[:500])
    return "\n".join(texts)


def _match_release_item(s: Session, settings: Any, policies: Policies, item: Item, now: dt.datetime, res: OpenResult,
                        classify: Classify | None = None) -> None:
    text = f"{item.title}\n{item.text}"
    at = item.published_at or item.first_seen_at
    decision = joining.release_decision(s, settings, item, classify or default_classifier(settings))
    kind = matching.release_kind(text)
    item.status = "release_matched" if decision.action != "none" else "release_unmatched"
    if decision.action == "none" or decision.best is None:
        s.add(item)
        audit.record(s, at=now, kind="release.unmatched", subject=f"item:{item.id}", data={"title": item.title})
        return
    case = s.get(Case, decision.best.case_id)
    status = "confirmed" if decision.action == "attach" else "proposed"
    rel = Release(case_id=case.id, kind=kind, url=item.link, title=item.title, published_at=at, recorded_at=now,
                  recorded_by="matcher", item_id=item.id, status=status, match_score=decision.best.score,
                  match_reasons=list(decision.best.reasons))
    s.add(rel)
    s.flush()
    item.case_id = case.id
    item.attach_reason = ("自动匹配：" if status == "confirmed" else "待确认匹配：") + "；".join(decision.best.reasons)
    s.add(item)
    audit.record(s, at=now, kind=f"release.{'matched' if status == 'confirmed' else 'proposed'}", subject=f"case:{case.id}",
                 data={"release_id": rel.id, "item_id": item.id, "score": decision.best.score, "reasons": list(decision.best.reasons)})
    if status == "confirmed":
        _bump(s, case, now)
        _satisfy(s, settings, policies, case, rel, now)
        res.releases_attached.append(rel.id)
    else:
        res.releases_proposed.append(rel.id)
        ctx = case_context(settings, case, None) | {"release_title": item.title, "release_url": item.link or "",
                                                     "score": decision.best.score}
        for role in policies.file.review.roles:
            c = settings.office.contact(role)
            if c is not None:
                enqueue(s, now=now, key=f"release:{rel.id}|propose", kind="release_proposed", contact=c, context=ctx,
                        channels=channels_for(settings), urgent=case.clock_class == "5h", case_id=case.id,
                        generation=case.generation)


def decide_proposal(engine: Engine, settings: Any, release_id: int, *, accept: bool, now: dt.datetime,
                    actor: str = "operator", reason: str = "") -> Release:
    """A person confirms or rejects a proposed match; only a confirmation stops clocks."""
    policies = policies_for(settings)
    with transaction(engine) as s:
        rel = s.get(Release, release_id)
        if rel is None or rel.status != "proposed":
            raise EngineError(f"发布 {release_id} 不是待确认的匹配")
        case = s.get(Case, rel.case_id)
        rel.status = "confirmed" if accept else "rejected"
        rel.recorded_by = actor
        s.add(rel)
        audit.record(s, at=now, kind=f"release.{'confirmed' if accept else 'rejected'}", subject=f"case:{rel.case_id}",
                     actor=actor, data={"release_id": rel.id, "reason": reason})
        if accept and case is not None and case.state == "open":
            _bump(s, case, now)
            _satisfy(s, settings, policies, case, rel, now)
        elif not accept:
            item = s.get(Item, rel.item_id) if rel.item_id else None
            if item is not None:
                item.case_id, item.attach_reason = None, f"匹配被否决：{reason}"
                s.add(item)
        return rel


# ------------------------------------------------------------------ operator actions


def _open_case(s: Session, case_id: int) -> Case:
    case = s.get(Case, case_id)
    if case is None:
        raise EngineError(f"案件 {case_id} 不存在")
    if case.state != "open":
        raise EngineError(f"案件 {case_id} 已关闭（{case.close_kind}）")
    return case


def reclassify(engine: Engine, settings: Any, case_id: int, level: str | None, *, reason: str, now: dt.datetime,
               actor: str = "operator") -> Case:
    """An operator confirms, upgrades or downgrades a case; clocks are recomputed and the change recorded."""
    if not reason.strip():
        raise EngineError("必须说明理由（--reason）")
    if level is not None and level not in LEVEL_NAMES:
        raise EngineError(f"级别应为 I、II、III、IV 或 none，而不是 {level!r}")
    policies = policies_for(settings)
    new_class = "5h" if level in ("I", "II") else "48h"
    with transaction(engine) as s:
        case = _open_case(s, case_id)
        old = {"level": case.level, "clock": case.clock_class, "needs_review": case.needs_review}
        line = f"人工{'确认' if level == case.level else '调整'}为{LEVEL_NAMES.get(level, '非突发事件')}（{actor}：{reason}）"
        from responder.classify import Decision  # a person's decision has the classifier's shape

        d = Decision(level, LEVEL_NAMES.get(level) if level else None, case.category, case.domain, case.department,
                     tuple(case.co_departments), new_class, False, (*case.reasons, line), dict(case.facts))
        if new_class == "5h" and case.clock_class == "48h":
            _upgrade(s, settings, policies, case, d, None, now, actor=actor)
        else:
            was = case.clock_class
            _apply_decision(case, d)
            _bump(s, case, now)
            if was == "5h" and new_class == "48h":
                for c in _open_clocks(s, case.id):
                    if c.policy.get("clock_class") == "wd":
                        continue  # a working-day answer clock (issue 19) is owed whatever the level
                    _stop_clock(s, c, "cancelled", now, reason=f"人工降级：{reason}")
                start = case.first_report_at or case.opened_at
                channels = channels_for(settings)
                for p in policies.for_class("48h"):
                    _start_clock(s, settings, case, policies.snapshot(p, channels), start=start, basis="reclassified", now=now)
        audit.record(s, at=now, kind="case.reclassified", subject=f"case:{case.id}", actor=actor,
                     data={"from": old, "to": {"level": level, "clock": new_class}, "reason": reason})
        return case


def close_case(engine: Engine, case_id: int, *, kind: str, reason: str, now: dt.datetime, actor: str = "operator",
               duplicate_of: int | None = None) -> Case:
    if kind not in CLOSE_KINDS:
        raise EngineError(f"关闭类型应为 {', '.join(CLOSE_KINDS)}")
    if not reason.strip():
        raise EngineError("必须说明理由（--reason）")
    with transaction(engine) as s:
        case = _open_case(s, case_id)
        if kind == "duplicate":
            other = s.get(Case, duplicate_of) if duplicate_of else None
            if other is None or other.id == case.id:
                raise EngineError("重复关闭需要 --duplicate-of 指向另一个案件")
            for it in s.exec(select(Item).where(Item.case_id == case.id)).all():
                it.case_id, it.attach_reason = other.id, f"案件#{case.id}作为重复并入"
                s.add(it)
        _bump(s, case, now)
        for c in _open_clocks(s, case.id):
            _stop_clock(s, c, "cancelled", now, reason=f"案件关闭（{CLOSE_KINDS[kind]}）：{reason}")
        case.state, case.closed_at, case.close_kind, case.close_reason, case.duplicate_of = "closed", now, kind, reason, duplicate_of
        s.add(case)
        audit.record(s, at=now, kind="case.closed", subject=f"case:{case.id}", actor=actor,
                     data={"kind": kind, "reason": reason, "duplicate_of": duplicate_of})
        return case


def ack_case(engine: Engine, case_id: int, *, now: dt.datetime, actor: str = "operator", note: str = "") -> Case:
    """Acknowledged: pauses nothing, but is recorded and shown."""
    with transaction(engine) as s:
        case = s.get(Case, case_id)
        if case is None:
            raise EngineError(f"案件 {case_id} 不存在")
        case.acked_at, case.acked_by = now, actor
        s.add(case)
        audit.record(s, at=now, kind="case.acked", subject=f"case:{case.id}", actor=actor, data={"note": note})
        return case


# ------------------------------------------------------------------ self-check


LAG_GRACE = dt.timedelta(minutes=10)


def self_check(engine: Engine, now: dt.datetime) -> list[str]:
    """Every open clock must have a next action in the future, or be stopped; report those that do not."""
    problems: list[str] = []
    with transaction(engine) as s:
        stuck = s.exec(select(Clock).where(Clock.state == "running", Clock.next_action_at.is_(None)).limit(50)).all()
        for c in stuck:
            problems.append(f"时钟#{c.id}（案件#{c.case_id}，{c.obligation}）仍在计时却没有下一步动作")
        late = s.exec(select(Clock).where(Clock.next_action_at.is_not(None), Clock.next_action_at < now - LAG_GRACE).limit(50)).all()
        for c in late:
            problems.append(f"时钟#{c.id}（案件#{c.case_id}，{c.obligation}）的动作应于 {iso_utc(c.next_action_at)} 执行，至今未执行")
        audit.set_meta(s, "self_check", iso_utc(now) + "|" + ("ok" if not problems else "；".join(problems)[:2000]), now)
    return problems


def read_meta(engine: Engine, key: str) -> Meta | None:
    with Session(engine) as s:
        return s.get(Meta, key)
