"""Disclosure requests and inquiry answers on the engine's clocks, counted in working days.

Why this shape: an obligation counted in working days is still one ``Clock``
with a deadline in UTC and the same ladder data, so ``engine.advance``, claims,
the outbox and the reports need no change (docs/engine.md). What differs is
computed here, from dates, with the calendar of ``responder.workdays``:

* the deadline is the end (24:00 Beijing) of the N-th working day after the
  count's start (条例 第33条; 民法典 第201、203条), stored in ``deadline_at``;
* every change that moves it — a pause or its end, an extension, a corrected
  application, a calendar year added — bumps the clock's generation, cancels the
  queued messages of the old schedule and recomputes ``deadline_at`` and
  ``next_action_at`` in the same transaction, with an audit event saying why;
* a deadline that needs a year no calendar covers is computed strictly
  (Monday–Friday, no holidays), marked ``calendar = "unknown"``, and the office
  is reminded once a day until the year is added; the next pass after the file
  appears (or a reload) recomputes it.

Everything takes ``now``; only the command line reads the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from responder import audit
from responder.db import transaction
from responder.disclosure.policy import DEFAULT_INQUIRY_LADDER, DEFAULT_REQUEST_LADDER, InquiryPolicy, RequestsPolicy
from responder.engine import ladder as ladder_mod
from responder.models import Case, Clock, DisclosureRequest, Item, Meta, OutboxMessage
from responder.notify import enqueue
from responder.timeutil import iso_utc
from responder.workdays import BEIJING, Calendar, Count, end_of_day_utc, fingerprint

log = structlog.get_logger("responder.disclosure")

REQUEST_OBLIGATION = "request_answer"
INQUIRY_OBLIGATION = "inquiry_answer"
WORKDAY_OBLIGATIONS = (REQUEST_OBLIGATION, INQUIRY_OBLIGATION)
CHANNELS = ("当面", "邮寄", "网上", "传真")
"""第31条: in person, post, internet, the office's fax."""
RECEIPT_RULE = {
    "当面": "当面提交：以提交之日为收到申请之日（第31条第1项）",
    "邮寄": "邮寄：以行政机关签收之日为收到申请之日；平常信函以与申请人确认之日为收到申请之日（第31条第2项）",
    "网上": "互联网渠道：以双方确认之日为收到申请之日（第31条第3项）",
    "传真": "政府信息公开工作机构的传真：以双方确认之日为收到申请之日（第31条第3项）",
}
ANSWER_TYPES: dict[str, str] = {
    # 条例 第36条, in its order
    "already_public": "所申请公开信息已经主动公开的，告知获取该政府信息的方式、途径（第36条第1项）",
    "disclosed": "所申请公开信息可以公开的，向申请人提供该政府信息，或者告知获取方式、途径和时间（第36条第2项）",
    "refused": "决定不予公开的，告知不予公开并说明理由（第36条第3项）",
    "not_exist": "经检索没有所申请公开信息的，告知该政府信息不存在（第36条第4项）",
    "not_ours": "所申请公开信息不属于本机关负责公开的，告知申请人并说明理由；能够确定负责机关的，告知其名称、联系方式（第36条第5项）",
    "repeat": "已就申请人提出的相同申请作出答复、申请人重复申请的，告知不予重复处理（第36条第6项）",
    "special": "所申请公开信息属于工商、不动产登记资料等，法律、行政法规对获取有特别规定的，告知按照有关规定办理（第36条第7项）",
}
ANSWER_LABELS = {"already_public": "已主动公开", "disclosed": "予以公开", "refused": "不予公开", "not_exist": "信息不存在",
                 "not_ours": "非本机关负责公开", "repeat": "不予重复处理", "special": "按特别规定办理"}
PARTIES = ("第三方", "其他机关")
LIVE = ("running", "overdue")


class RequestError(ValueError):
    """An operator request refused, with the reason in Chinese."""


# ---------------------------------------------------------------- settings


def _policies_raw(settings: Any) -> Any:
    from responder.engine.inputs import policies_for

    return policies_for(settings)


def request_policy(settings: Any) -> RequestsPolicy:
    return _policies_raw(settings).file.requests or RequestsPolicy()


def inquiry_policy(settings: Any) -> InquiryPolicy:
    return _policies_raw(settings).file.inquiry or InquiryPolicy()


def calendar_dir(policies_path: str | Path, pol: RequestsPolicy | None = None) -> Path:
    p = Path((pol or RequestsPolicy()).calendar_dir)
    return p if p.is_absolute() else Path(policies_path).parent / p


def settings_calendar_dir(settings: Any) -> Path:
    return calendar_dir(settings.data_paths["policies"], request_policy(settings))


@lru_cache(maxsize=4)
def _calendar_cached(directory: str, fp: str) -> Calendar:
    return Calendar.from_dir(directory)


def calendar_for(settings: Any) -> Calendar:
    """The calendar as the files are now: a file added or edited is seen at the next call."""
    d = settings_calendar_dir(settings)
    return _calendar_cached(str(d), fingerprint(d))


def _ladder(settings: Any, name: str, default: dict[str, Any]) -> dict[str, Any]:
    lad = _policies_raw(settings).file.ladder.get(name)
    if lad is None:
        return default
    return {"steps": [s.model_dump(exclude_none=True) | {"at": s.at.model_dump(exclude_none=True)} for s in lad.steps],
            "repeat": lad.repeat.model_dump() if lad.repeat else None}


def _channels(settings: Any) -> list[str]:
    from responder.engine.inputs import channels_for

    return channels_for(settings)


# ---------------------------------------------------------------- pure date helpers


def beijing_date(t: dt.datetime) -> dt.date:
    return t.astimezone(BEIJING).date()


def start_of_day_utc(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time(0), BEIJING).astimezone(dt.timezone.utc)


def _d(s: str | None) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


def closed_pauses(pauses: list[dict[str, Any]]) -> list[tuple[dt.date, dt.date]]:
    return [(dt.date.fromisoformat(p["from"]), dt.date.fromisoformat(p["to"])) for p in pauses if p.get("to")]


def open_pause(pauses: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((p for p in pauses if not p.get("to")), None)


def request_count(cal: Calendar, req: DisclosureRequest, pol: RequestsPolicy) -> Count:
    """The request's deadline from its dates: receipt (or corrected receipt) + 20 + extension, minus pauses."""
    return cal.add_workdays(req.count_from, pol.answer_days + req.extension_days, pauses=closed_pauses(req.pauses))


# ---------------------------------------------------------------- clocks


def _snapshot(*, name: str, obligation: str, label: str, basis: str, urgent: bool, channels: list[str],
              ladder: dict[str, Any], satisfied_by: list[str], workdays: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "obligation": obligation, "label": label, "basis": basis, "deadline_s": None,
            "satisfied_by": list(satisfied_by), "urgent": urgent, "channels": list(channels), "clock_class": "wd",
            "ladder": list(ladder["steps"]), "repeat": ladder.get("repeat"), "workdays": workdays, "notes": [],
            "version": 1}


def _wd_block(count: Count, days: int, pauses: list[tuple[dt.date, dt.date]]) -> dict[str, Any]:
    return {"from": count.start.isoformat(), "days": days, "pauses": [[a.isoformat(), b.isoformat()] for a, b in pauses],
            "due_date": count.due_date.isoformat(), "calendar": count.calendar, "unknown_years": list(count.unknown_years)}


def _next_after_change(policy: dict[str, Any], started: dt.datetime, deadline: dt.datetime, old_next: int,
                       now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """Where the ladder resumes after the deadline moved (pure).

    Steps already taken are not repeated unless the new schedule puts them ahead
    again (a new, later deadline earns a new reminder); the opening step is never
    repeated once taken.
    """
    i = 0
    while True:
        spec = ladder_mod.step_spec(policy, i)
        if spec is None:
            break
        if ladder_mod.step_due(spec, started, deadline) > now:
            break
        i += 1
    nxt = min(old_next, i)
    spec = ladder_mod.step_spec(policy, nxt)
    return nxt, (ladder_mod.step_due(spec, started, deadline) if spec else None)


def _cancel_queued(s: Session, clock: Clock) -> None:
    s.exec(update(OutboxMessage).where(OutboxMessage.clock_id == clock.id, OutboxMessage.generation < clock.generation,
                                       OutboxMessage.status.in_(("pending", "held", "failed")))
           .values(status="cancelled", last_error="期限已重新计算，消息作废")
           .execution_options(synchronize_session=False))


def _reschedule(s: Session, clock: Clock, *, started: dt.datetime, count: Count, days: int,
                pauses: list[tuple[dt.date, dt.date]], now: dt.datetime, reason: str, actor: str) -> None:
    """Move a working-day clock to a new deadline: new generation, old messages cancelled, audit event."""
    old = {"deadline_at": iso_utc(clock.deadline_at), "calendar": (clock.policy.get("workdays") or {}).get("calendar"),
           "state": clock.state}
    deadline = count.deadline_utc()
    policy = dict(clock.policy)
    policy["workdays"] = _wd_block(count, days, pauses)
    nxt, at = _next_after_change(policy, started, deadline, clock.next_step, now)
    clock.policy = policy
    clock.started_at = started
    clock.deadline_at = deadline
    clock.next_step, clock.next_action_at = nxt, at
    clock.state = "overdue" if deadline <= now else "running"
    clock.generation += 1
    s.add(clock)
    s.flush()
    _cancel_queued(s, clock)
    audit.record(s, at=now, kind="clock.rescheduled", subject=clock.subject, actor=actor,
                 data={"clock_id": clock.id, "obligation": clock.obligation, "from": old,
                       "to": {"deadline_at": iso_utc(deadline), "due_date": count.due_date.isoformat(),
                              "calendar": count.calendar, "state": clock.state}, "reason": reason})


def _pause_clock(s: Session, clock: Clock, now: dt.datetime, *, reason: str, actor: str) -> None:
    clock.state, clock.next_action_at = "paused", None
    clock.generation += 1
    s.add(clock)
    s.flush()
    _cancel_queued(s, clock)
    audit.record(s, at=now, kind="clock.paused", subject=clock.subject, actor=actor,
                 data={"clock_id": clock.id, "obligation": clock.obligation, "reason": reason})


def _stop(s: Session, clock: Clock, state: str, now: dt.datetime, *, met_at: dt.datetime | None, reason: str,
          actor: str) -> None:
    clock.state, clock.next_action_at, clock.met_at = state, None, met_at
    clock.generation += 1
    s.add(clock)
    s.flush()
    _cancel_queued(s, clock)
    audit.record(s, at=now, kind=f"clock.{state}", subject=clock.subject, actor=actor,
                 data={"clock_id": clock.id, "obligation": clock.obligation, "met_at": iso_utc(met_at),
                       "deadline_at": iso_utc(clock.deadline_at), "reason": reason})


# ---------------------------------------------------------------- requests


def _get(s: Session, request_id: int) -> DisclosureRequest:
    req = s.get(DisclosureRequest, request_id)
    if req is None:
        raise RequestError(f"申请 {request_id} 不存在")
    return req


def _clock(s: Session, req: DisclosureRequest) -> Clock:
    c = s.get(Clock, req.clock_id) if req.clock_id else None
    if c is None:
        raise RequestError(f"申请 {req.id} 没有期限时钟")
    return c


def _sync(req: DisclosureRequest, count: Count, now: dt.datetime) -> None:
    req.due_date, req.calendar, req.updated_at = count.due_date, count.calendar, now


def add_request(engine: Engine, settings: Any, *, received: dt.date, channel: str, now: dt.datetime,
                applicant: str = "", contact: str = "", description: str = "", actor: str = "operator",
                item_id: int | None = None) -> DisclosureRequest:
    """Register a request and start its clock (第31条 receipt date; 第33条 20 working days)."""
    with transaction(engine) as s:
        return _add(s, settings, received=received, channel=channel, now=now, applicant=applicant, contact=contact,
                    description=description, actor=actor, item_id=item_id)


def _add(s: Session, settings: Any, *, received: dt.date, channel: str, now: dt.datetime, applicant: str, contact: str,
         description: str, actor: str, item_id: int | None) -> DisclosureRequest:
    if channel not in CHANNELS:
        raise RequestError(f"收到渠道应为 {'、'.join(CHANNELS)} 之一，而不是 {channel!r}")
    if received > beijing_date(now):
        raise RequestError(f"收到日期 {received} 晚于今天（北京时间），请检查 --received")
    if received < dt.date(2008, 5, 1):
        raise RequestError(f"收到日期 {received} 早于《政府信息公开条例》施行之日（2008-05-01），请检查 --received")
    pol = request_policy(settings)
    unit = (settings.unit(pol.unit) if pol.unit else None) or settings.office
    req = DisclosureRequest(channel=channel, received_on=received, count_from=received, applicant=applicant[:200],
                            contact=contact[:200], description=description[:4000], unit_id=unit.id, item_id=item_id,
                            created_at=now, updated_at=now, created_by=actor)
    s.add(req)
    s.flush()
    count = request_count(calendar_for(settings), req, pol)
    snap = _snapshot(name="disclosure_request", obligation=REQUEST_OBLIGATION, label=pol.label, basis=pol.basis,
                     urgent=pol.urgent, channels=_channels(settings), ladder=_ladder(settings, pol.ladder, DEFAULT_REQUEST_LADDER),
                     satisfied_by=[], workdays=_wd_block(count, pol.answer_days, []))
    snap["unit_name"] = unit.name
    started, deadline = start_of_day_utc(received), count.deadline_utc()
    clock = Clock(subject=f"request:{req.id}", unit_id=unit.id, obligation=REQUEST_OBLIGATION,
                  state="overdue" if deadline <= now else "running", start_basis="receipt", started_at=started,
                  deadline_at=deadline, policy=snap, next_step=0,
                  next_action_at=ladder_mod.first_action_at(snap, started, deadline))
    s.add(clock)
    s.flush()
    req.clock_id = clock.id
    _sync(req, count, now)
    s.add(req)
    audit.record(s, at=now, kind="request.received", subject=f"request:{req.id}", actor=actor,
                 data={"channel": channel, "received_on": received.isoformat(), "receipt_rule": RECEIPT_RULE[channel],
                       "due_date": count.due_date.isoformat(), "deadline_at": iso_utc(deadline),
                       "calendar": count.calendar, "item_id": item_id, "clock_id": clock.id})
    return req


def _recompute(s: Session, settings: Any, req: DisclosureRequest, now: dt.datetime, *, reason: str, actor: str) -> Count:
    pol = request_policy(settings)
    count = request_count(calendar_for(settings), req, pol)
    clock = _clock(s, req)
    _reschedule(s, clock, started=start_of_day_utc(req.count_from), count=count,
                days=pol.answer_days + req.extension_days, pauses=closed_pauses(req.pauses), now=now, reason=reason,
                actor=actor)
    _sync(req, count, now)
    s.add(req)
    return count


def _open_req(s: Session, request_id: int) -> DisclosureRequest:
    req = _get(s, request_id)
    if req.state in ("answered", "withdrawn"):
        raise RequestError(f"申请 {request_id} 已办结（{req.state}）")
    return req


def extend(engine: Engine, settings: Any, request_id: int, *, days: int, approver: str, reason: str, now: dt.datetime,
           actor: str = "operator") -> DisclosureRequest:
    """第33条第2款: extension approved by the head of the openness office, at most 20 working days, applicant told."""
    pol = request_policy(settings)
    if not approver.strip():
        raise RequestError("延长答复期限须经政府信息公开工作机构负责人同意：请用 --approver 写明批准人")
    if not reason.strip():
        raise RequestError("延长答复期限须说明理由（--reason）")
    with transaction(engine) as s:
        req = _open_req(s, request_id)
        if req.extension_days:
            raise RequestError(f"申请 {request_id} 已延长 {req.extension_days} 个工作日；条例只允许延长一次，合计不超过{pol.extension_max_days}个工作日")
        if not 1 <= days <= pol.extension_max_days:
            raise RequestError(f"延长期限不得超过{pol.extension_max_days}个工作日（第33条第2款），而不是 {days}")
        if req.due_date is not None and beijing_date(now) > req.due_date:
            raise RequestError(f"答复期限已于 {req.due_date} 届满，不能事后延长")
        req.extension_days = days
        req.extension = {"days": days, "approver": approver, "reason": reason, "at": iso_utc(now), "by": actor}
        if req.state == "open":
            _recompute(s, settings, req, now, reason=f"延长{days}个工作日（批准人：{approver}；理由：{reason}）", actor=actor)
        s.add(req)
        audit.record(s, at=now, kind="request.extended", subject=f"request:{req.id}", actor=actor, data=dict(req.extension))
        return req


def pause(engine: Engine, settings: Any, request_id: int, *, on: dt.date, party: str, reason: str, now: dt.datetime,
          actor: str = "operator") -> DisclosureRequest:
    """第32、33、34条: consulting a third party or another agency; the time is not counted."""
    if party not in PARTIES:
        raise RequestError(f"征求意见对象应为 {'、'.join(PARTIES)}")
    if on > beijing_date(now):
        raise RequestError("暂停日期晚于今天")
    with transaction(engine) as s:
        req = _open_req(s, request_id)
        if req.state != "open":
            raise RequestError(f"申请 {request_id} 当前为 {req.state}，不能再暂停")
        if on < req.count_from:
            raise RequestError(f"暂停日期 {on} 早于起算日 {req.count_from}")
        last = max((dt.date.fromisoformat(p["to"]) for p in req.pauses if p.get("to")), default=None)
        if last is not None and on < last:
            raise RequestError(f"暂停日期 {on} 早于上一次恢复日期 {last}")
        req.pauses = [*req.pauses, {"from": on.isoformat(), "to": None, "party": party, "reason": reason, "by": actor,
                                    "consultation_days": request_policy(settings).consultation_days}]
        req.state, req.updated_at = "paused", now
        s.add(req)
        _pause_clock(s, _clock(s, req), now, reason=f"征求{party}意见（{reason}），所需时间不计算在答复期限内", actor=actor)
        audit.record(s, at=now, kind="request.paused", subject=f"request:{req.id}", actor=actor,
                     data={"on": on.isoformat(), "party": party, "reason": reason})
        return req


def resume(engine: Engine, settings: Any, request_id: int, *, on: dt.date, now: dt.datetime, actor: str = "operator",
           note: str = "") -> DisclosureRequest:
    with transaction(engine) as s:
        req = _get(s, request_id)
        p = open_pause(req.pauses)
        if req.state != "paused" or p is None:
            raise RequestError(f"申请 {request_id} 没有暂停")
        if on < dt.date.fromisoformat(p["from"]):
            raise RequestError(f"恢复日期 {on} 早于暂停日期 {p['from']}")
        if on > beijing_date(now):
            raise RequestError("恢复日期晚于今天")
        req.pauses = [({**x, "to": on.isoformat(), "note": note} if x is p else x) for x in req.pauses]
        req.state = "open"
        count = _recompute(s, settings, req, now, reason=f"征求{p['party']}意见结束（{p['from']}至{on}不计入期限）", actor=actor)
        audit.record(s, at=now, kind="request.resumed", subject=f"request:{req.id}", actor=actor,
                     data={"on": on.isoformat(), "due_date": count.due_date.isoformat()})
        return req


def correction_notice(engine: Engine, settings: Any, request_id: int, *, on: dt.date, now: dt.datetime,
                      actor: str = "operator", note: str = "") -> DisclosureRequest:
    """第30条: the 补正 notice, due within 7 working days of receipt; the answer clock waits for the corrected application."""
    pol = request_policy(settings)
    with transaction(engine) as s:
        req = _open_req(s, request_id)
        if req.state != "open":
            raise RequestError(f"申请 {request_id} 当前为 {req.state}")
        due = calendar_for(settings).add_workdays(req.count_from, pol.correction_notice_days)
        req.correction = {"notified_on": on.isoformat(), "notice_due": due.due_date.isoformat(),
                          "late": on > due.due_date, "note": note, "calendar": due.calendar}
        req.state, req.updated_at = "awaiting_correction", now
        s.add(req)
        _pause_clock(s, _clock(s, req), now, reason="已通知补正，待申请人补正后重新起算（第30条）", actor=actor)
        audit.record(s, at=now, kind="request.correction_notified", subject=f"request:{req.id}", actor=actor,
                     data=dict(req.correction))
        return req


def correction_received(engine: Engine, settings: Any, request_id: int, *, on: dt.date, now: dt.datetime,
                        actor: str = "operator") -> DisclosureRequest:
    """第30条: the answer period runs from receipt of the corrected application: the count restarts."""
    with transaction(engine) as s:
        req = _open_req(s, request_id)
        if req.state != "awaiting_correction":
            raise RequestError(f"申请 {request_id} 没有待补正的通知")
        if on < dt.date.fromisoformat(req.correction["notified_on"]) or on > beijing_date(now):
            raise RequestError(f"补正收到日期 {on} 应在通知日期之后、今天之前")
        req.correction = {**req.correction, "received_on": on.isoformat()}
        req.count_from, req.pauses, req.state = on, [], "open"
        count = _recompute(s, settings, req, now, reason=f"收到补正后的申请（{on}），重新起算", actor=actor)
        audit.record(s, at=now, kind="request.corrected", subject=f"request:{req.id}", actor=actor,
                     data={"received_on": on.isoformat(), "due_date": count.due_date.isoformat()})
        return req


def answer(engine: Engine, settings: Any, request_id: int, *, kind: str, now: dt.datetime, on: dt.date | None = None,
           note: str = "", actor: str = "operator") -> DisclosureRequest:
    """第36条: the answer; met if given by the end of the due date (Beijing), else met late."""
    kind = {v: k for k, v in ANSWER_LABELS.items()}.get(kind, kind)
    if kind not in ANSWER_TYPES:
        raise RequestError(f"答复类型应为 {', '.join(ANSWER_TYPES)}（第36条）之一")
    on = on or beijing_date(now)
    if on > beijing_date(now):
        raise RequestError("答复日期晚于今天")
    with transaction(engine) as s:
        req = _open_req(s, request_id)
        if on < req.received_on:
            raise RequestError(f"答复日期 {on} 早于收到日期 {req.received_on}")
        clock = _clock(s, req)
        if req.state == "paused":
            p = open_pause(req.pauses)
            req.pauses = [({**x, "to": on.isoformat()} if x is p else x) for x in req.pauses]
        # With calendar "unknown" the due date is the earliest possible one: judged against it, strictly.
        on_time = req.due_date is not None and on <= req.due_date
        req.state, req.answer_type, req.answered_on, req.answered_at = "answered", kind, on, now
        req.answer_note, req.on_time, req.updated_at = note, on_time, now
        s.add(req)
        met_at = now if on == beijing_date(now) else end_of_day_utc(on) - dt.timedelta(seconds=1)
        _stop(s, clock, "met" if on_time else "met_late", now, met_at=met_at, reason=f"已答复：{ANSWER_LABELS[kind]}",
              actor=actor)
        audit.record(s, at=now, kind="request.answered", subject=f"request:{req.id}", actor=actor,
                     data={"type": kind, "label": ANSWER_LABELS[kind], "on": on.isoformat(), "on_time": on_time,
                           "due_date": req.due_date.isoformat() if req.due_date else None, "note": note})
        return req


# ---------------------------------------------------------------- the pass


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
                    req = _add(s, settings, received=beijing_date(_item_received(item, now)), channel="网上", now=now,
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
    snap = _snapshot(name="inquiry_answer", obligation=INQUIRY_OBLIGATION, label=pol.label, basis=pol.basis,
                     urgent=pol.urgent, channels=_channels(settings), ladder=_ladder(settings, pol.ladder, DEFAULT_INQUIRY_LADDER),
                     satisfied_by=pol.satisfied_by, workdays=_wd_block(count, pol.answer_days, []))
    from responder.engine.rules import unit_for_department

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
        _reschedule(s, clock, started=clock.started_at, count=count, days=int(wd["days"]), pauses=pauses, now=now,
                    reason=why, actor="system")
        if clock.obligation == REQUEST_OBLIGATION and clock.subject.startswith("request:"):
            req = s.get(DisclosureRequest, int(clock.subject.split(":")[1]))
            if req is not None:
                _sync(req, count, now)
                s.add(req)
        res.rescheduled.append(clock.id)
    # Paused requests keep no running clock; their shown due date and calendar follow too (resume recomputes the clock).
    pol = request_policy(settings)
    for req in s.exec(select(DisclosureRequest).where(DisclosureRequest.state.in_(("paused", "awaiting_correction")))).all():
        count = request_count(cal, req, pol)
        if (count.due_date, count.calendar) != (req.due_date, req.calendar):
            _sync(req, count, now)
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
                    channels=_channels(settings), urgent=False)
    audit.record(s, at=now, kind="calendar.unknown_reminded", subject="calendar", data=ctx)
    res.reminded = True


# ---------------------------------------------------------------- reading


def request_view(s: Session, req: DisclosureRequest, settings: Any | None = None) -> dict[str, Any]:
    clock = s.get(Clock, req.clock_id) if req.clock_id else None
    pol = request_policy(settings) if settings is not None else RequestsPolicy()
    notice_due = None
    if settings is not None:
        notice_due = calendar_for(settings).add_workdays(req.received_on, pol.correction_notice_days).due_date.isoformat()
    return {
        "id": req.id, "state": req.state, "channel": req.channel, "received_on": req.received_on.isoformat(),
        "receipt_rule": RECEIPT_RULE.get(req.channel, ""), "count_from": req.count_from.isoformat(),
        "applicant": req.applicant, "description": req.description, "unit_id": req.unit_id,
        "due_date": req.due_date.isoformat() if req.due_date else None,
        "deadline_at": iso_utc(clock.deadline_at) if clock else None, "calendar": req.calendar,
        "calendar_unknown": req.calendar == "unknown",
        "working_days": pol.answer_days + req.extension_days, "extension": req.extension or None,
        "pauses": req.pauses, "correction": req.correction or None, "correction_notice_due": notice_due,
        "answer_type": req.answer_type, "answer_label": ANSWER_LABELS.get(req.answer_type or "", None),
        "answered_on": req.answered_on.isoformat() if req.answered_on else None, "on_time": req.on_time,
        "clock": {"id": clock.id, "state": clock.state, "next_action_at": iso_utc(clock.next_action_at),
                  "generation": clock.generation} if clock else None,
        "item_id": req.item_id, "created_at": iso_utc(req.created_at),
    }
