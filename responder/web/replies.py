"""``POST /sms/replies/<provider>``: the providers' reply pushes; ``GET /replies``: what the office must see.

The providers do not sign their reply pushes, so the URL registered with them carries a secret
(``?token=``, from ``notify.replies.token_secret``), compared in constant time. A reply is stored once
(replays change nothing) and acted on only by :mod:`responder.inbound`'s rules.
"""

from __future__ import annotations

import hmac

import structlog
from sqlalchemy import select
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from responder.config import read_secret
from responder.inbound import formats, record_replies
from responder.models.links import SmsReply
from responder.web.app import Console, login_required
from responder.web.auth import Person

log = structlog.get_logger("responder.web.replies")
MAX_BODY = 64 * 1024
OUTCOMES = {"acked": "已签收", "already": "重复签收", "unmatched": "回复码不存在", "wrong_number": "号码未收到该回复码",
            "no_code": "没有回复码", "throttled": "过于频繁，未处理", "unparsed": "无法识别的上行消息"}


async def inbound(request: Request) -> Response:
    console = request.app.state.console
    provider = request.path_params["provider"]
    cfg = console.settings.file.notify.replies
    if not cfg.enabled or provider not in formats.ANSWERS:
        return JSONResponse({"error": "未启用短信回复或未知的服务商"}, status_code=404)
    key = console.settings.secret(cfg.token_secret) or read_secret(cfg.token_secret)
    got = request.query_params.get("token", "")
    if not key or not hmac.compare_digest(got.encode(), key.encode()):
        log.warning("replies.refused", provider=provider, reason="token")
        return JSONResponse({"error": "认证失败"}, status_code=401)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "请求体过大"}, status_code=413)
    try:
        if provider in formats.WITH_TYPE:
            replies = formats.WITH_TYPE[provider](body, request.headers.get("content-type", ""))
        else:
            replies = formats.PARSERS[provider](body)
    except ValueError as exc:
        log.warning("replies.refused", provider=provider, reason=str(exc))
        return JSONResponse({"error": str(exc)}, status_code=400)
    outcomes = await run_in_threadpool(record_replies, console.engine, console.settings, replies, console.clock())
    log.info("replies.recorded", provider=provider, outcomes=outcomes)
    return JSONResponse(formats.ANSWERS[provider])


def _recent(engine, limit: int = 200) -> list[SmsReply]:
    with Session(engine) as s:
        return list(s.execute(select(SmsReply).order_by(SmsReply.id.desc()).limit(limit)).scalars())


@login_required
async def replies_page(request: Request, console: Console, person: Person) -> Response:
    if not person.is_operator:
        return console.error(request, 403, "只有政务公开办值班员可以查看短信回复。")
    rows = await run_in_threadpool(_recent, console.engine)
    return console.page(request, "replies.html", {"rows": rows, "outcomes": OUTCOMES})


def routes() -> list[Route]:
    return [Route("/sms/replies/{provider}", inbound, methods=["POST"]), Route("/replies", replies_page)]
