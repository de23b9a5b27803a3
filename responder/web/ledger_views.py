"""The response ledger (回应台账) in the console: the month-end archives and a ledger for any period (issue 18).

Why here and not in the report package: the figures come from the same
``ledger_for`` and ``render_ledger`` as ``responder report ledger``, so a file
from the console is byte-identical to the CLI's for the same period, unit and
format. The monthly archives are county-wide, so a liaison does not see them;
a liaison may build a ledger, always of their own unit (the CLI's ``--unit``
forced to theirs, whatever the form says).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from responder.report.ledger import LedgerError, ledger_for, parse_period
from responder.report.ledger_job import ledger_archive_file, list_ledger_archives
from responder.report.ledger_render import base_name, render_ledger
from responder.report.render import ReportRenderError
from responder.timeutil import fmt_bj
from responder.web import csrf
from responder.web.app import Console, login_required
from responder.web.auth import Person

FORMATS = ("xlsx", "csv", "html", "json")
"""The formats of ``responder report ledger --format``."""


def may_see_archives(person: Person) -> bool:
    return person.role in ("operator", "leader")


def _archives(console: Console) -> list[dict[str, Any]]:
    """Each archived file checked against its recorded SHA-256 when the page is drawn: a changed file is flagged."""
    with Session(console.engine) as s:
        rows = list_ledger_archives(s)
        for r in rows:
            r["generated"] = dt.datetime.fromisoformat(r["generated_at"].replace("Z", "+00:00"))
            for f in r["files"]:
                got = ledger_archive_file(s, r["month"], f["name"])
                f["state"] = "missing" if got is None else ("ok" if got[1] else "changed")
    return rows


def _units(console: Console) -> list[tuple[str, str]]:
    return [(u.id, u.name) for u in console.settings.units]


def _defaults(console: Console) -> dict[str, str]:
    """Last month, the period offices ask for most often."""
    today = dt.date.fromisoformat(fmt_bj(console.clock(), "%Y-%m-%d"))
    last = today.replace(day=1) - dt.timedelta(days=1)
    return {"from": last.replace(day=1).isoformat(), "to": last.isoformat(), "unit": "", "format": "xlsx"}


async def _page(request: Request, console: Console, person: Person, *, error: str | None = None,
                values: dict[str, str] | None = None, status: int = 200) -> Response:
    archives = await run_in_threadpool(_archives, console) if may_see_archives(person) else None
    vals = _defaults(console) | (values or {})
    if person.role == "liaison":
        vals["unit"] = person.unit_id or ""
    return console.page(request, "ledgers.html", {"archives": archives, "values": vals, "error": error,
                                                  "formats": FORMATS, "units": _units(console)}, status=status)


@login_required
async def ledgers(request: Request, console: Console, person: Person) -> Response:
    return await _page(request, console, person)


@login_required
async def archive_file(request: Request, console: Console, person: Person) -> Response:
    if not may_see_archives(person):
        return console.error(request, 403, "月度台账是全县的台账，单位联络员只能生成本单位的台账。")
    month, name = request.path_params["month"], request.path_params["name"]

    def read() -> tuple[bytes, bool] | None:
        with Session(console.engine) as s:
            return ledger_archive_file(s, month, name)

    got = await run_in_threadpool(read)
    if got is None:
        return console.error(request, 404, "没有这个文件。")
    data, intact = got
    headers = {"content-disposition": _attachment(name), "x-ledger-sha256-match": "yes" if intact else "no"}
    # A download, never rendered in the console's origin (the HTML ledger carries feed text).
    return Response(data, media_type="application/octet-stream", headers=headers)


def _attachment(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename*=utf-8''{quote(name)}"


def build(console: Console, date_from: str, date_to: str, unit: str | None, fmt: str) -> tuple[str, bytes]:
    """The same calls as ``responder report ledger``; several CSV tables come as one zip."""
    period = parse_period(date_from, date_to)
    with Session(console.engine) as s:
        lg = ledger_for(s, console.settings, period, unit=unit)
    files = render_ledger(lg, fmt)
    if len(files) == 1:
        return next(iter(files.items()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content)
    return f"{base_name(lg)}-{fmt}.zip", buf.getvalue()


@login_required
async def build_ledger(request: Request, console: Console, person: Person) -> Response:
    form = await request.form()
    if not csrf.valid(request.session, form):
        return console.error(request, 403, "表单已失效（缺少或错误的 CSRF 令牌）。请刷新页面后重试。")
    values = {k: str(form.get(k) or "").strip() for k in ("from", "to", "unit", "format")}
    unit: str | None = values["unit"] or None
    if person.role == "liaison":
        unit = person.unit_id  # a liaison's ledger is their unit's, whatever the form says
    fmt = values["format"]
    if fmt not in FORMATS:
        return await _page(request, console, person, error=f"格式应为 {'、'.join(FORMATS)}", values=values, status=400)
    try:
        name, data = await run_in_threadpool(build, console, values["from"], values["to"], unit, fmt)
    except (LedgerError, ReportRenderError) as exc:
        return await _page(request, console, person, error=str(exc), values=values, status=400)
    from responder.web.app import log

    log.info("web.ledger_built", user=person.name, date_from=values["from"], date_to=values["to"], unit=unit, format=fmt)
    return Response(data, media_type="application/octet-stream", headers={"content-disposition": _attachment(name)})


def routes() -> list[Route]:
    return [Route("/ledgers", ledgers), Route("/ledgers/build", build_ledger, methods=["POST"]),
            Route("/ledgers/{month}/{name}", archive_file)]
