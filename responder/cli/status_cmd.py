"""``responder status``: open cases with their next deadline, overdue first, in Beijing time."""

from __future__ import annotations

import datetime as dt

import click

from responder.cli.common import clip, echo_json, load_settings, open_engine, pad
from responder.cli.timeparse import TIME
from responder.timeutil import fmt_bj, fmt_duration, utcnow


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--as-of", type=TIME, default=None, help="Evaluate at this time instead of now (e.g. a demo's virtual time).")
@click.pass_context
def status(ctx: click.Context, as_json: bool, as_of: dt.datetime | None) -> None:
    """Open cases with time left and the next step, overdue first (Beijing time)."""
    from responder.service.status import collect

    settings = load_settings(ctx)
    engine = open_engine(settings)
    now = as_of or utcnow()
    data = collect(engine, now)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{settings.file.service.county} 舆情回应 — {fmt_bj(now)}（北京时间）")
    click.echo(f"未结案件 {data['open_cases']} 件，其中已超时 {data['overdue']} 件，待人工确认 {data['needs_review']} 件")
    last = data["engine_last_run"]
    click.echo(f"引擎最近运行：{fmt_bj(dt.datetime.fromisoformat(last.replace('Z', '+00:00'))) if last else '从未运行'}；"
               + ("自检正常" if data["self_check"]["ok"] else "自检未运行" if data["self_check"]["ok"] is None
                  else "自检发现问题：" + "；".join(data["self_check"]["problems"])))
    if not data["cases"]:
        return
    click.echo("")
    cols = (("案件", 6), ("级别", 5), ("待办", 22), ("截止（北京）", 13), ("剩余", 15), ("责任部门", 16))
    click.echo("".join(pad(h, w) for h, w in cols) + "标题")
    for r in data["cases"]:
        dl = dt.datetime.fromisoformat(r["deadline_at"].replace("Z", "+00:00")) if r["deadline_at"] else None
        left = "—" if r["seconds_left"] is None else ("超时" + fmt_duration(-r["seconds_left"]) if r["overdue"] else fmt_duration(r["seconds_left"]))
        flags = ("⚑待确认 " if r["needs_review"] else "") + ("✓已签收 " if r["acked"] else "")
        cells = (f"#{r['case_id']}", r["level"] or "—", clip(r["obligation"] or "—", 20), fmt_bj(dl, "%m-%d %H:%M"), left,
                 clip(r["department"] or "—", 14))
        click.echo("".join(pad(c, w) for c, (_h, w) in zip(cells, cols)) + flags + clip(r["title"], 40))

COMMANDS = [status]
