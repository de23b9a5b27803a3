"""Operator commands on cases: show, release, ack, reclassify, close, release proposals, unjoin."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from typing import Any

import click

from responder.cli.common import ID, TEXT, echo_json, fail, load_settings, open_engine
from responder.cli.timeparse import TIME
from responder.data import RELEASE_KINDS
from responder.timeutil import fmt_bj, iso_utc, utcnow

# The engine, the models and the database are imported inside the commands: a
# read-only `show` must not pay for the engine (and nothing here for --version).


def default_actor() -> str:
    return os.environ.get("SUDO_USER") or os.environ.get("USER") or getpass.getuser() or "operator"


actor_option = click.option("--by", "actor", type=TEXT, default=default_actor, show_default="$USER", help="Who is acting (recorded in the audit trail).")


def _run(fn, *args, **kw):
    from responder.engine import EngineError

    try:
        return fn(*args, **kw)
    except EngineError as exc:
        fail(str(exc))


def timeline(engine, case_id: int) -> dict[str, Any]:
    from sqlmodel import Session, select

    from responder.models import AuditEvent, Case, Clock, ClockStep, DeliveryAttempt, Item, OutboxMessage, Release

    with Session(engine) as s:
        case = s.get(Case, case_id)
        if case is None:
            fail(f"案件 {case_id} 不存在")
        items = s.exec(select(Item).where(Item.case_id == case_id).order_by(Item.id)).all()
        clocks = s.exec(select(Clock).where(Clock.case_id == case_id).order_by(Clock.id)).all()
        steps = s.exec(select(ClockStep).where(ClockStep.case_id == case_id).order_by(ClockStep.id)).all()
        releases = s.exec(select(Release).where(Release.case_id == case_id).order_by(Release.id)).all()
        msgs = s.exec(select(OutboxMessage).where(OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)).all()
        events = s.exec(select(AuditEvent).where(AuditEvent.subject == f"case:{case_id}").order_by(AuditEvent.seq)).all()
        attempts = s.exec(select(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_([m.id for m in msgs]))).all() if msgs else []
    return {
        "case": case.model_dump(mode="json"),
        "items": [{"id": i.id, "source": i.source_name, "title": i.title, "link": i.link, "published_at": iso_utc(i.published_at),
                   "published_source": i.published_source, "first_seen_at": iso_utc(i.first_seen_at),
                   "attach_reason": i.attach_reason} for i in items],
        "clocks": [{"id": c.id, "obligation": c.obligation, "label": c.policy.get("label"), "basis": c.policy.get("basis"),
                    "state": c.state, "start_basis": c.start_basis, "started_at": iso_utc(c.started_at),
                    "deadline_at": iso_utc(c.deadline_at), "original_start_at": iso_utc(c.original_start_at),
                    "met_at": iso_utc(c.met_at), "next_action_at": iso_utc(c.next_action_at),
                    "notes": c.policy.get("notes", [])} for c in clocks],
        "steps": [{"clock_id": st.clock_id, "kind": st.step_kind, "due_at": iso_utc(st.due_at), "taken_at": iso_utc(st.taken_at),
                   "recipients": st.recipients, "messages": st.messages} for st in steps],
        "releases": [{"id": r.id, "kind": r.kind, "url": r.url, "title": r.title, "published_at": iso_utc(r.published_at),
                      "status": r.status, "recorded_by": r.recorded_by, "score": r.match_score, "reasons": r.match_reasons} for r in releases],
        "messages": [{"id": m.id, "kind": m.kind, "channel": m.channel, "recipient": m.recipient, "status": m.status,
                      "created_at": iso_utc(m.created_at), "sent_at": iso_utc(m.sent_at), "attempts": m.attempts,
                      "last_error": m.last_error} for m in msgs],
        "attempts": len(attempts),
        "events": [{"seq": e.seq, "at": iso_utc(e.at), "actor": e.actor, "kind": e.kind, "data": e.data} for e in events],
    }


def _t(iso: str | None) -> str:
    return fmt_bj(dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))) if iso else "—"


@click.command("show")
@click.argument("case_id", type=ID)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, case_id: int, as_json: bool) -> None:
    """A case's timeline: items, classification reasons, clocks, steps, messages, releases."""
    from responder.service.status import STATE_LABELS

    settings = load_settings(ctx)
    data = timeline(open_engine(settings), case_id)
    if as_json:
        echo_json(data)
        return
    c = data["case"]
    click.echo(f"案件 #{c['id']}：{c['title']}")
    click.echo(f"  状态：{'未结' if c['state'] == 'open' else '已结（' + str(c['close_kind']) + '：' + str(c['close_reason']) + '）'}"
               f"  级别：{c['level'] or '非突发事件'}{('（' + c['level_name'] + '）') if c['level_name'] else ''}  时限：{c['clock_class']}"
               + ("  ⚑需人工确认" if c["needs_review"] else ""))
    click.echo(f"  类别：{c['category'] or '—'}  公开领域：{c['domain'] or '—'}  责任部门：{c['department'] or '—'}"
               + (f"  配合：{'、'.join(c['co_departments'])}" if c["co_departments"] else ""))
    if c.get("acked_at"):
        click.echo(f"  已签收：{_t(c['acked_at'])}（{c['acked_by']}）")
    click.echo("  判定理由：")
    for r in c["reasons"]:
        click.echo(f"    · {r}")
    click.echo("  信息条目：")
    for i in data["items"]:
        click.echo(f"    #{i['id']} [{_t(i['published_at'] or i['first_seen_at'])}] {i['source']}：{i['title']}"
                   + (f"（{i['attach_reason']}）" if i["attach_reason"] else ""))
    click.echo("  时限：")
    for k in data["clocks"]:
        click.echo(f"    {k['label']}：{STATE_LABELS.get(k['state'], k['state'])}，起算 {_t(k['started_at'])}（{k['start_basis']}），"
                   f"截止 {_t(k['deadline_at'])}" + (f"，完成 {_t(k['met_at'])}" if k["met_at"] else "")
                   + (f"，原起算 {_t(k['original_start_at'])}" if k["original_start_at"] else ""))
        click.echo(f"      依据：{k['basis']}")
        for n in k["notes"]:
            click.echo(f"      注：{n}")
    if data["steps"]:
        click.echo("  已执行的提醒步骤：")
        for st in data["steps"]:
            click.echo(f"    {_t(st['taken_at'])} {st['kind']} → {', '.join(st['recipients'])}（{st['messages']}条消息）")
    if data["releases"]:
        click.echo("  发布/回应：")
        for r in data["releases"]:
            click.echo(f"    #{r['id']} {_t(r['published_at'])} {r['kind']} [{r['status']}] {r['url'] or r['title']}")
    if data["messages"]:
        sent = sum(1 for m in data["messages"] if m["status"] == "sent")
        click.echo(f"  消息：共 {len(data['messages'])} 条，已送达 {sent} 条")


@click.command("release")
@click.argument("case_id", type=ID)
@click.option("--url", type=TEXT, required=True, help="Where the release is published.")
@click.option("--at", "at", type=TIME, default=None, help="When it was published (Beijing time if no zone); default now.")
@click.option("--kind", type=click.Choice(RELEASE_KINDS), default="权威发布", show_default=True)
@click.option("--title", type=TEXT, default="", help="Title of the release.")
@actor_option
@click.pass_context
def release(ctx: click.Context, case_id: int, url: str, at: dt.datetime | None, kind: str, title: str, actor: str) -> None:
    """Record an authoritative release or response; it stops the clocks it satisfies."""
    from responder import engine as eng
    from responder.service.status import STATE_LABELS

    settings = load_settings(ctx)
    e = open_engine(settings)
    now = utcnow()
    rel = _run(eng.record_release, e, settings, case_id, kind=kind, url=url, at=at, title=title, now=now, actor=actor)
    data = timeline(e, case_id)
    click.echo(f"已记录：案件 #{case_id} {kind}（{fmt_bj(rel.published_at)}）#{rel.id}")
    for k in data["clocks"]:
        if k["met_at"] and k["state"] in ("met", "met_late"):
            click.echo(f"  {k['label']}：{STATE_LABELS[k['state']]}")


@click.command("ack")
@click.argument("case_id", type=ID)
@click.option("--note", type=TEXT, default="")
@actor_option
@click.pass_context
def ack(ctx: click.Context, case_id: int, note: str, actor: str) -> None:
    """Acknowledge a case: pauses nothing, but is recorded and shown."""
    from responder import engine as eng

    settings = load_settings(ctx)
    _run(eng.ack_case, open_engine(settings), case_id, now=utcnow(), actor=actor, note=note)
    click.echo(f"案件 #{case_id} 已签收（{actor}）")


@click.command("reclassify")
@click.argument("case_id", type=ID)
@click.argument("level", type=click.Choice(["I", "II", "III", "IV", "none"], case_sensitive=False))
@click.option("--reason", type=TEXT, required=True, help="Why (recorded).")
@actor_option
@click.pass_context
def reclassify(ctx: click.Context, case_id: int, level: str, reason: str, actor: str) -> None:
    """Confirm, upgrade or downgrade a case's level; the clocks are recomputed."""
    from responder import engine as eng

    settings = load_settings(ctx)
    lv = None if level.lower() == "none" else level.upper()
    case = _run(eng.reclassify, open_engine(settings), settings, case_id, lv, reason=reason, now=utcnow(), actor=actor)
    click.echo(f"案件 #{case_id} 已调整为 {case.level or '非突发事件'}，时限 {case.clock_class}")


@click.command("close")
@click.argument("case_id", type=ID)
@click.option("--reason", type=TEXT, required=True)
@click.option("--kind", type=click.Choice(["duplicate", "not_ours", "resolved"]), default="resolved", show_default=True)
@click.option("--duplicate-of", type=ID, default=None, help="With --kind duplicate: the case it duplicates.")
@actor_option
@click.pass_context
def close(ctx: click.Context, case_id: int, reason: str, kind: str, duplicate_of: int | None, actor: str) -> None:
    """Close a case (as a duplicate, as not the county's responsibility, or resolved), with a reason."""
    from responder import engine as eng

    settings = load_settings(ctx)
    _run(eng.close_case, open_engine(settings), case_id, kind=kind, reason=reason, now=utcnow(), actor=actor,
         duplicate_of=duplicate_of)
    click.echo(f"案件 #{case_id} 已关闭（{kind}）")


@click.command("proposals")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def proposals(ctx: click.Context, as_json: bool) -> None:
    """Releases matched to a case with too little confidence: confirm or reject them."""
    from sqlmodel import Session, select

    from responder.models import Release

    settings = load_settings(ctx)
    with Session(open_engine(settings)) as s:
        rows = s.exec(select(Release).where(Release.status == "proposed").order_by(Release.id)).all()
    data = [{"id": r.id, "case_id": r.case_id, "kind": r.kind, "title": r.title, "url": r.url, "score": r.match_score,
             "reasons": r.match_reasons, "published_at": iso_utc(r.published_at)} for r in rows]
    if as_json:
        echo_json(data)
        return
    if not data:
        click.echo("没有待确认的发布匹配。")
    for d in data:
        click.echo(f"#{d['id']} → 案件 #{d['case_id']}（得分 {d['score']}）{d['title']}\n    {'；'.join(d['reasons'])}")


@click.command("confirm-release")
@click.argument("release_id", type=ID)
@actor_option
@click.pass_context
def confirm_release(ctx: click.Context, release_id: int, actor: str) -> None:
    """Confirm a proposed match: the release stops the case's clocks it satisfies."""
    from responder import engine as eng

    settings = load_settings(ctx)
    rel = _run(eng.decide_proposal, open_engine(settings), settings, release_id, accept=True, now=utcnow(), actor=actor)
    click.echo(f"已确认：发布 #{rel.id} 对应案件 #{rel.case_id}")


@click.command("reject-release")
@click.argument("release_id", type=ID)
@click.option("--reason", type=TEXT, required=True)
@actor_option
@click.pass_context
def reject_release(ctx: click.Context, release_id: int, reason: str, actor: str) -> None:
    """Reject a proposed match; the case's clocks keep running."""
    from responder import engine as eng

    settings = load_settings(ctx)
    rel = _run(eng.decide_proposal, open_engine(settings), settings, release_id, accept=False, now=utcnow(), actor=actor,
               reason=reason)
    click.echo(f"已否决：发布 #{rel.id}")


@click.command("unjoin")
@click.argument("item_id", type=int)
@click.option("--reason", required=True, help="Why the item is not the case's event (recorded).")
@actor_option
@click.pass_context
def unjoin(ctx: click.Context, item_id: int, reason: str, actor: str) -> None:
    """Undo a join: take ITEM_ID out of its case and give it its own case.

    Its clocks start when the item arrived (published time, else first seen), as
    if it had never been joined; deadlines already past are overdue at once and
    steps due by now are taken by the next engine pass. `responder show CASE`
    lists a case's items with why each was joined.
    """
    from responder.engine import unjoin_item

    settings = load_settings(ctx)
    case = _run(unjoin_item, open_engine(settings), settings, item_id, reason=reason, now=utcnow(), actor=actor)
    click.echo(f"条目 #{item_id} 已移出原案件，新建案件 #{case.id}（{case.clock_class}，自该条目到达时起算）")


COMMANDS = [show, release, ack, reclassify, close, proposals, confirm_release, reject_release, unjoin]
