"""Read-only pages and the login/logout forms."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from responder.data import RELEASE_KINDS
from responder.timeutil import fmt_bj
from responder.web import csrf, queries
from responder.web.app import Console, login_required
from responder.web.auth import AccountError, Person, login


def _safe_next(value: str | None) -> str:
    """Only a local path: ``//evil`` and ``https://…`` would make the login form an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/cases"
    return value


async def login_page(request: Request) -> Response:
    console: Console = request.app.state.console
    if request.method == "GET":
        return console.page(request, "login.html", {"next": _safe_next(request.query_params.get("next")), "error": None,
                                                    "name": ""})
    form = await request.form()
    nxt = _safe_next(str(form.get("next") or ""))
    if not csrf.valid(request.session, form):
        return console.page(request, "login.html", {"next": nxt, "name": "", "error": "表单已失效，请重新提交。"}, status=403)
    name, password = str(form.get("name") or ""), str(form.get("password") or "")
    address = request.client.host if request.client else ""
    try:
        person = await run_in_threadpool(login, console.engine, console.web, name=name, password=password,
                                         address=address, now=console.clock())
    except AccountError as exc:
        return console.page(request, "login.html", {"next": nxt, "name": name, "error": str(exc)}, status=401)
    request.session.clear()  # a fresh session (and CSRF token) after login: no fixation
    request.session.update({"uid": person.id, "stamp": person.stamp})
    csrf.token(request.session)
    return RedirectResponse(nxt, status_code=303)


async def logout(request: Request) -> Response:
    console: Console = request.app.state.console
    form = await request.form()
    if not csrf.valid(request.session, form):
        return console.error(request, 403, "表单已失效（缺少或错误的 CSRF 令牌），请刷新页面后重试。")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def home(request: Request) -> Response:
    return RedirectResponse("/cases", status_code=303)


@login_required
async def cases(request: Request, console: Console, person: Person) -> Response:
    try:
        page = int(request.query_params.get("page", "1"))
    except ValueError:
        page = 1
    now = console.clock()
    data = await run_in_threadpool(queries.case_list, console.engine, console.settings, person, now, page=page)
    props = await run_in_threadpool(queries.all_proposals, console.engine, console.settings, person)
    return console.page(request, "cases.html", {"data": data, "proposals": props})


def release_defaults(console: Console) -> dict[str, str]:
    return {"url": "", "kind": RELEASE_KINDS[0], "at": fmt_bj(console.clock(), "%Y-%m-%dT%H:%M"), "title": ""}


async def case_page(request: Request, console: Console, person: Person, case_id: int, *, errors: dict | None = None,
                    values: dict | None = None, status: int = 200) -> Response:
    d = await run_in_threadpool(queries.case_detail, console.engine, console.settings, person, case_id)
    if d is None:
        return console.error(request, 404, f"案件 {case_id} 不存在，或不属于您的单位。")
    now = console.clock()
    vals = {"release": release_defaults(console), "ack": {"note": ""}, "reclassify": {"level": d["case"].level or "none",
            "reason": ""}, "close": {"kind": "resolved", "reason": "", "duplicate_of": ""}, "reject": {"reason": ""}}
    for k, v in (values or {}).items():
        vals[k] = vals.get(k, {}) | v
    return console.page(request, "case.html", {"d": d, "c": d["case"], "now": now, "errors": errors or {},
                                               "values": vals, "release_kinds": RELEASE_KINDS}, status=status)


@login_required
async def case(request: Request, console: Console, person: Person) -> Response:
    return await case_page(request, console, person, request.path_params["case_id"])


@login_required
async def outbox(request: Request, console: Console, person: Person) -> Response:
    status = request.query_params.get("status") or None
    rows = await run_in_threadpool(queries.outbox, console.engine, console.settings, person, status=status)
    return console.page(request, "outbox.html", {"rows": rows, "status": status})


@login_required
async def sources(request: Request, console: Console, person: Person) -> Response:
    rows = await run_in_threadpool(queries.sources, console.engine, console.settings, console.clock())
    return console.page(request, "sources.html", {"rows": rows})


@login_required
async def plan(request: Request, console: Console, person: Person) -> Response:
    m = await run_in_threadpool(queries.plan_matrix, console.engine, console.settings, person, console.clock())
    return console.page(request, "plan.html", {"m": m})


@login_required
async def reports(request: Request, console: Console, person: Person) -> Response:
    rows = await run_in_threadpool(queries.reports, console.engine, console.settings)
    return console.page(request, "reports.html", {"rows": rows})


@login_required
async def report_file(request: Request, console: Console, person: Person) -> Response:
    p = await run_in_threadpool(queries.report_file, console.engine, console.settings, request.path_params["week"],
                                request.path_params["name"])
    if p is None:
        return console.error(request, 404, "没有这个文件。")
    # Served as a download: an archived HTML log must not run in the console's origin.
    return FileResponse(p, filename=p.name, content_disposition_type="attachment")


@login_required
async def audit(request: Request, console: Console, person: Person) -> Response:
    st = await run_in_threadpool(queries.audit_state, console.engine)
    return console.page(request, "audit.html", {"st": st})


async def healthz(request: Request) -> Response:
    return Response("ok\n", media_type="text/plain")


def routes() -> list[Route]:
    return [
        Route("/", home), Route("/login", login_page, methods=["GET", "POST"]), Route("/logout", logout, methods=["POST"]),
        Route("/cases", cases), Route("/cases/{case_id:int}", case), Route("/outbox", outbox),
        Route("/sources", sources), Route("/plan", plan), Route("/reports", reports),
        Route("/reports/{week}/{name}", report_file), Route("/audit", audit), Route("/healthz", healthz),
    ]
