"""``/l/<token>``: the one page a link in an escalation message opens (issue 17).

No login and no session: the token is the whole authority, and it can do exactly one thing (its
purpose) for one case, once. A GET only shows the form — link previewers and scanners fetch links,
so nothing may happen on GET. Every use, and every refused use of a known token, is an audit event
naming the recipient; a token that matches nothing is logged with the client address only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from responder import audit, engine as eng
from responder.notify import links as notify_links
from responder.db import transaction
from responder.engine import EngineError
from responder.engine.policy import RELEASE_KINDS
from responder.models import Clock
from responder.web.actions import FormError, parse_time, parse_url
from responder.web.auth import ROLES
from responder.web.render import render

log = structlog.get_logger("responder.web.links")
MAX_NOTE = 200


def _page(request: Request, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    console = request.app.state.console
    base = {"person": None, "roles": ROLES, "csrf_field": "", "csrf": "", "county": console.settings.file.service.county,
            "now": console.clock(), "path": request.url.path, "flash": None, "live": False, "values": {},
            "release_kinds": RELEASE_KINDS, "token": request.path_params["token"]}
    return HTMLResponse(render("link.html", base | ctx, console.templates_dir), status_code=status)


def _deadline(session: Session, case_id: int) -> dt.datetime | None:
    from sqlalchemy import func, select

    return session.execute(select(func.min(Clock.deadline_at)).where(
        Clock.case_id == case_id, Clock.state.in_(("running", "overdue")))).scalar()


def _look(console: Any, token: str, now: dt.datetime, *, opened: bool) -> dict[str, Any]:
    """Resolve the token; audit the opening (or the refusal) of a known link in the same transaction."""
    with transaction(console.engine) as s:
        r = notify_links.resolve(s, token, now)
        ctx: dict[str, Any] = {"problem": r.problem}
        if r.link is not None:
            ctx.update(purpose=r.link.purpose, label=notify_links.LABELS.get(r.link.purpose, ""),
                       recipient_name=r.link.recipient_name, link_id=r.link.id, recipient=r.link.recipient,
                       actor=notify_links.actor_for(r.link))
            if r.case is not None:
                ctx.update(case=r.case, deadline=_deadline(s, r.case.id), case_id=r.case.id)
            if r.problem:
                audit.record(s, at=now, kind="link.refused", subject=f"case:{r.link.case_id}", actor=ctx["actor"],
                             data={"recipient": r.link.recipient, "purpose": r.link.purpose, "reason": r.problem})
            elif opened:
                audit.record(s, at=now, kind="link.opened", subject=f"case:{r.link.case_id}", actor=ctx["actor"],
                             data={"recipient": r.link.recipient, "purpose": r.link.purpose})
        return ctx


def _refuse_unknown(request: Request, ctx: dict[str, Any]) -> HTMLResponse:
    log.warning("link.unknown", client=request.client.host if request.client else None)
    return _page(request, ctx, status=404 if "link_id" not in ctx else 410)


async def show(request: Request) -> Response:
    console = request.app.state.console
    ctx = await run_in_threadpool(_look, console, request.path_params["token"], console.clock(), opened=True)
    if ctx["problem"]:
        return _refuse_unknown(request, ctx)
    return _page(request, ctx)


def _ack(console: Any, ctx: dict[str, Any], note: str, now: dt.datetime) -> str | None:
    """Claim the link and sign, in one transaction: the case's receipt, the person's receipt, the audit event."""
    from responder.models import Case

    with transaction(console.engine) as s:
        if not notify_links.claim(s, ctx["link_id"], now):
            return "此链接已经使用过，不能再次使用。"
        case = s.get(Case, ctx["case_id"])
        if case.acked_at is None:
            case.acked_at, case.acked_by = now, ctx["actor"]
            s.add(case)
        notify_links.record_recipient_ack(s, case_id=case.id, recipient=ctx["recipient"], now=now, via="link")
        audit.record(s, at=now, kind="case.acked", subject=f"case:{case.id}", actor=ctx["actor"],
                     data={"note": note, "via": "link", "recipient": ctx["recipient"]})
        audit.record(s, at=now, kind="link.used", subject=f"case:{case.id}", actor=ctx["actor"],
                     data={"recipient": ctx["recipient"], "purpose": "ack"})
    return None


def _release(console: Any, ctx: dict[str, Any], *, url: str, kind: str, at: dt.datetime, now: dt.datetime) -> str | None:
    """Claim first (so two quick submissions cannot both record), then the core's own transaction; a refusal
    by the core gives the link back."""
    with transaction(console.engine) as s:
        if not notify_links.claim(s, ctx["link_id"], now):
            return "此链接已经使用过，不能再次使用。"
    try:
        eng.record_release(console.engine, console.settings, ctx["case_id"], kind=kind, url=url, at=at, now=now,
                           actor=ctx["actor"])
    except EngineError:
        with transaction(console.engine) as s:
            notify_links.unclaim(s, ctx["link_id"])
        raise
    with transaction(console.engine) as s:
        audit.record(s, at=now, kind="link.used", subject=f"case:{ctx['case_id']}", actor=ctx["actor"],
                     data={"recipient": ctx["recipient"], "purpose": "release", "url": url})
    return None


async def act(request: Request) -> Response:
    console = request.app.state.console
    now = console.clock()
    form = await request.form()
    ctx = await run_in_threadpool(_look, console, request.path_params["token"], now, opened=False)
    if ctx["problem"]:
        return _refuse_unknown(request, ctx)
    values = {k: str(form.get(k) or "").strip() for k in ("url", "kind", "at", "note")}
    try:
        if ctx["purpose"] == "release":
            url = parse_url(values["url"])
            if values["kind"] not in RELEASE_KINDS:
                raise FormError(f"发布类型应为：{'、'.join(RELEASE_KINDS)}")
            at = parse_time(values["at"], now)
            problem = await run_in_threadpool(_release, console, ctx, url=url, kind=values["kind"], at=at, now=now)
            done = f"已记录{values['kind']}：{url}（{ctx['actor']}）"
        else:
            if len(values["note"]) > MAX_NOTE:
                raise FormError(f"备注过长（最多 {MAX_NOTE} 个字符）")
            problem = await run_in_threadpool(_ack, console, ctx, values["note"], now)
            done = f"已签收（{ctx['actor']}）。签收后不再向您重复发送超时通报，但办理时限照常计算。"
    except (FormError, EngineError) as exc:
        return _page(request, ctx | {"error": str(exc), "values": values}, status=400)
    if problem:
        return _page(request, ctx | {"problem": problem}, status=410)
    log.info("link.used", case_id=ctx["case_id"], recipient=ctx["recipient"], purpose=ctx["purpose"])
    return _page(request, ctx | {"done": done})


def routes() -> list[Route]:
    return [Route("/l/{token}", show, methods=["GET"]), Route("/l/{token}", act, methods=["POST"])]
