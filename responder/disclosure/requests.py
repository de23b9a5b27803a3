"""What an operator does with a disclosure request (依申请公开), from receipt to answer.

Each action is one transaction: the request's row, its clock moved (see
``clocks``) and the audit event saying what was done and on which article.
A refused action raises ``RequestError`` with the reason in Chinese and
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from responder import audit
from responder.db import transaction
from responder.disclosure.clocks import (
    beijing_date, calendar_for, channels_for, closed_pauses, ladder_for, open_pause, pause_clock, request_count,
    request_policy, reschedule, snapshot, start_of_day_utc, stop_clock, workdays_block,
)
from responder.disclosure.policy import DEFAULT_REQUEST_LADDER, RequestsPolicy
from responder.disclosure.vocabulary import (
    ANSWER_LABELS, ANSWER_TYPES, CHANNELS, PARTIES, RECEIPT_RULE, REQUEST_OBLIGATION, RequestError,
)
from responder.engine import ladder as ladder_mod
from responder.models import Clock, DisclosureRequest
from responder.timeutil import iso_utc
from responder.workdays import Count, end_of_day_utc

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


def sync_due(req: DisclosureRequest, count: Count, now: dt.datetime) -> None:
    req.due_date, req.calendar, req.updated_at = count.due_date, count.calendar, now


def add_request(engine: Engine, settings: Any, *, received: dt.date, channel: str, now: dt.datetime,
                applicant: str = "", contact: str = "", description: str = "", actor: str = "operator",
                item_id: int | None = None) -> DisclosureRequest:
    """Register a request and start its clock (第31条 receipt date; 第33条 20 working days)."""
    with transaction(engine) as s:
        return register(s, settings, received=received, channel=channel, now=now, applicant=applicant, contact=contact,
                    description=description, actor=actor, item_id=item_id)


def register(s: Session, settings: Any, *, received: dt.date, channel: str, now: dt.datetime, applicant: str, contact: str,
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
    snap = snapshot(name="disclosure_request", obligation=REQUEST_OBLIGATION, label=pol.label, basis=pol.basis,
                     urgent=pol.urgent, channels=channels_for(settings), ladder=ladder_for(settings, pol.ladder, DEFAULT_REQUEST_LADDER),
                     satisfied_by=[], workdays=workdays_block(count, pol.answer_days, []))
    snap["unit_name"] = unit.name
    started, deadline = start_of_day_utc(received), count.deadline_utc()
    clock = Clock(subject=f"request:{req.id}", unit_id=unit.id, obligation=REQUEST_OBLIGATION,
                  state="overdue" if deadline <= now else "running", start_basis="receipt", started_at=started,
                  deadline_at=deadline, policy=snap, next_step=0,
                  next_action_at=ladder_mod.first_action_at(snap, started, deadline))
    s.add(clock)
    s.flush()
    req.clock_id = clock.id
    sync_due(req, count, now)
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
    reschedule(s, clock, started=start_of_day_utc(req.count_from), count=count,
                days=pol.answer_days + req.extension_days, pauses=closed_pauses(req.pauses), now=now, reason=reason,
                actor=actor)
    sync_due(req, count, now)
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
        pause_clock(s, _clock(s, req), now, reason=f"征求{party}意见（{reason}），所需时间不计算在答复期限内", actor=actor)
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
        pause_clock(s, _clock(s, req), now, reason="已通知补正，待申请人补正后重新起算（第30条）", actor=actor)
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
        stop_clock(s, clock, "met" if on_time else "met_late", now, met_at=met_at, reason=f"已答复：{ANSWER_LABELS[kind]}",
              actor=actor)
        audit.record(s, at=now, kind="request.answered", subject=f"request:{req.id}", actor=actor,
                     data={"type": kind, "label": ANSWER_LABELS[kind], "on": on.isoformat(), "on_time": on_time,
                           "due_date": req.due_date.isoformat() if req.due_date else None, "note": note})
        return req


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
