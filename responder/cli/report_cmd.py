"""``responder report weekly`` and ``responder audit verify``: the log on demand, and proof of the history.

Thin shell: read the clock once (only to pick the default week), call
:mod:`responder.report` or :mod:`responder.audit`, print. ``report weekly``
only reads the database: the archived copy and its ``weekly_report`` row are
the Monday job's (``responder run``), and a log made here for a past week is
byte-for-byte the one the job archived.
"""

from __future__ import annotations

from pathlib import Path

import click

from responder.cli.common import echo_json, fail, load_settings, open_engine, write_file


@click.group("report")
def report_group() -> None:
    """Weekly compliance logs (每周舆情回应合规日志) and the response ledger (回应台账)."""


@report_group.command("weekly")
@click.option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2022-W30 (Monday–Sunday, Beijing time). "
              "Default: the last complete week.")
@click.option("--format", "formats", type=click.Choice(["html", "csv", "md", "xlsx"]), multiple=True,
              help="Output format; repeat for several. Default: [report] formats of responder.toml.")
@click.option("--out", "out_dir", metavar="DIR", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Directory to write the files into (created if missing).")
@click.option("--json", "as_json", is_flag=True, help="Print the written files and the figures as JSON.")
@click.pass_context
def report_weekly(ctx: click.Context, week: str | None, formats: tuple[str, ...], out_dir: str, as_json: bool) -> None:
    """Write the weekly compliance log of any week to DIR."""
    from sqlmodel import Session

    from responder.report import ReportRenderError, WeekError, render_weekly, week_bounds, weekly_figures
    from responder.timeutil import utcnow

    settings = load_settings(ctx)
    try:
        wk, start, end = week_bounds(week, utcnow())
    except WeekError as exc:
        fail(str(exc))
    if end > utcnow():
        fail(f"week {wk} is not over yet (it ends {end.isoformat()}): its log would change")
    engine = open_engine(settings)
    with Session(engine) as s:
        figures = weekly_figures(s, settings, start, end)
    files: dict[str, bytes] = {}
    for fmt in formats or tuple(settings.file.report.formats):
        try:
            files.update(render_weekly(figures, fmt))
        except ReportRenderError as exc:
            fail(str(exc))
    out = Path(out_dir)
    written = []
    for name, content in files.items():
        write_file(out / name, content)
        written.append(str(out / name))
    if as_json:
        echo_json({"week": wk, "files": written, "summary": figures["summary"], "figures": figures})
        return
    click.echo(f"{wk}（{figures['period']}）")
    click.echo(figures["summary"])
    for w in written:
        click.echo(f"  {w}")


@report_group.command("ledger")
@click.option("--from", "date_from", required=True, metavar="YYYY-MM-DD", help="First day (Beijing date, inclusive).")
@click.option("--to", "date_to", required=True, metavar="YYYY-MM-DD", help="Last day (Beijing date, inclusive).")
@click.option("--unit", metavar="ID", help="Only matters led by, or obligations routed to, this unit.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "html", "json"]), default="xlsx", show_default=True,
              help="json prints one object {period, rows, summary} to stdout (and writes a file only with --out).")
@click.option("--out", "out_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Directory to write the files into (created if missing). Default: the current directory.")
@click.pass_context
def report_ledger(ctx: click.Context, date_from: str, date_to: str, unit: str | None, fmt: str, out_dir: str | None) -> None:
    """The response ledger (回应台账) of any period: one row per matter, rates in total and per unit, trend.

    A month, quarter or year given by its first and last day is named as such
    (and compared with the previous month, quarter or year). A period that is
    not over yet is allowed but says so: its figures will still change.
    """
    import json

    from sqlmodel import Session

    from responder.report.ledger import LedgerError, ledger_for, parse_period
    from responder.report.ledger_render import render_ledger
    from responder.report.render import ReportRenderError
    from responder.timeutil import utcnow

    settings = load_settings(ctx)
    try:
        period = parse_period(date_from, date_to)
    except LedgerError as exc:
        fail(str(exc))
    engine = open_engine(settings)
    try:
        with Session(engine) as s:
            lg = ledger_for(s, settings, period, unit=unit)
    except LedgerError as exc:
        fail(str(exc))
    if period.end > utcnow():
        click.echo(f"注意 / note: {period.label} is not over yet (it ends {period.end.isoformat()}): figures will change",
                   err=True)
    if fmt == "json":
        click.echo(json.dumps(lg, ensure_ascii=False))
        if out_dir is None:
            return
    try:
        files = render_ledger(lg, fmt)
    except ReportRenderError as exc:
        fail(str(exc))
    out = Path(out_dir or ".")
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_bytes(content)
    if fmt != "json":
        click.echo(lg["summary"]["text"])
        for name in files:
            click.echo(f"  {out / name}")


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail (SHA-256 hash chain)."""


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def audit_verify(ctx: click.Context, as_json: bool) -> None:
    """Walk the whole chain; name the first event that does not fit (exit 1 then)."""
    from sqlmodel import Session

    from responder import audit

    settings = load_settings(ctx)
    engine = open_engine(settings)
    with Session(engine) as s:
        r = audit.verify(s)
    if as_json:
        echo_json({"ok": r.ok, "checked": r.checked, "head_seq": r.head_seq, "head_hash": r.head_hash,
                   "first_bad_seq": r.first_bad_seq, "first_bad_id": r.first_bad_id, "problem": r.problem})
    elif r.ok:
        click.echo(f"审计链完好 / audit chain OK: {r.checked} events, head #{r.head_seq} {r.head_hash}")
    else:
        click.echo(f"审计链被改动 / audit chain BROKEN at event seq {r.first_bad_seq} (id {r.first_bad_id}): {r.problem}",
                   err=True)
        click.echo(f"  {r.checked} events before it verified; last good hash {r.head_hash}", err=True)
    if not r.ok:
        ctx.exit(1)


COMMANDS = [report_group, audit_group]
