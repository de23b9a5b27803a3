"""``responder plan done|status|experience|schedule``: the implementation plan's progress by hand.

Thin shell: parse, read the clock once, call :mod:`responder.plan`, print.
UNIT accepts a unit id (``renli``) or its Chinese name (``仁里镇``).
"""

from __future__ import annotations

import click

from responder.cli.common import TEXT, echo_json, fail, load_settings, open_engine

MARK = {"done": "✓", "due": "·", "overdue": "!", "upcoming": " ", "n/a": "-"}
WORD = {"done": "已完成", "due": "待完成", "overdue": "已逾期", "upcoming": "未开始", "n/a": "不适用"}


def _plan(settings):
    from responder.plan.load import PlanError, plan_from_settings

    try:
        plan = plan_from_settings(settings)
    except PlanError as exc:
        fail(str(exc))
    if plan is None:
        fail(f"{settings.path}: data.plan is empty: no implementation plan is configured")
    return plan


@click.group("plan")
def plan_group() -> None:
    """Implementation plan (石政公办〔2022〕1号): record progress, show the matrix, schedule reminders."""


@plan_group.command("done")
@click.argument("unit")
@click.argument("requirement")
@click.option("--evidence", type=TEXT, metavar="URL", help="Where the work can be seen (http/https).")
@click.option("--note", type=TEXT, help="A remark kept with the record.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def plan_done(ctx: click.Context, unit: str, requirement: str, evidence: str | None, note: str | None,
              as_json: bool) -> None:
    """Mark REQUIREMENT (a number such as 23, or a deliverable such as work_plan) done for UNIT."""
    from responder.plan import PlanError, record_done
    from responder.timeutil import fmt_bj, iso_utc, utcnow

    s = load_settings(ctx)
    plan = _plan(s)
    engine = open_engine(s)
    try:
        r = record_done(engine, s, plan, unit, requirement, now=utcnow(), evidence=evidence, note=note)
    except PlanError as exc:
        fail(str(exc))
    row = r.row
    if as_json:
        echo_json({"status": r.status, "plan": plan.id, "unit": row.unit_id, "requirement": row.requirement,
                   "done_at": iso_utc(row.done_at), "evidence": row.evidence, "note": row.note})
        return
    name = plan.unit(row.unit_id).name
    verb = {"created": "已记录", "updated": "已更新", "unchanged": "此前已记录"}[r.status]
    click.echo(f"{verb}：{name}（{row.unit_id}）第{row.requirement}项 完成于 {fmt_bj(row.done_at)}"
               if row.requirement.isdigit() else
               f"{verb}：{name}（{row.unit_id}）{row.requirement} 完成于 {fmt_bj(row.done_at)}")


@plan_group.command("experience")
@click.argument("unit")
@click.option("--title", type=TEXT, required=True, help="Title of the featured experience (工作经验).")
@click.option("--url", type=TEXT, required=True, help="Where it is published (监督保障—专项工作).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def plan_experience(ctx: click.Context, unit: str, title: str, url: str, as_json: bool) -> None:
    """Record a featured work experience published by UNIT (四、（四）)."""
    from responder.plan import PlanError, record_experience
    from responder.timeutil import iso_utc, utcnow

    s = load_settings(ctx)
    plan = _plan(s)
    engine = open_engine(s)
    try:
        r = record_experience(engine, s, plan, unit, title=title, url=url, now=utcnow())
    except PlanError as exc:
        fail(str(exc))
    row = r.row
    if as_json:
        echo_json({"status": r.status, "plan": plan.id, "unit": row.unit_id, "title": row.title, "url": row.url,
                   "recorded_at": iso_utc(row.recorded_at)})
        return
    verb = "已记录" if r.status == "created" else "此前已记录"
    click.echo(f"{verb}：{plan.unit(row.unit_id).name} 工作经验《{row.title}》 {row.url}")


@plan_group.command("status")
@click.option("--unit", help="One unit (id or Chinese name): list its items.")
@click.option("--phase", help="One phase (id or name): only what it requires.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def plan_status(ctx: click.Context, unit: str | None, phase: str | None, as_json: bool) -> None:
    """Units × requirements: done (✓), due (·), overdue (!), not yet begun (blank), not applicable (-)."""
    from sqlmodel import Session

    from responder.plan import PlanError, status_matrix
    from responder.timeutil import fmt_bj, utcnow

    s = load_settings(ctx)
    plan = _plan(s)
    engine = open_engine(s)
    now = utcnow()
    try:
        with Session(engine) as session:
            m = status_matrix(session, plan, now, unit=unit, phase=phase)
    except PlanError as exc:
        fail(str(exc))
    if as_json:
        echo_json(m)
        return
    click.echo(f"{plan.name}  截至 {fmt_bj(now)}（北京时间）")
    for p in m["phases"]:
        state = {"ended": "已结束", "running": f"进行中，剩余{p['days_left']}天", "upcoming": "未开始"}[p["state"]]
        click.echo(f"  {p['name']}（{p['id']}）{p['start']} — {p['end']}  {state}")
    click.echo("")
    if unit is not None:
        row = m["rows"][0]
        click.echo(f"{row['unit_name']}（{row['unit_id']}）")
        for col in m["columns"]:
            st = row["cells"][col["no"]]
            label = f"第{col['no']}项" if col["no"].isdigit() else col["no"]
            click.echo(f"  {MARK[st]} {label:<14} {WORD[st]:<4} 截止 {col['deadline']}  {col['text'][:40]}")
        c = row["counts"]
        click.echo(f"合计：已完成 {c['done']}  待完成 {c['due']}  已逾期 {c['overdue']}  未开始 {c['upcoming']}")
        return
    cols = m["columns"]
    heads = [c["no"] if c["no"].isdigit() else c["no"][:2] for c in cols]
    width = max(len(u["unit_name"]) for u in m["rows"]) * 2 + 2
    click.echo(" " * width + " ".join(h[-2:].rjust(2) for h in heads) + "   完成 待办 逾期")
    for row in m["rows"]:
        name = row["unit_name"]
        pad = " " * (width - len(name) * 2)
        cells = " ".join(MARK[row["cells"][c["no"]]].rjust(2) for c in cols)
        c = row["counts"]
        click.echo(f"{name}{pad}{cells}   {c['done']:>4} {c['due']:>4} {c['overdue']:>4}")
    click.echo("✓ 已完成  · 待完成  ! 已逾期  空白 未开始  - 不适用")
    abbrev = [f"{c['no'][:2]}={c['no']}" for c in cols if not c["no"].isdigit()]
    if abbrev:
        click.echo("列 columns: 数字为附件1序号；" + "  ".join(abbrev))


@plan_group.command("schedule")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def plan_schedule(ctx: click.Context, as_json: bool) -> None:
    """Create the plan's missing reminder clocks now (the service also does this at every start)."""
    from responder.plan import schedule_plan
    from responder.timeutil import utcnow

    s = load_settings(ctx)
    plan = _plan(s)
    engine = open_engine(s)
    n = schedule_plan(engine, s, plan, utcnow())
    if as_json:
        echo_json({"plan": plan.id, "created": n})
    else:
        click.echo(f"{plan.name}：新建提醒时钟 {n} 个" + ("（均已存在）" if n == 0 else ""))


COMMANDS = [plan_group]
