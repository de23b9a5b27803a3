"""Case changes, each in one transaction with its clocks, messages and audit events.

Opening a case (``create_case``), a later report that makes it major
(``upgrade_case``), and what an operator does: reclassify, close, acknowledge,
and take a joined item back out (``unjoin_item``). Each change bumps the case's
generation (``clocks.bump_generation``), so messages queued for the old state
are cancelled in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from responder import audit
from responder.db import transaction
from responder.engine.clocks import bump_generation, open_clocks, start_clock, stop_clock
from responder.engine.inputs import channels_for, default_classifier, policies_for, reported_on
from responder.engine.policy import Policies
from responder.engine.rules import CLOSE_KINDS, LEVEL_NAMES, EngineError, case_context, item_start
from responder.models import Case, Item
from responder.notify import enqueue
from responder.timeutil import iso_utc


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
        start_clock(s, settings, case, policies.snapshot(p, channels), start=start, basis=basis, now=now, note=note)
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


def upgrade_case(s: Session, settings: Any, policies: Policies, case: Case, decision: Any, item: Item | None,
                 now: dt.datetime, *, actor: str = "system", reason: str | None = None) -> None:
    """Later information makes the case major: 5 h and 24 h clocks start (by policy) when it arrived."""
    old = {"level": case.level, "clock": case.clock_class}
    original_start = case.first_report_at or case.opened_at
    was_5h = case.clock_class == "5h"
    _apply_decision(case, decision)
    if reason:
        case.reasons = [*case.reasons, reason]
    bump_generation(s, case, now)
    if not was_5h:
        if item is not None:
            info_at, _basis, _note = item_start(policies, item, now)
        else:
            info_at = now
        start = original_start if policies.start.upgrade_start == "original" else info_at
        for c in open_clocks(s, case.id):
            if c.policy.get("clock_class") == "wd":
                continue  # a working-day answer clock (issue 19) is owed whatever the level
            stop_clock(s, c, "cancelled", now, reason="升级为特别重大/重大，由5小时时限取代")
        channels = channels_for(settings)
        for p in policies.for_class("5h"):
            start_clock(s, settings, case, policies.snapshot(p, channels), start=start,
                        basis="upgrade" if start == info_at else "original", now=now, original_start=original_start)
    audit.record(s, at=now, kind="case.upgraded", subject=f"case:{case.id}", actor=actor,
                 data={"from": old, "to": {"level": case.level, "clock": case.clock_class},
                       "item_id": item.id if item else None, "reason": reason, "reasons": case.reasons})
    if case.needs_review:
        _ask_review(s, settings, policies, case, now)


def get_open_case(s: Session, case_id: int) -> Case:
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
        case = get_open_case(s, case_id)
        old = {"level": case.level, "clock": case.clock_class, "needs_review": case.needs_review}
        line = f"人工{'确认' if level == case.level else '调整'}为{LEVEL_NAMES.get(level, '非突发事件')}（{actor}：{reason}）"
        # A person's decision has the classifier's shape (imported late: see inputs.cached_classifier).
        from responder.classify import Decision

        d = Decision(level, LEVEL_NAMES.get(level) if level else None, case.category, case.domain, case.department,
                     tuple(case.co_departments), new_class, False, (*case.reasons, line), dict(case.facts))
        if new_class == "5h" and case.clock_class == "48h":
            upgrade_case(s, settings, policies, case, d, None, now, actor=actor)
        else:
            was = case.clock_class
            _apply_decision(case, d)
            bump_generation(s, case, now)
            if was == "5h" and new_class == "48h":
                for c in open_clocks(s, case.id):
                    if c.policy.get("clock_class") == "wd":
                        continue  # a working-day answer clock (issue 19) is owed whatever the level
                    stop_clock(s, c, "cancelled", now, reason=f"人工降级：{reason}")
                start = case.first_report_at or case.opened_at
                channels = channels_for(settings)
                for p in policies.for_class("48h"):
                    start_clock(s, settings, case, policies.snapshot(p, channels), start=start, basis="reclassified", now=now)
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
        case = get_open_case(s, case_id)
        if kind == "duplicate":
            other = s.get(Case, duplicate_of) if duplicate_of else None
            if other is None or other.id == case.id:
                raise EngineError("重复关闭需要 --duplicate-of 指向另一个案件")
            for it in s.exec(select(Item).where(Item.case_id == case.id)).all():
                it.case_id, it.attach_reason = other.id, f"案件#{case.id}作为重复并入"
                s.add(it)
        bump_generation(s, case, now)
        for c in open_clocks(s, case.id):
            stop_clock(s, c, "cancelled", now, reason=f"案件关闭（{CLOSE_KINDS[kind]}）：{reason}")
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


def unjoin_item(engine: Engine, settings: Any, item_id: int, *, reason: str, now: dt.datetime,
                actor: str = "operator") -> Case:
    """Take an item out of the case it was joined to and give it its own case and clocks.

    The clocks start when the item arrived (its published time, else when it was
    first seen), as if it had never been joined: deadlines already past are
    overdue at once and the steps due by ``now`` are taken by the next engine pass.
    """
    if not reason.strip():
        raise EngineError("必须说明理由（--reason）")
    policies = policies_for(settings)
    classify = default_classifier(settings)
    with transaction(engine) as s:
        item = s.get(Item, item_id)
        if item is None:
            raise EngineError(f"条目 {item_id} 不存在")
        if item.role == "release":
            raise EngineError(f"条目 {item_id} 是发布，不是舆情报道：请用 reject-release 否决匹配")
        if item.case_id is None:
            raise EngineError(f"条目 {item_id} 未归入任何案件")
        old = s.get(Case, item.case_id)
        first = s.exec(select(Item.id).where(Item.case_id == item.case_id, Item.role != "release")
                       .order_by(Item.id).limit(1)).first()
        if first == item.id:
            raise EngineError(f"条目 {item_id} 是案件#{item.case_id}的首条报道，不是归并进来的；如案件有误请用 close 或 reclassify")
        decision = classify(item.title, item.text or "", declared_level=item.declared_level,
                            declared_category=item.declared_category, reported=reported_on(item))
        start, basis, note = item_start(policies, item, now)
        case = create_case(s, settings, policies, title=item.title or (item.text or "")[:60], decision=decision,
                           start=start, basis=basis, now=now, source_role=item.role, note=note, actor=actor)
        was = item.attach_reason
        item.case_id = case.id
        item.attach_reason = None
        item.extra = {**(item.extra or {}), "unjoined": {"from_case": old.id if old else None, "at": iso_utc(now),
                                                         "by": actor, "reason": reason, "was": was}}
        s.add(item)
        data = {"item_id": item.id, "from_case": old.id if old else None, "to_case": case.id, "reason": reason,
                "was": was, "clocks_start": iso_utc(start)}
        if old is not None:
            audit.record(s, at=now, kind="item.unjoined", subject=f"case:{old.id}", actor=actor, data=data)
        audit.record(s, at=now, kind="item.unjoined", subject=f"case:{case.id}", actor=actor, data=data)
        return case
