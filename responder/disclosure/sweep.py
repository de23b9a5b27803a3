"""The disclosure pass the pipeline runs each tick: new requests and inquiries, calendar changes, reminders.

Cheap when idle (a primary-key range over new items and two ``meta`` rows),
and it takes ``now``: the daemon, the demo and ``replay`` drive it alike. A
deadline that needs a year no calendar covers is computed strictly
(Monday–Friday, no holidays), marked ``calendar = "unknown"``, and the office
is reminded once a day until the year is added; the next pass after the file
appears (or a reload) recomputes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from responder import audit
from responder.db import transaction
from responder.disclosure.clocks import (
    beijing_date, calendar_for, channels_for, inquiry_policy, ladder_for, request_count, request_policy, reschedule,
    settings_calendar_dir, snapshot, start_of_day_utc, workdays_block,
)
from responder.disclosure.policy import DEFAULT_INQUIRY_LADDER, InquiryPolicy
from responder.disclosure.requests import register, sync_due
from responder.disclosure.vocabulary import INQUIRY_OBLIGATION, LIVE, REQUEST_OBLIGATION, WORKDAY_OBLIGATIONS, RequestError
from responder.engine import ladder as ladder_mod
from responder.engine.rules import unit_for_department
from responder.models import Case, Clock, DisclosureRequest, Item, Meta
from responder.notify import enqueue
from responder.timeutil import iso_utc
from responder.workdays import BEIJING, fingerprint

log = structlog.get_logger("responder.disclosure")

@dataclass
class SweepResult:
    requests_registered: list[int] = field(default_factory=list)
    inquiry_clocks: list[int] = field(default_factory=list)
    rescheduled: list[int] = field(default_factory=list)
    reminded: bool = False


INQUIRY_WATERMARK = "workdays_inquiry_item"
CALENDAR_FP = "workdays_calendar"
UNKNOWN_REMINDED = "workdays_unknown_reminded"
REMIND_FROM_HOUR = 8
"""The daily reminder goes at the first pass after 08:00 Beijing (office hours), once per Beijing day."""


def _meta(s: Session, key: str) -> Meta | None:
    return s.get(Meta, key)


def sweep(engine: Engine, settings: Any, now: dt.datetime) -> SweepResult:
    """One pass: register requests from ``request`` feeds, start inquiry clocks, follow calendar changes.

    Cheap when idle: a primary-key range over new items and two ``meta`` rows.
    """
    res = SweepResult()
    with transaction(engine) as s:
        _intake(s, settings, now, res)
        _calendar_changes(s, settings, now, res)
        _remind_unknown(s, settings, now, res)
    return res


def _item_received(item: Item, now: dt.datetime) -> dt.datetime:
    at = item.first_seen_at
    if item.published_at is not None and item.published_at <= now + dt.timedelta(minutes=10):
        at = min(at, item.published_at)
    return at


def _intake(s: Session, settings: Any, now: dt.datetime, res: SweepResult) -> None:
    m = _meta(s, INQUIRY_WATERMARK)
    wm = int(m.value) if m is not None and m.value else 0
    rows = s.exec(select(Item).where(Item.id > wm, Item.role.in_(("request", "inquiry"))).order_by(Item.id)).all()
    if not rows:
        return
    first_pending: int | None = None
    ipol = inquiry_policy(settings)
    for item in rows:
        if item.role == "request":
            if item.status != "request":
                continue
            try:
                with s.begin_nested():
                    req = register(s, settings, received=beijing_date(_item_received(item, now)), channel="网上", now=now,
                               applicant=str((item.extra or {}).get("applicant", ""))[:200], contact="",
                               description=f"{item.title}\n{item.text}".strip(), actor="system", item_id=item.id)
                    item.status = "registered"
                    s.add(item)
                    res.requests_registered.append(req.id)
            except RequestError as exc:
                log.warning("request.item_refused", item_id=item.id, reason=str(exc))
                item.status, item.attach_reason = "rejected", f"依申请公开登记失败：{exc}"
                s.add(item)
            continue
        if item.case_id is None:
            if item.status in ("new", "attached") and first_pending is None:
                first_pending = item.id
            continue
        if ipol.enabled:
            cid = _ensure_inquiry_clock(s, settings, ipol, item, now)
            if cid:
                res.inquiry_clocks.append(cid)
    last = rows[-1].id
    new_wm = (first_pending - 1) if first_pending is not None else last
    if new_wm > wm:
        audit.set_meta(s, INQUIRY_WATERMARK, str(new_wm), now)


def _ensure_inquiry_clock(s: Session, settings: Any, pol: InquiryPolicy, item: Item, now: dt.datetime) -> int | None:
    """One inquiry-answer clock per case that carries an inquiry, from the first inquiry's receipt day."""
    case = s.get(Case, item.case_id)
    if case is None or case.state != "open":
        return None
    existing = s.exec(select(Clock.id).where(Clock.case_id == case.id, Clock.obligation == INQUIRY_OBLIGATION)).first()
    if existing is not None:
        return None
    received = beijing_date(_item_received(item, now))
    count = calendar_for(settings).add_workdays(received, pol.answer_days)
    snap = snapshot(name="inquiry_answer", obligation=INQUIRY_OBLIGATION, label=pol.label, basis=pol.basis,
                     urgent=pol.urgent, channels=channels_for(settings), ladder=ladder_for(settings, pol.ladder, DEFAULT_INQUIRY_LADDER),
                     satisfied_by=pol.satisfied_by, workdays=workdays_block(count, pol.answer_days, []))
    unit = unit_for_department(settings, case.department)
    started, deadline = start_of_day_utc(received), count.deadline_utc()
    clock = Clock(case_id=case.id, subject=f"case:{case.id}", unit_id=unit.id, obligation=INQUIRY_OBLIGATION,
                  state="overdue" if deadline <= now else "running", start_basis="inquiry_received", started_at=started,
                  deadline_at=deadline, generation=case.generation, policy=snap, next_step=0,
                  next_action_at=ladder_mod.first_action_at(snap, started, deadline))
    s.add(clock)
    s.flush()
    audit.record(s, at=now, kind="clock.started", subject=f"case:{case.id}",
                 data={"clock_id": clock.id, "obligation": INQUIRY_OBLIGATION, "start_basis": "inquiry_received",
                       "started_at": iso_utc(started), "deadline_at": iso_utc(deadline), "calendar": count.calendar,
                       "item_id": item.id, "notes": []})
    return clock.id


def live_workday_clocks(s: Session) -> list[Clock]:
    return list(s.exec(select(Clock).where(Clock.state.in_(LIVE), Clock.obligation.in_(WORKDAY_OBLIGATIONS))).all())


def _calendar_changes(s: Session, settings: Any, now: dt.datetime, res: SweepResult) -> None:
    """A calendar file added, edited or removed (or a new package): recompute every running working-day deadline."""
    d = settings_calendar_dir(settings)
    fp = fingerprint(d)
    m = _meta(s, CALENDAR_FP)
    if m is not None and m.value == fp:
        return
    first = m is None
    audit.set_meta(s, CALENDAR_FP, fp, now)
    if first and not s.exec(select(Clock.id).where(Clock.obligation.in_(WORKDAY_OBLIGATIONS))).first():
        return
    cal = calendar_for(settings)
    for clock in live_workday_clocks(s):
        wd = clock.policy.get("workdays") or {}
        if not wd.get("from"):
            continue
        pauses = [(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in wd.get("pauses", [])]
        count = cal.add_workdays(dt.date.fromisoformat(wd["from"]), int(wd["days"]), pauses=pauses)
        if count.due_date.isoformat() == wd.get("due_date") and count.calendar == wd.get("calendar"):
            continue
        was = wd.get("calendar")
        why = ("已录入" + "、".join(str(y) for y in wd.get("unknown_years", [])) + "年放假安排，按正式日历重新计算"
               if was == "unknown" and count.calendar != "unknown" else "工作日日历文件变化，重新计算")
        reschedule(s, clock, started=clock.started_at, count=count, days=int(wd["days"]), pauses=pauses, now=now,
                    reason=why, actor="system")
        if clock.obligation == REQUEST_OBLIGATION and clock.subject.startswith("request:"):
            req = s.get(DisclosureRequest, int(clock.subject.split(":")[1]))
            if req is not None:
                sync_due(req, count, now)
                s.add(req)
        res.rescheduled.append(clock.id)
    # Paused requests keep no running clock; their shown due date and calendar follow too (resume recomputes the clock).
    pol = request_policy(settings)
    for req in s.exec(select(DisclosureRequest).where(DisclosureRequest.state.in_(("paused", "awaiting_correction")))).all():
        count = request_count(cal, req, pol)
        if (count.due_date, count.calendar) != (req.due_date, req.calendar):
            sync_due(req, count, now)
            s.add(req)


def _remind_unknown(s: Session, settings: Any, now: dt.datetime, res: SweepResult) -> None:
    """Once a Beijing day, while any deadline rests on a year no calendar covers, tell the office."""
    bj = now.astimezone(BEIJING)
    today = bj.date().isoformat()
    if bj.hour < REMIND_FROM_HOUR:
        return
    m = _meta(s, UNKNOWN_REMINDED)
    if m is not None and m.value == today:
        return
    audit.set_meta(s, UNKNOWN_REMINDED, today, now)
    years: set[int] = set()
    subjects: list[str] = []
    paused_reqs = s.exec(select(DisclosureRequest).where(DisclosureRequest.state.in_(("paused", "awaiting_correction")),
                                                         DisclosureRequest.calendar == "unknown")).all()
    for r in paused_reqs:
        subjects.append(f"request:{r.id}")
    for clock in live_workday_clocks(s):
        wd = clock.policy.get("workdays") or {}
        if wd.get("calendar") == "unknown":
            years.update(int(y) for y in wd.get("unknown_years", []))
            subjects.append(clock.subject)
    if not subjects:
        return
    ctx = {"years": sorted(years), "obligations": len(subjects), "subjects": subjects[:20],
           "calendar_dir": str(settings_calendar_dir(settings)), "county": settings.file.service.county}
    for role in ("liaison", "deputy"):
        c = settings.office.contact(role)
        if c is not None:
            enqueue(s, now=now, key=f"calendar_unknown:{today}", kind="calendar_unknown", contact=c, context=ctx,
                    channels=channels_for(settings), urgent=False)
    audit.record(s, at=now, kind="calendar.unknown_reminded", subject="calendar", data=ctx)
    res.reminded = True
