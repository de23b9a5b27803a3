"""Disclosure requests (依申请公开) in the console (issue 19): the list, a request's page and its forms.

Every form calls the same ``responder.disclosure.service`` function as the
``responder request`` command, so the transaction, the clock's recomputation
and the audit event are the CLI's, with the person's name as ``actor``. Only
operators act (the office answers requests); leaders read everything; a
liaison reads the requests routed to their own unit. Order of checks in every
POST: logged in, CSRF token, role, the request is the person's to see, valid
input — only then the service runs; a refusal changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from responder.disclosure import service
from responder.disclosure.service import ANSWER_LABELS, CHANNELS, PARTIES, RequestError
from responder.models import AuditEvent, DisclosureRequest
from responder.web import csrf
from responder.web.actions import FormError, _text
from responder.web.app import Console, log, login_required
from responder.web.auth import Person

STATE_LABELS = {"open": "办理中", "paused": "暂停（征求意见）", "awaiting_correction": "待补正", "answered": "已答复",
                "withdrawn": "已撤回"}
LIVE_STATES = ("open", "paused", "awaiting_correction")
CALENDAR_LABELS = {"package": "官方安排（软件包）", "local": "官方安排（本地文件）", "unknown": "日历未知"}
ACTIONS = ("answer", "extend", "pause", "resume", "correct")
MAX_CONTENT = 4000


def _scoped(q: Any, person: Person) -> Any:
    return q.where(DisclosureRequest.unit_id == person.unit_id) if person.role == "liaison" else q


def _may_see(person: Person, req: DisclosureRequest) -> bool:
    return person.role != "liaison" or req.unit_id == person.unit_id


def _with_time_left(v: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Seconds to the deadline while the clock runs; None while paused (the days are not counted) or answered."""
    v["state_label"] = STATE_LABELS.get(v["state"], v["state"])
    v["calendar_label"] = CALENDAR_LABELS.get(v["calendar"] or "", v["calendar"] or "—")
    running = v["state"] == "open" and v["deadline_at"]
    v["seconds_left"] = int((dt.datetime.fromisoformat(v["deadline_at"].replace("Z", "+00:00")) - now).total_seconds()) \
        if running else None
    v["deadline"] = dt.datetime.fromisoformat(v["deadline_at"].replace("Z", "+00:00")) if v["deadline_at"] else None
    return v


def request_list(console: Console, person: Person, *, show_all: bool) -> list[dict[str, Any]]:
    now = console.clock()
    with Session(console.engine) as s:
        q = _scoped(select(DisclosureRequest), person)
        if not show_all:
            q = q.where(DisclosureRequest.state.in_(LIVE_STATES))
        rows = [_with_time_left(service.request_view(s, r), now) for r in s.exec(q).all()]
    rows.sort(key=lambda v: (v["due_date"] or "9999", v["id"]))
    return rows


def request_detail(console: Console, person: Person, rid: int) -> dict[str, Any] | None:
    with Session(console.engine) as s:
        req = s.get(DisclosureRequest, rid)
        if req is None or not _may_see(person, req):
            return None
        v = _with_time_left(service.request_view(s, req, console.settings), console.clock())
        v["events"] = s.exec(select(AuditEvent).where(AuditEvent.subject == f"request:{rid}")
                             .order_by(AuditEvent.seq)).all()
    return v


def _today(console: Console) -> str:
    return service.beijing_date(console.clock()).isoformat()


def _ctx(console: Console) -> dict[str, Any]:
    return {"channels": CHANNELS, "answer_labels": ANSWER_LABELS, "parties": PARTIES, "today": _today(console),
            "STATE_LABELS": STATE_LABELS}


@login_required
async def requests_page(request: Request, console: Console, person: Person) -> Response:
    return await _list_page(request, console, person)


async def _list_page(request: Request, console: Console, person: Person, *, error: str | None = None,
                     values: dict[str, str] | None = None, status: int = 200) -> Response:
    show_all = request.query_params.get("all") == "1"
    rows = await run_in_threadpool(request_list, console, person, show_all=show_all)
    vals = {"received": _today(console), "channel": CHANNELS[0], "applicant": "", "contact": "", "description": ""}
    return console.page(request, "requests.html", _ctx(console) | {
        "rows": rows, "show_all": show_all, "error": error, "values": vals | (values or {}),
        "unknown": sum(1 for r in rows if r["calendar_unknown"] and r["state"] in LIVE_STATES)}, status=status)


async def _request_page(request: Request, console: Console, person: Person, rid: int, *, errors: dict | None = None,
                        values: dict | None = None, status: int = 200) -> Response:
    v = await run_in_threadpool(request_detail, console, person, rid)
    if v is None:
        return console.error(request, 404, f"申请 {rid} 不存在，或不属于您的单位。")
    live = v["state"] in LIVE_STATES and person.is_operator
    shown = {"answer": live, "extend": live and not v["extension"], "pause": live and v["state"] == "open",
             "resume": live and v["state"] == "paused", "correct": live and v["state"] in ("open", "awaiting_correction")}
    return console.page(request, "request.html", _ctx(console) | {
        "r": v, "errors": errors or {}, "values": values or {}, "shown": shown}, status=status)


@login_required
async def request_page(request: Request, console: Console, person: Person) -> Response:
    return await _request_page(request, console, person, request.path_params["rid"])


def _date(form: Any, key: str, *, label: str, default: str | None = None) -> dt.date:
    v = str(form.get(key) or "").strip() or default
    if not v:
        raise FormError(f"请填写{label}")
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise FormError(f"{label}格式应为 2026-03-10") from None


async def _guard(request: Request, console: Console, person: Person, action: str) -> tuple[Any, Response | None]:
    """CSRF first, then the role: only the office's operators act on requests."""
    form = await request.form()
    if not csrf.valid(request.session, form):
        log.warning("web.refused", user=person.name, action=f"request.{action}", reason="csrf")
        return form, console.error(request, 403, "表单已失效（缺少或错误的 CSRF 令牌），没有做任何更改。请刷新页面后重试。")
    if not person.is_operator:
        log.warning("web.refused", user=person.name, action=f"request.{action}", reason="forbidden")
        return form, console.error(request, 403, "只有政务公开办值班员可以办理依申请公开，没有做任何更改。")
    return form, None


@login_required
async def add(request: Request, console: Console, person: Person) -> Response:
    form, refused = await _guard(request, console, person, "add")
    if refused:
        return refused
    values = {k: str(form.get(k) or "") for k in ("received", "channel", "applicant", "contact", "description")}
    now = console.clock()
    try:
        received = _date(form, "received", label="收到日期")
        if values["channel"] not in CHANNELS:
            raise FormError(f"收到渠道应为 {'、'.join(CHANNELS)} 之一")
        applicant = _text(form, "applicant", required="请填写申请人", limit=200)
        contact = _text(form, "contact", limit=200)
        description = _text(form, "description", required="请填写所需政府信息的描述", limit=MAX_CONTENT)
        req = await run_in_threadpool(lambda: service.add_request(
            console.engine, console.settings, received=received, channel=values["channel"], now=now,
            applicant=applicant, contact=contact, description=description, actor=person.actor))
    except (FormError, RequestError) as exc:
        return await _list_page(request, console, person, error=str(exc), values=values, status=400)
    request.session["flash"] = f"已登记依申请公开 #{req.id}，期限至 {req.due_date}（{person.actor}）"
    return RedirectResponse(f"/requests/{req.id}", status_code=303)


def _call(console: Console, person: Person, action: str, rid: int, form: Any) -> str:
    """Parse the form for ``action`` and call the service; the message for the flash on success."""
    now, today = console.clock(), _today(console)
    eng, st, actor = console.engine, console.settings, person.actor
    if action == "answer":
        kind = str(form.get("type") or "")
        if kind not in ANSWER_LABELS:
            raise FormError("请选择答复类型（第36条）")
        on = _date(form, "on", label="答复日期", default=today)
        service.answer(eng, st, rid, kind=kind, on=on, note=_text(form, "note"), now=now, actor=actor)
        return f"已答复：{ANSWER_LABELS[kind]}"
    if action == "extend":
        raw = str(form.get("days") or "").strip()
        if not raw.isdigit():
            raise FormError("延长天数应为 1–20 的整数（工作日）")
        approver = _text(form, "approver", required="延长须经政府信息公开工作机构负责人同意：请写明批准人", limit=100)
        reason = _text(form, "reason", required="请说明延长理由")
        r = service.extend(eng, st, rid, days=int(raw), approver=approver, reason=reason, now=now, actor=actor)
        return f"已延长 {r.extension_days} 个工作日，期限至 {r.due_date}"
    if action == "pause":
        party = str(form.get("party") or "")
        if party not in PARTIES:
            raise FormError(f"征求意见对象应为 {'、'.join(PARTIES)}")
        reason = _text(form, "reason", required="请说明征求意见的事由")
        service.pause(eng, st, rid, on=_date(form, "on", label="暂停日期", default=today), party=party, reason=reason,
                      now=now, actor=actor)
        return f"已暂停计时（征求{party}意见）"
    if action == "resume":
        r = service.resume(eng, st, rid, on=_date(form, "on", label="恢复日期", default=today), note=_text(form, "note"),
                           now=now, actor=actor)
        return f"已恢复计时，期限至 {r.due_date}"
    if action == "correct":
        step = str(form.get("step") or "")
        if step == "notified":
            service.correction_notice(eng, st, rid, on=_date(form, "on", label="通知补正日期", default=today),
                                      note=_text(form, "note"), now=now, actor=actor)
            return "已记录补正通知，答复期限待补正后重新起算"
        if step == "received":
            r = service.correction_received(eng, st, rid, on=_date(form, "on", label="收到补正日期", default=today),
                                            now=now, actor=actor)
            return f"已收到补正，重新起算，期限至 {r.due_date}"
        raise FormError("请选择：通知补正 或 收到补正")
    raise FormError("未知操作")


def _visible(console: Console, person: Person, rid: int) -> bool:
    with Session(console.engine) as s:
        req = s.get(DisclosureRequest, rid)
        return req is not None and _may_see(person, req)


@login_required
async def act(request: Request, console: Console, person: Person) -> Response:
    rid, action = request.path_params["rid"], request.path_params["action"]
    if action not in ACTIONS:
        return console.error(request, 404, "没有这个操作。")
    form, refused = await _guard(request, console, person, action)
    if refused:
        return refused
    if not await run_in_threadpool(_visible, console, person, rid):
        return console.error(request, 404, f"申请 {rid} 不存在。")
    values = {k: str(v) for k, v in form.items() if k != csrf.FIELD}
    try:
        done = await run_in_threadpool(_call, console, person, action, rid, form)
    except (FormError, RequestError) as exc:
        return await _request_page(request, console, person, rid, errors={action: str(exc)}, values={action: values},
                                   status=400)
    request.session["flash"] = f"{done}（{person.actor}）"
    return RedirectResponse(f"/requests/{rid}", status_code=303)


def routes() -> list[Route]:
    return [Route("/requests", requests_page), Route("/requests/add", add, methods=["POST"]),
            Route("/requests/{rid:int}", request_page),
            Route("/requests/{rid:int}/{action}", act, methods=["POST"])]
