"""The console's ASGI application: ``create_app(settings, engine)``.

The same app runs inside ``responder run`` (when ``[web] listen`` is set) and
as its own ``responder web`` process; the database is the only shared state,
so the two are interchangeable. Handlers are async only to read the form: the
database work runs in the thread pool (``run_in_threadpool``), so a slow query
never holds the event loop that also runs the clocks.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import structlog
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from responder.timeutil import utcnow
from responder.web import csrf
from responder.web.auth import ROLES, Person, load_person
from responder.web.render import default_templates_dir, render

log = structlog.get_logger("responder.web")

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                 b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


@dataclass
class Console:
    """What every handler needs: configuration, database, clock, templates."""

    settings: Any
    engine: Any
    clock: Callable[[], dt.datetime] = utcnow
    templates_dir: Path = field(default_factory=default_templates_dir)
    proxies: tuple[Any, ...] = ()

    @property
    def web(self) -> Any:
        return self.settings.file.web

    def page(self, request: Request, name: str, ctx: dict[str, Any], *, status: int = 200,
             person: Person | None = None) -> HTMLResponse:
        person = person or request.scope.get("person")
        base = {"person": person, "roles": ROLES, "csrf_field": csrf.FIELD, "csrf": csrf.token(request.session),
                "county": self.settings.file.service.county, "now": self.clock(), "path": request.url.path,
                "flash": request.session.pop("flash", None), "live": self.clock is utcnow}
        return HTMLResponse(render(name, base | ctx, self.templates_dir), status_code=status)

    def error(self, request: Request, status: int, message: str) -> HTMLResponse:
        return self.page(request, "error.html", {"message": message, "status": status}, status=status)

    def trusted_proxy(self, host: str | None) -> bool:
        if not host or not self.proxies:
            return False
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(addr in net for net in self.proxies)

    async def person(self, request: Request) -> Person | None:
        """The proxy's header from a listed proxy address, else the signed session; None: not logged in."""
        client = request.client.host if request.client else None
        if self.trusted_proxy(client):
            name = request.headers.get(self.web.proxy_user_header)
            if name:
                return await run_in_threadpool(load_person, self.engine, name=name.strip())
        uid, stamp = request.session.get("uid"), request.session.get("stamp")
        if uid is None:
            return None
        p = await run_in_threadpool(load_person, self.engine, int(uid))
        if p is None or p.stamp != stamp:
            request.session.pop("uid", None)
            return None
        return p


class SecurityHeaders:
    """Adds a strict CSP and friends to every response (no inline script can run, even if one slipped in)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def login_required(fn: Callable) -> Callable:
    """Resolve the person (or send to the login page) before the handler runs."""

    async def wrapper(request: Request) -> Response:
        console: Console = request.app.state.console
        person = await console.person(request)
        if person is None:
            if request.method == "GET":
                nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={_quote(nxt)}", status_code=303)
            return console.error(request, 401, "未登录或会话已过期，请重新登录。")
        request.scope["person"] = person
        return await fn(request, console, person)

    wrapper.__name__ = fn.__name__
    return wrapper


def _quote(s: str) -> str:
    from urllib.parse import quote

    return quote(s, safe="/")


def secret_key(settings: Any) -> str:
    """The ``web.secret_key_secret`` secret; without it a random key (sessions end when the process does)."""
    from responder.config import read_secret

    name = settings.file.web.secret_key_secret
    key = settings.secret(name) or (read_secret(name) if name else None)
    if key:
        return key
    log.warning("web.ephemeral_secret", secret=name,
                note="no session secret configured: sessions end at restart and are not shared between processes")
    return secrets.token_urlsafe(48)


def create_app(settings: Any, engine: Any, *, clock: Callable[[], dt.datetime] = utcnow, key: str | None = None,
               templates_dir: Path | None = None, on_intake: Callable[[], Any] | None = None) -> Any:
    from responder.web import actions, intake, join_views, ledger_views, links, replies, request_views, views

    web = settings.file.web
    proxies = tuple(ipaddress.ip_network(p, strict=False) for p in web.trusted_proxies)
    console = Console(settings, engine, clock, templates_dir or default_templates_dir(), proxies)
    routes = (views.routes() + actions.routes() + intake.routes() + links.routes() + replies.routes()
              + ledger_views.routes() + request_views.routes() + join_views.routes())
    static_dir = console.templates_dir / "static"
    from starlette.routing import Mount

    routes.append(Mount("/static", app=StaticFiles(directory=str(static_dir)), name="static"))
    middleware = [Middleware(SessionMiddleware, secret_key=key or secret_key(settings), session_cookie="responder_session",
                             max_age=web.session_hours * 3600, same_site="lax", https_only=web.cookie_secure)]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.console = console
    app.state.on_intake = on_intake
    return SecurityHeaders(app)
