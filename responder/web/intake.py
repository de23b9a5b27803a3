"""``POST /intake/<source>``: items a monitoring vendor pushes to us instead of publishing a feed (issue 17).

Machine to machine: no session and no CSRF token, but a per-source secret (a bearer token, or an
HMAC-SHA256 of the raw body) compared in constant time. The body is parsed with the same JSON
mapping as a polled ``json`` source and stored by the same ``store_poll`` (decide, deduplicate by the
item's id, one transaction with the source's health and audit events), so a pushed item and a
polled one are indistinguishable to the engine. A refused body changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from responder.config import read_secret
from responder.config.sources import SourceConfig
from responder.ingest.decide import settle_dates
from responder.ingest.parse import parse_feed
from responder.ingest.store import store_poll

log = structlog.get_logger("responder.web.intake")


class TooLarge(Exception):
    pass


def _refuse(status: int, reason: str, source: str) -> JSONResponse:
    log.warning("intake.refused", source=source, status=status, reason=reason)
    return JSONResponse({"ok": False, "error": reason}, status_code=status)


def _source(settings: Any, name: str) -> SourceConfig | None:
    return next((c for c in settings.file.source if c.name == name and c.kind == "push" and c.enabled), None)


def _key(settings: Any, cfg: SourceConfig) -> str | None:
    assert cfg.push is not None
    name = cfg.push.key_secret
    return settings.secret(name) or read_secret(name)


async def _read(request: Request, limit: int) -> bytes:
    """The body, but never more than ``limit`` bytes held in memory (a lying Content-Length included)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def bearer_ok(header: str | None, key: str) -> bool:
    scheme, _, token = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())


def signature_ok(header: str | None, key: str, body: bytes) -> bool:
    """``sha256=<hex>`` (GitHub's form) or bare hex of HMAC-SHA256(key, body)."""
    got = (header or "").strip()
    if got.lower().startswith("sha256="):
        got = got[7:]
    want = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(got.lower().encode(), want.encode())


def _as_document(body: bytes, cfg: SourceConfig) -> bytes:
    """A vendor posting one item as a bare object gets the same mapping as a list of one."""
    doc = json.loads(body)
    items_path = cfg.mapping.items if cfg.mapping is not None else ""
    if isinstance(doc, dict) and not items_path and not isinstance(doc.get("items"), list):
        return json.dumps([doc], ensure_ascii=False).encode("utf-8")
    return body


async def intake(request: Request) -> JSONResponse:
    console = request.app.state.console
    name = request.path_params["source"]
    cfg = _source(console.settings, name)
    if cfg is None:
        return _refuse(404, f"没有名为 {name!r} 的推送信息源", name)
    assert cfg.push is not None
    key = _key(console.settings, cfg)
    if not key:
        return _refuse(503, f"推送信息源 {name} 的密钥 {cfg.push.key_secret!r} 未配置", name)
    if cfg.push.auth == "bearer" and not bearer_ok(request.headers.get("authorization"), key):
        return _refuse(401, "认证失败：Authorization: Bearer 令牌不正确", name)
    try:
        body = await _read(request, cfg.push.max_bytes)
    except TooLarge:
        return _refuse(413, f"请求体超过 {cfg.push.max_bytes} 字节上限", name)
    if cfg.push.auth == "hmac" and not signature_ok(request.headers.get(cfg.push.header), key, body):
        return _refuse(401, f"认证失败：{cfg.push.header} 中的 HMAC-SHA256 签名不正确", name)
    try:
        doc = _as_document(body, cfg)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        return _refuse(400, f"JSON 无效：{getattr(exc, 'msg', type(exc).__name__)}", name)
    now = console.clock()
    res = parse_feed(doc, content_type="application/json", kind="json", mapping=cfg.mapping, now=now)
    if not res.items:
        reason = res.reason or "没有条目"
        detail = list(res.rejects[:20])
        log.warning("intake.refused", source=name, status=400, reason=reason, rejects=detail)
        return JSONResponse({"ok": False, "error": reason, "rejects": detail}, status_code=400)
    ready, _held = settle_dates(res.items, now, replay=False)
    status = "partial" if res.rejects else ("damaged" if res.status == "damaged" else "ok")
    report = await run_in_threadpool(
        store_poll, console.engine, cfg, now=now, status=status, reason=res.reason if status != "ok" else None,
        items=ready, rejects=tuple(res.rejects), damage=tuple(res.damage))
    log.info("intake.stored", source=name, **report.counts())
    if report.new or report.attached or report.release:
        hook = getattr(request.app.state, "on_intake", None)
        if hook is not None:
            hook()  # inside `responder run`: open cases now rather than at the next safety tick
    return JSONResponse({"ok": True, "status": status, **report.counts(), "rejects": list(res.rejects[:20])})


def routes() -> list[Route]:
    return [Route("/intake/{source}", intake, methods=["POST"])]
