"""The console's forms: each calls the same core function as the CLI command of the same name.

Order of checks in every handler: logged in, CSRF token, the case exists and is
the person's to act on (role and unit — a forged POST for another unit's case
stops here), the input is valid; only then the core runs, in its own
transaction with its own audit event, ``actor`` being the person. Any refusal
re-renders the form with the message and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from sqlmodel import Session

from responder import engine as eng
from responder.engine import EngineError
from responder.data import RELEASE_KINDS
from responder.models import Case
from responder.timeutil import BEIJING, fmt_bj
from responder.web import csrf, queries
from responder.web.app import Console, login_required
from responder.web.auth import Person, may_act
from responder.web.views import case_page

LEVELS = ("I", "II", "III", "IV", "none")
CLOSE_KINDS = ("resolved", "duplicate", "not_ours")
MAX_TEXT = 500


class FormError(ValueError):
    pass


def _text(form: Any, key: str, *, required: str | None = None, limit: int = MAX_TEXT) -> str:
    v = str(form.get(key) or "").strip()
    if required and not v:
        raise FormError(required)
    if len(v) > limit:
        raise FormError(f"内容过长（最多 {limit} 个字符）")
    return v


def parse_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise FormError("请填写发布页面的完整网址（以 http:// 或 https:// 开头）")
    return value


def parse_time(value: str, now: dt.datetime) -> dt.datetime:
    """``datetime-local`` input is Beijing time (a county office's clock), stored as UTC; empty means now."""
    if not value:
        return now
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise FormError("时间格式应为 2022-07-18T14:00（北京时间）") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=BEIJING)
    t = t.astimezone(dt.timezone.utc)
    if t > now + dt.timedelta(minutes=10):
        raise FormError(f"发布时间不能晚于现在（{fmt_bj(now)}）")
    return t


async def _guard(request: Request, console: Console, person: Person, case: Case | None, action: str) -> tuple[Any, Response | None]:
    form = await request.form()
    if not csrf.valid(request.session, form):
        log_refusal(console, person, action, "csrf")
        return form, console.error(request, 403, "表单已失效（缺少或错误的 CSRF 令牌），没有做任何更改。请刷新页面后重试。")
    if case is None or not may_act(console.settings, person, case, action):
        log_refusal(console, person, action, "forbidden", case.id if case else None)
        return form, console.error(request, 403, "您无权对这个案件执行此操作，没有做任何更改。")
    return form, None


def log_refusal(console: Console, person: Person, action: str, why: str, case_id: int | None = None) -> None:
    from responder.web.app import log

    log.warning("web.refused", user=person.name, action=action, reason=why, case_id=case_id)


def _load_case(console: Console, case_id: int) -> Case | None:
    with Session(console.engine) as s:
        return s.get(Case, case_id)


async def _run(request: Request, console: Console, person: Person, case_id: int, form_name: str, values: dict[str, str],
               fn: Any, done: str) -> Response:
    """Call the core; its refusals (EngineError) are shown on the form like input errors."""
    try:
        await run_in_threadpool(fn)
    except (EngineError, FormError) as exc:
        return await case_page(request, console, person, case_id, errors={form_name: str(exc)}, values={form_name: values},
                               status=400)
    request.session["flash"] = done
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


async def _case_action(request: Request, console: Console, person: Person, action: str) -> tuple[int, Any, Response | None]:
    case_id = request.path_params["case_id"]
    case = await run_in_threadpool(_load_case, console, case_id)
    form, refused = await _guard(request, console, person, case, action)
    return case_id, form, refused


async def _invalid(request: Request, console: Console, person: Person, case_id: int, name: str, exc: Exception,
                   values: dict[str, str]) -> Response:
    return await case_page(request, console, person, case_id, errors={name: str(exc)}, values={name: values}, status=400)


@login_required
async def release(request: Request, console: Console, person: Person) -> Response:
    case_id, form, refused = await _case_action(request, console, person, "release")
    if refused:
        return refused
    values = {k: str(form.get(k) or "") for k in ("url", "kind", "at", "title")}
    now = console.clock()
    try:
        url = parse_url(_text(form, "url", required="请填写发布页面的网址"))
        kind = values["kind"]
        if kind not in RELEASE_KINDS:
            raise FormError(f"发布类型应为：{'、'.join(RELEASE_KINDS)}")
        at = parse_time(values["at"].strip(), now)
        title = _text(form, "title")
    except FormError as exc:
        return await _invalid(request, console, person, case_id, "release", exc, values)
    return await _run(request, console, person, case_id, "release", values,
                      lambda: eng.record_release(console.engine, console.settings, case_id, kind=kind, url=url, at=at,
                                                 title=title, now=now, actor=person.actor),
                      f"已记录{kind}（{fmt_bj(at)}，{person.actor}）")


@login_required
async def ack(request: Request, console: Console, person: Person) -> Response:
    case_id, form, refused = await _case_action(request, console, person, "ack")
    if refused:
        return refused
    values = {"note": str(form.get("note") or "")}
    try:
        note = _text(form, "note")
    except FormError as exc:
        return await _invalid(request, console, person, case_id, "ack", exc, values)
    return await _run(request, console, person, case_id, "ack", values,
                      lambda: eng.ack_case(console.engine, case_id, now=console.clock(), actor=person.actor, note=note),
                      f"已签收（{person.actor}）")


@login_required
async def reclassify(request: Request, console: Console, person: Person) -> Response:
    case_id, form, refused = await _case_action(request, console, person, "reclassify")
    if refused:
        return refused
    values = {k: str(form.get(k) or "") for k in ("level", "reason")}
    try:
        if values["level"] not in LEVELS:
            raise FormError("请选择级别：Ⅰ、Ⅱ、Ⅲ、Ⅳ 或 非突发事件")
        reason = _text(form, "reason", required="请说明调整理由")
    except FormError as exc:
        return await _invalid(request, console, person, case_id, "reclassify", exc, values)
    level = None if values["level"] == "none" else values["level"]
    return await _run(request, console, person, case_id, "reclassify", values,
                      lambda: eng.reclassify(console.engine, console.settings, case_id, level, reason=reason,
                                             now=console.clock(), actor=person.actor),
                      f"已调整级别（{person.actor}）")


@login_required
async def close(request: Request, console: Console, person: Person) -> Response:
    case_id, form, refused = await _case_action(request, console, person, "close")
    if refused:
        return refused
    values = {k: str(form.get(k) or "") for k in ("kind", "reason", "duplicate_of")}
    try:
        if values["kind"] not in CLOSE_KINDS:
            raise FormError("请选择关闭类型")
        reason = _text(form, "reason", required="请说明关闭理由")
        dup = values["duplicate_of"].strip().lstrip("#")
        if dup and not dup.isdigit():
            raise FormError("重复案件编号应为数字")
        dup_id = int(dup) if dup else None
        if values["kind"] == "duplicate" and dup_id is not None:
            other = await run_in_threadpool(_load_case, console, dup_id)
            if other is None or not may_act(console.settings, person, other, "close"):
                raise FormError(f"案件 {dup_id} 不存在")
    except FormError as exc:
        return await _invalid(request, console, person, case_id, "close", exc, values)
    return await _run(request, console, person, case_id, "close", values,
                      lambda: eng.close_case(console.engine, case_id, kind=values["kind"], reason=reason, now=console.clock(),
                                             actor=person.actor, duplicate_of=dup_id),
                      f"案件已关闭（{person.actor}）")


async def _proposal(request: Request, console: Console, person: Person, accept: bool) -> Response:
    release_id = request.path_params["release_id"]
    case = await run_in_threadpool(queries.proposal_case, console.engine, release_id)
    form, refused = await _guard(request, console, person, case, "proposal")
    if refused:
        return refused
    values = {"reason": str(form.get("reason") or "")}
    try:
        reason = _text(form, "reason", required=None if accept else "请说明否决理由")
    except FormError as exc:
        return await _invalid(request, console, person, case.id, "reject", exc, values)
    return await _run(request, console, person, case.id, "reject", values,
                      lambda: eng.decide_proposal(console.engine, console.settings, release_id, accept=accept,
                                                  now=console.clock(), actor=person.actor, reason=reason),
                      f"已{'确认' if accept else '否决'}发布匹配 #{release_id}（{person.actor}）")


@login_required
async def confirm(request: Request, console: Console, person: Person) -> Response:
    return await _proposal(request, console, person, True)


@login_required
async def reject(request: Request, console: Console, person: Person) -> Response:
    return await _proposal(request, console, person, False)


def routes() -> list[Route]:
    p = ["POST"]
    return [
        Route("/cases/{case_id:int}/release", release, methods=p), Route("/cases/{case_id:int}/ack", ack, methods=p),
        Route("/cases/{case_id:int}/reclassify", reclassify, methods=p), Route("/cases/{case_id:int}/close", close, methods=p),
        Route("/releases/{release_id:int}/confirm", confirm, methods=p),
        Route("/releases/{release_id:int}/reject", reject, methods=p),
    ]
