"""``responder status``: open cases with their next deadline, overdue first, in Beijing time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from responder.cli.common import clip, echo_json, load_settings, open_engine, pad
from responder.cli.timeparse import TIME
from responder.models import Case, Clock, Meta
from responder.timeutil import fmt_bj, fmt_duration, iso_utc, utcnow

STATE_LABELS = {"running": "计时中", "overdue": "已超时", "met": "按时完成", "met_late": "超时完成", "cancelled": "已取消"}


def collect(engine: Engine, now: dt.datetime, limit: int = 500) -> dict[str, Any]:
    """Open cases with their open clocks, overdue first, then by nearest deadline."""
    with Session(engine) as s:
        cases = s.exec(select(Case).where(Case.state == "open").limit(limit)).all()
        ids = [c.id for c in cases]
        clocks = s.exec(select(Clock).where(Clock.case_id.in_(ids), Clock.state.in_(("running", "overdue"))))\
            .all() if ids else []
        meta = {m.key: m for m in s.exec(select(Meta)).all()}
    by_case: dict[int, list[Clock]] = {}
    for c in clocks:
        by_case.setdefault(c.case_id, []).append(c)
    rows = []
    for case in cases:
        cl = sorted(by_case.get(case.id, []), key=lambda c: c.deadline_at)
        nearest = cl[0] if cl else None
        rows.append({
            "case_id": case.id, "title": case.title, "level": case.level, "level_name": case.level_name,
            "clock": case.clock_class, "department": case.department, "needs_review": case.needs_review,
            "acked": case.acked_at is not None,
            "obligation": nearest.policy.get("label") if nearest else None,
            "deadline_at": iso_utc(nearest.deadline_at) if nearest else None,
            "seconds_left": int((nearest.deadline_at - now).total_seconds()) if nearest else None,
            "overdue": bool(nearest and nearest.deadline_at <= now),
            "next_action_at": iso_utc(min((c.next_action_at for c in cl if c.next_action_at), default=None)),
            "clocks": [{"id": c.id, "obligation": c.obligation, "state": c.state, "deadline_at": iso_utc(c.deadline_at)} for c in cl],
            "reasons": case.reasons,
        })
    rows.sort(key=lambda r: (not r["overdue"], r["seconds_left"] if r["seconds_left"] is not None else 10**12))
    engine_run = meta.get("engine_last_run")
    check = meta.get("self_check")
    check_at, _, check_result = (check.value.partition("|") if check else ("", "", ""))
    return {
        "now": iso_utc(now), "open_cases": len(rows), "overdue": sum(1 for r in rows if r["overdue"]),
        "needs_review": sum(1 for r in rows if r["needs_review"]),
        "engine_last_run": engine_run.value if engine_run else None,
        "self_check": {"at": check_at or None, "ok": check_result == "ok" if check else None,
                       "problems": [] if not check or check_result == "ok" else check_result.split("；")},
        "cases": rows,
    }


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--as-of", type=TIME, default=None, help="Evaluate at this time instead of now (e.g. a demo's virtual time).")
@click.pass_context
def status(ctx: click.Context, as_json: bool, as_of: dt.datetime | None) -> None:
    """Open cases with time left and the next step, overdue first (Beijing time)."""
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
