"""Shared pieces of the reliability scenarios: settings on loopback fakes, rows, a dispatch call."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from responder.notify.channels import build_channels
from responder.config import FileConfig, Settings
from responder.data import load_units
from responder.db import transaction
from responder.models import Case, Clock, ClockStep, DeliveryAttempt, OutboxMessage
from responder.testing import busyday
from responder.notify import dispatch_due, enqueue
from responder.notify.render import Renderer

REPO = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc
NOW = dt.datetime(2022, 7, 15, 2, 0, tzinfo=UTC)  # 10:00 Beijing: outside quiet hours
UNITS = load_units(REPO / "config" / "units.toml")
RENDERER = Renderer.from_dir(REPO / "templates")
REPEAT = "【重发】"


def settings(*, sms: dict[str, Any] | None = None, email: dict[str, Any] | None = None,
             limits: dict[str, Any] | None = None, channels=("sms", "email")) -> Settings:
    # bundle off: the scenarios test delivery, not policy (bundles: tests/test_notify_bundle.py).
    notify = {"channels": list(channels), "quiet_hours": "", "bundle": False,
              "email": {"security": "plain", "port": 1, **(email or {})},
              "sms": {"provider": "none", **(sms or {})}, "limits": limits or {}}
    cfg = FileConfig.model_validate({"notify": notify})
    return Settings(path=REPO / "config" / "responder.toml", file=cfg, state_dir=REPO / "var", archive_dir=REPO / "var",
                    database_url="", data_paths={"templates": REPO / "templates"}, domains=(), units=UNITS, secrets={})


def gateway(stub, *, timeout: float = 1.0, **sms: Any) -> Settings:
    return settings(sms={"provider": "http", "endpoint": stub.url + "send", "success_path": "code", "success_value": "0",
                         "id_path": "id", "timeout": timeout, **sms}, channels=("sms",))


def mail(sink, *, timeout: float = 2.0, **kw: Any) -> Settings:
    return settings(email={"port": sink.port, "security": sink.security, "timeout": timeout}, channels=("email",), **kw)


def contact(unit: str = "fgw", role: str = "liaison"):
    return next(u for u in UNITS if u.id == unit).contact(role)


def put(engine, key: str, *, channels=("sms",), unit: str = "fgw", at: dt.datetime = NOW) -> list[OutboxMessage]:
    """One urgent message (never held, folded or rate limited: the scenarios test delivery, not policy)."""
    from responder.notify.render import sample_contexts

    ctx = dict(sample_contexts("reminder")[0][1])
    ctx.update(case_title="丁香镇化工厂爆炸")
    with transaction(engine) as s:
        return enqueue(s, now=at, key=key, kind="reminder", contact=contact(unit), context=ctx, channels=list(channels),
                       urgent=True, case_id=1)


async def dispatch_async(engine, cfg: Settings, *, now: dt.datetime, owner: str = "w1", channels=None):
    chs = channels if channels is not None else build_channels(cfg)
    try:
        return await dispatch_due(engine, cfg, chs, RENDERER, now=now, owner=owner)
    finally:
        if channels is None:
            for c in chs.values():
                await c.aclose()


def dispatch(engine, cfg: Settings, *, now: dt.datetime = NOW, owner: str = "w1"):
    return asyncio.run(dispatch_async(engine, cfg, now=now, owner=owner))


def rows(engine, kind: str | None = None) -> list[OutboxMessage]:
    with Session(engine) as s:
        q = select(OutboxMessage).order_by(OutboxMessage.id)
        return list(s.exec(q.where(OutboxMessage.kind == kind) if kind else q).all())


def attempts(engine) -> list[DeliveryAttempt]:
    with Session(engine) as s:
        return list(s.exec(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all())


def summary(engine) -> dict:
    """What the day produced, by identities that do not depend on row ids (PostgreSQL sequences skip after a kill)."""
    with Session(engine) as s:
        titles = {c.id: c.title for c in s.exec(select(Case)).all()}
        clocks = {c.id: (titles.get(c.case_id, c.subject), c.obligation) for c in s.exec(select(Clock)).all()}
        steps = Counter((*clocks[st.clock_id], st.step_key, st.step_kind) for st in s.exec(select(ClockStep)).all())
        msgs = list(s.exec(select(OutboxMessage)).all())
    ident = lambda m: (m.kind, m.channel, m.recipient, titles.get(m.case_id), clocks.get(m.clock_id))  # noqa: E731
    # Digests and bundles (issue 17) carry per-case rows; how they group depends on when a run was killed.
    return {"steps": steps, "messages": Counter(ident(m) for m in msgs if m.kind not in ("digest", "bundle")), "rows": msgs}


def drain(config: Path, last: dt.datetime | None = None) -> None:
    """After the last tick: reconcile and dispatch once more, later (what the next start would do)."""
    from responder.service import pipeline

    async def go() -> None:
        ctx = busyday.context(config, owner="drain")
        later = (last or busyday.schedule()[-1]) + busyday.TICK * 6
        pipeline.startup(ctx, later)
        await pipeline.dispatch_step(ctx, later)
        for ch in ctx.channels.values():
            await ch.aclose()
        ctx.engine.dispose()

    asyncio.run(go())
