"""``responder request``: disclosure requests (依申请公开) counted in working days (issue 19)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from sqlmodel import Session, select

from responder.cli.case_cmd import actor_option
from responder.cli.common import clip, data_paths, echo_json, fail, load_settings, open_engine, pad
from responder.timeutil import utcnow

DATE = click.DateTime(formats=["%Y-%m-%d"])
CASE = click.IntRange(1, 2**63 - 1)
"""A request number: a slip such as 2**70 is refused by the parser, not by the database."""


def _date(v: dt.datetime | None) -> dt.date | None:
    return v.date() if v is not None else None


def _run(fn: Any, *args: Any, **kw: Any) -> Any:
    from responder.disclosure.service import RequestError

    try:
        return fn(*args, **kw)
    except RequestError as exc:
        fail(str(exc))


@click.group("request", help="依申请公开：登记、期限（工作日）、延长、暂停、补正、答复（《政府信息公开条例》第30–36条）。")
def request_group() -> None:
    pass


@request_group.command("deadline")
@click.option("--received", type=DATE, required=True, help="收到申请之日 YYYY-MM-DD（第31条）.")
@click.option("--days", type=click.IntRange(0, 200), default=None,
              help="Working days after the receipt day (default: requests.answer_days in policies.toml, 20 per 第33条).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def deadline_cmd(ctx: click.Context, received: dt.datetime, days: int | None, as_json: bool) -> None:
    """Compute a deadline by hand, without the database: the receipt day is not counted (民法典 第201条),
    the deadline is the end (24:00 Beijing) of the last working day; `calendar` says which calendar decided
    (`unknown`: a year no calendar covers, counted Monday–Friday without holidays: the earliest possible date)."""
    from responder.data import DataError
    from responder.disclosure.policy import RequestsPolicy
    from responder.disclosure.service import calendar_dir
    from responder.engine.policy import load_policies
    from responder.workdays import Calendar

    if not 2000 <= received.year <= 2200:
        fail(f"收到日期 {received.date()} 不在可计算的范围内（2000–2200年）")
    paths = data_paths(ctx)
    try:
        pol = load_policies(paths["policies"]).file.requests or RequestsPolicy()
    except DataError as exc:
        fail(str(exc))
    n = pol.answer_days if days is None else days
    cal = Calendar.from_dir(calendar_dir(paths["policies"], pol))
    count = cal.add_workdays(received.date(), n)
    out = {"received": received.date().isoformat(), "due_date": count.due_date.isoformat(), "working_days": n,
           "calendar": count.calendar}
    if as_json:
        echo_json(out)
        return
    click.echo(f"收到日期 {out['received']}，{n}个工作日，期限至 {out['due_date']} 24:00（北京时间）；日历：{count.calendar}")
    if count.calendar == "unknown":
        click.echo(f"注意：{'、'.join(map(str, count.unknown_years))}年放假安排尚未录入（{calendar_dir(paths['policies'], pol)}），"
                   "此为最早可能日期，录入后请重新计算。")


@request_group.command("add")
@click.option("--received", type=DATE, required=True, help="收到申请之日 YYYY-MM-DD（第31条）.")
@click.option("--channel", type=click.Choice(["当面", "邮寄", "网上", "传真"]), required=True,
              help="当面 (handed in) | 邮寄 (signed for) | 网上 / 传真 (both sides confirmed).")
@click.option("--applicant", default="", help="申请人.")
@click.option("--contact", default="", help="联系方式.")
@click.option("--description", default="", help="所需政府信息的描述.")
@click.option("--json", "as_json", is_flag=True)
@actor_option
@click.pass_context
def add_cmd(ctx: click.Context, received: dt.datetime, channel: str, applicant: str, contact: str, description: str,
            as_json: bool, actor: str) -> None:
    """Register a request and start its 20-working-day clock."""
    from responder.disclosure import service

    settings = load_settings(ctx)
    engine = open_engine(settings)
    req = _run(service.add_request, engine, settings, received=received.date(), channel=channel, now=utcnow(),
               applicant=applicant, contact=contact, description=description, actor=actor)
    _print_one(engine, settings, req.id, as_json)


def _print_one(engine: Any, settings: Any, rid: int, as_json: bool) -> None:
    from responder.disclosure.service import request_view
    from responder.models import DisclosureRequest

    with Session(engine) as s:
        req = s.get(DisclosureRequest, rid)
        if req is None:
            fail(f"申请 {rid} 不存在")
        v = request_view(s, req, settings)
    if as_json:
        echo_json(v)
        return
    click.echo(f"依申请公开 #{v['id']}  状态：{STATE_LABELS.get(v['state'], v['state'])}")
    click.echo(f"  收到：{v['received_on']}（{v['receipt_rule']}）")
    if v["count_from"] != v["received_on"]:
        click.echo(f"  重新起算：{v['count_from']}（补正后）")
    click.echo(f"  期限：{v['working_days']}个工作日，至 {v['due_date']} 24:00（北京时间）；日历：{v['calendar']}")
    if v["calendar_unknown"]:
        click.echo("  注意：所需年份的放假安排尚未录入，此为最早可能日期。")
    if v["extension"]:
        e = v["extension"]
        click.echo(f"  延长：{e['days']}个工作日（批准人：{e['approver']}；理由：{e['reason']}）")
    for p in v["pauses"]:
        click.echo(f"  暂停：{p['from']} 至 {p.get('to') or '（进行中）'}，征求{p['party']}意见：{p.get('reason', '')}")
    if v["correction"]:
        c = v["correction"]
        click.echo(f"  补正：{c['notified_on']} 通知（应于 {c['notice_due']} 前{'，已逾期' if c.get('late') else ''}）"
                   f"{'，' + c['received_on'] + ' 收到补正' if c.get('received_on') else ''}")
    else:
        click.echo(f"  补正通知期限：{v['correction_notice_due']}（第30条，7个工作日）")
    if v["answer_type"]:
        click.echo(f"  答复：{v['answered_on']} {v['answer_label']}（{'按时' if v['on_time'] else '超期'}）")
    if v["description"]:
        click.echo(f"  内容：{clip(' '.join(v['description'].split()), 70)}")


STATE_LABELS = {"open": "办理中", "paused": "暂停（征求意见）", "awaiting_correction": "待补正", "answered": "已答复",
                "withdrawn": "已撤回"}


@request_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include answered requests.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_cmd(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """Requests, earliest deadline first."""
    from responder.disclosure.service import request_view
    from responder.models import DisclosureRequest

    settings = load_settings(ctx)
    engine = open_engine(settings)
    with Session(engine) as s:
        q = select(DisclosureRequest)
        if not show_all:
            q = q.where(DisclosureRequest.state.in_(("open", "paused", "awaiting_correction")))
        rows = [request_view(s, r) for r in s.exec(q).all()]
    rows.sort(key=lambda v: (v["due_date"] or "9999", v["id"]))
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("没有办理中的申请。")
        return
    click.echo(pad("#", 6) + pad("状态", 18) + pad("收到", 12) + pad("期限", 12) + pad("日历", 9) + "申请人")
    for v in rows:
        click.echo(pad(str(v["id"]), 6) + pad(STATE_LABELS.get(v["state"], v["state"]), 18) + pad(v["received_on"], 12)
                   + pad(v["due_date"] or "—", 12) + pad(v["calendar"], 9) + clip(v["applicant"] or "", 20))


@request_group.command("show")
@click.argument("case", type=CASE)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show_cmd(ctx: click.Context, case: int, as_json: bool) -> None:
    """One request: dates, deadline, pauses, extension, correction, answer."""
    settings = load_settings(ctx)
    _print_one(open_engine(settings), settings, case, as_json)


@request_group.command("answer")
@click.argument("case", type=CASE)
@click.option("--type", "kind", required=True,
              type=click.Choice(["already_public", "disclosed", "refused", "not_exist", "not_ours", "repeat", "special"]),
              help="第36条: already_public 已主动公开 | disclosed 予以公开 | refused 不予公开 | not_exist 信息不存在 | "
                   "not_ours 非本机关负责公开 | repeat 不予重复处理 | special 按特别规定办理.")
@click.option("--on", type=DATE, default=None, help="Answer date (default: today, Beijing).")
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True)
@actor_option
@click.pass_context
def answer_cmd(ctx: click.Context, case: int, kind: str, on: dt.datetime | None, note: str, as_json: bool, actor: str) -> None:
    """Record the answer; it stops the clock (on time or late)."""
    from responder.disclosure import service

    settings = load_settings(ctx)
    engine = open_engine(settings)
    _run(service.answer, engine, settings, case, kind=kind, on=_date(on), note=note, now=utcnow(), actor=actor)
    _print_one(engine, settings, case, as_json)


@request_group.command("extend")
@click.argument("case", type=CASE)
@click.option("--days", type=int, default=20, show_default=True, help="At most 20 working days (第33条第2款).")
@click.option("--approver", required=True, help="政府信息公开工作机构负责人（批准人）.")
@click.option("--reason", required=True)
@click.option("--json", "as_json", is_flag=True)
@actor_option
@click.pass_context
def extend_cmd(ctx: click.Context, case: int, days: int, approver: str, reason: str, as_json: bool, actor: str) -> None:
    """Extend the answer period with the approver's name and a reason (tell the applicant too)."""
    from responder.disclosure import service

    settings = load_settings(ctx)
    engine = open_engine(settings)
    _run(service.extend, engine, settings, case, days=days, approver=approver, reason=reason, now=utcnow(), actor=actor)
    _print_one(engine, settings, case, as_json)


@request_group.command("pause")
@click.argument("case", type=CASE)
@click.option("--on", type=DATE, default=None, help="Day the consultation was sent (default: today).")
@click.option("--party", type=click.Choice(["第三方", "其他机关"]), required=True, help="第32条 third party / 第34条 another agency.")
@click.option("--reason", required=True)
@click.option("--json", "as_json", is_flag=True)
@actor_option
@click.pass_context
def pause_cmd(ctx: click.Context, case: int, on: dt.datetime | None, party: str, reason: str, as_json: bool, actor: str) -> None:
    """Consultation starts: the working days after this day are not counted until `resume`."""
    from responder.disclosure import service

    settings = load_settings(ctx)
    engine = open_engine(settings)
    now = utcnow()
    _run(service.pause, engine, settings, case, on=_date(on) or service.beijing_date(now), party=party, reason=reason,
         now=now, actor=actor)
    _print_one(engine, settings, case, as_json)


@request_group.command("resume")
@click.argument("case", type=CASE)
@click.option("--on", type=DATE, default=None, help="Day the opinion came back (default: today); counting resumes the next day.")
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True)
@actor_option
@click.pass_context
def resume_cmd(ctx: click.Context, case: int, on: dt.datetime | None, note: str, as_json: bool, actor: str) -> None:
    """Consultation over: the deadline is recomputed without the paused working days."""
    from responder.disclosure import service

    settings = load_settings(ctx)
    engine = open_engine(settings)
    now = utcnow()
    _run(service.resume, engine, settings, case, on=_date(on) or service.beijing_date(now), note=note, now=now, actor=actor)
    _print_one(engine, settings, case, as_json)


@request_group.command("correct")
@click.argument("case", type=CASE)
@click.option("--notified", type=DATE, default=None, help="Day the 补正 notice went out (第30条: within 7 working days).")
@click.option("--received", type=DATE, default=None, help="Day the corrected application was received: the count restarts.")
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True)
@actor_option
@click.pass_context
def correct_cmd(ctx: click.Context, case: int, notified: dt.datetime | None, received: dt.datetime | None, note: str,
                as_json: bool, actor: str) -> None:
    """补正 (第30条): record the notice (the clock waits), then the corrected application (the count restarts)."""
    from responder.disclosure import service

    if (notified is None) == (received is None):
        fail("give exactly one of --notified or --received")
    settings = load_settings(ctx)
    engine = open_engine(settings)
    if notified is not None:
        _run(service.correction_notice, engine, settings, case, on=notified.date(), note=note, now=utcnow(), actor=actor)
    else:
        _run(service.correction_received, engine, settings, case, on=received.date(), now=utcnow(), actor=actor)
    _print_one(engine, settings, case, as_json)


COMMANDS = [request_group]
