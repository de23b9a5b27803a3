"""``responder notify-test`` and ``responder outbox``: try a channel for real; see what is queued and what failed."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import uuid

import click

from responder.cli.common import HOURS, LIMIT, echo_json, fail, load_settings, open_engine


def _find_contact(settings, spec: str):
    """``unit:role`` (e.g. ``office:liaison``), a unit id or name (its liaison), or a literal phone / e-mail."""
    from responder.data import EMAIL_RE, MOBILE_RE, Contact, normalise_phone

    unit_key, _, role = spec.partition(":")
    unit = settings.unit(unit_key)
    if unit is not None:
        c = unit.contact(role or "liaison")
        if c is None:
            fail(f"unit {unit.id!r} has no contact with role {role or 'liaison'!r} "
                 f"(roles: {', '.join(x.role for x in unit.contacts) or 'none'})")
        return c
    if MOBILE_RE.match(normalise_phone(spec)):
        return Contact(unit_id="literal", role="test", name="测试", phone=normalise_phone(spec), email=None)
    if EMAIL_RE.match(spec):
        return Contact(unit_id="literal", role="test", name="测试", phone=None, email=spec)
    fail(f"--to {spec!r}: not a contact (unit:role, e.g. office:liaison), a mobile number or an e-mail address")


@click.command("notify-test")
@click.option("--to", "to", required=True, metavar="CONTACT", help="unit:role (office:liaison), a unit, a mobile number or an e-mail.")
@click.option("--channel", type=click.Choice(["sms", "email"]), required=True)
@click.option("--text", default="这是一条测试消息，收到即说明提醒渠道畅通。", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_context
def notify_test(ctx: click.Context, to: str, channel: str, text: str, as_json: bool) -> None:
    """Send a test message through the real channel (recorded in the outbox like any other)."""
    from responder.notify.channels import build_channels, channel_problems
    from responder.db import transaction
    from responder.models import DeliveryAttempt
    from responder.notify import enqueue, send_now
    from responder.notify.render import Renderer
    from responder.timeutil import iso_utc, utcnow
    from sqlmodel import Session, select

    settings = load_settings(ctx, require_secrets=True)
    contact = _find_contact(settings, to)
    address = contact.phone if channel == "sms" else contact.email
    if not address:
        fail(f"{contact.key} has no {'mobile number' if channel == 'sms' else 'e-mail address'}")
    channels = build_channels(settings)
    if channel not in channels:
        reasons = "; ".join(channel_problems(settings)) or f"{channel} is turned off in notify.channels / its section"
        fail(f"channel {channel} is not available: {reasons}")
    engine = open_engine(settings)
    now = utcnow()
    with transaction(engine) as s:
        rows = enqueue(s, now=now, key=f"test:{uuid.uuid4().hex[:12]}", kind="test", contact=contact,
                       context={"text": text}, channels=[channel], urgent=True)
        ids = [r.id for r in rows]
    owner = f"notify-test@{socket.gethostname()}:{os.getpid()}"
    renderer = Renderer.from_dir(settings.data_paths["templates"])

    async def go():
        try:
            return await send_now(engine, settings, {channel: channels[channel]}, renderer, ids, now=now, owner=owner)
        finally:
            for c in channels.values():
                await c.aclose()

    report = asyncio.run(go())
    with Session(engine) as s:
        a = s.exec(select(DeliveryAttempt).where(DeliveryAttempt.outbox_id == ids[0]).order_by(DeliveryAttempt.id.desc())).first()
    ok = report.sent == 1
    out = {"ok": ok, "outbox_id": ids[0], "channel": channel, "to": contact.key, "address": address,
           "at": iso_utc(now), "outcome": a.outcome if a else None, "error": a.error if a else None,
           "provider_response": a.provider_response if a else None}
    if as_json:
        echo_json(out)
    elif ok:
        click.echo(f"已发送 / sent: {channel} → {contact.key} ({address}), outbox #{ids[0]}")
    else:
        click.echo(f"发送失败 / failed: {channel} → {contact.key} ({address}): {out['error']}", err=True)
    ctx.exit(0 if ok else 1)


def _row(r) -> dict:
    from responder.masking import mask_text
    from responder.timeutil import iso_utc

    return {"id": r.id, "kind": r.kind, "channel": r.channel, "recipient": r.recipient, "status": r.status,
            "urgent": r.urgent, "attempts": r.attempts, "created_at": iso_utc(r.created_at),
            "next_attempt_at": iso_utc(r.next_attempt_at), "sent_at": iso_utc(r.sent_at), "case_id": r.case_id,
            "digest_id": r.digest_id, "provider_id": r.provider_id,
            "last_error": mask_text(r.last_error) if r.last_error else None}


@click.command("outbox")
@click.option("--limit", type=LIMIT, default=50, show_default=True, help="Rows per section.")
@click.option("--hours", type=HOURS, default=24, show_default=True, help="How far back 'recent' deliveries go.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document: {pending, failed, recent}.")
@click.pass_context
def outbox_cmd(ctx: click.Context, limit: int, hours: int, as_json: bool) -> None:
    """List pending, failed and recent deliveries."""
    from sqlmodel import Session, select

    from responder.models import OutboxMessage
    from responder.timeutil import fmt_bj, utcnow

    settings = load_settings(ctx)
    engine = open_engine(settings)
    now = utcnow()
    with Session(engine) as s:
        pending = s.exec(select(OutboxMessage).where(OutboxMessage.status.in_(("pending", "sending", "failed", "held")))
                         .order_by(OutboxMessage.next_attempt_at).limit(limit)).all()
        failed = s.exec(select(OutboxMessage).where(OutboxMessage.status == "dead")
                        .order_by(OutboxMessage.created_at.desc()).limit(limit)).all()
        recent = s.exec(select(OutboxMessage).where(OutboxMessage.status == "sent",
                                                    OutboxMessage.sent_at >= now - dt.timedelta(hours=hours))
                        .order_by(OutboxMessage.sent_at.desc()).limit(limit)).all()
    if as_json:
        echo_json({"pending": [_row(r) for r in pending], "failed": [_row(r) for r in failed],
                   "recent": [_row(r) for r in recent]})
        return
    for title, rows, when in (("待发送 / pending", pending, "next_attempt_at"), ("发送失败 / failed", failed, "created_at"),
                              (f"近{hours}小时已发送 / recent", recent, "sent_at")):
        click.echo(f"{title}: {len(rows)}")
        for r in rows:
            d = _row(r)
            err = f"  {d['last_error']}" if d["last_error"] and r.status != "sent" else ""
            click.echo(f"  #{r.id:<6} {fmt_bj(getattr(r, when))}  {r.status:<8} {r.channel:<5} {r.kind:<18} "
                       f"{r.recipient:<20} 尝试{r.attempts}次{' 紧急' if r.urgent else ''}{err}")


COMMANDS = [notify_test, outbox_cmd]
