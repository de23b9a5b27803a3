"""One pass of the service's work at a given ``now``: the steps the daemon, the demo and
``replay`` all run, so the three can never drift apart.

Each step takes ``now`` and reports what it did; none reads the clock. The daemon
calls them from APScheduler jobs with the wall clock; the demo and replay call
them in a loop with a virtual clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from sqlalchemy.engine import Engine

from responder import engine as eng

log = structlog.get_logger("responder.pipeline")


@dataclass
class Context:
    """What the steps share: configuration, database, channels, renderer, HTTP client."""

    settings: Any
    engine: Engine
    channels: dict[str, Any]
    renderer: Any
    client: httpx.AsyncClient | None = None
    owner: str = "responder"
    plan: Any = None
    last_poll_at: dt.datetime | None = None
    stats: dict[str, int] = field(default_factory=dict)


def build_context(settings: Any, engine: Engine, *, owner: str, client: httpx.AsyncClient | None = None) -> Context:
    from responder.channels import build_channels
    from responder.plan.load import plan_from_settings
    from responder.render import Renderer

    renderer = Renderer.from_dir(settings.data_paths["templates"])
    return Context(settings=settings, engine=engine, channels=build_channels(settings), renderer=renderer,
                   client=client, owner=owner, plan=plan_from_settings(settings))


def startup(ctx: Context, now: dt.datetime) -> dict[str, Any]:
    """At every start (and reload): sources, plan clocks, and messages a crash left in ``sending``."""
    from responder.ingest import sync_sources
    from responder.outbox import reconcile_sending
    from responder.plan import schedule_plan

    sync_sources(ctx.engine, ctx.settings, now)
    planned = schedule_plan(ctx.engine, ctx.settings, ctx.plan, now) if ctx.plan is not None else 0
    reconciled = reconcile_sending(ctx.engine, ctx.settings, ctx.channels, now=now)
    return {"plan_clocks_created": planned, "reconciled": reconciled}


async def ingest_step(ctx: Context, now: dt.datetime, *, only: str | None = None) -> list[Any]:
    """Poll due sources (or one), then turn new items into cases and match releases."""
    from responder.ingest import make_client, poll_due, poll_source

    client = ctx.client or make_client(ctx.settings)
    try:
        if only is None:
            reports = await poll_due(ctx.engine, ctx.settings, now=now, client=client)
        else:
            cfg = next(c for c in ctx.settings.file.source if c.name == only)
            reports = [await poll_source(ctx.engine, ctx.settings, cfg, now=now, client=client)]
    finally:
        if ctx.client is None:
            await client.aclose()
    if reports:
        ctx.last_poll_at = now
    return reports


def cases_step(ctx: Context, now: dt.datetime) -> eng.OpenResult:
    return eng.open_cases(ctx.engine, ctx.settings, now)


def workdays_step(ctx: Context, now: dt.datetime) -> Any:
    """Requests from `request` feeds, inquiry answer clocks, calendar years added (issue 19)."""
    from responder.disclosure.service import sweep

    return sweep(ctx.engine, ctx.settings, now)


def engine_step(ctx: Context, now: dt.datetime) -> eng.AdvanceResult:
    return eng.advance(ctx.engine, ctx.settings, now, owner=ctx.owner)


async def dispatch_step(ctx: Context, now: dt.datetime, *, only: tuple[str, ...] | None = None) -> Any:
    from responder.outbox import dispatch_due

    return await dispatch_due(ctx.engine, ctx.settings, ctx.channels, ctx.renderer, now=now, owner=ctx.owner, only=only)


def weekly_step(ctx: Context, now: dt.datetime) -> str | None:
    from responder.report import run_weekly_if_due

    return run_weekly_if_due(ctx.engine, ctx.settings, now)


def ledger_step(ctx: Context, now: dt.datetime) -> str | None:
    from responder.report.ledger_job import run_ledger_if_due

    return run_ledger_if_due(ctx.engine, ctx.settings, now)


async def tick(ctx: Context, now: dt.datetime, *, poll: bool = True, dispatch: bool = True) -> dict[str, Any]:
    """Everything due at ``now``, in order: hear, judge, escalate, deliver, report.

    The service passes ``dispatch=False`` and delivers in its own lanes, so that
    provider I/O never holds the engine; the demo and replay deliver in line.
    """
    out: dict[str, Any] = {}
    if poll:
        out["polls"] = await ingest_step(ctx, now)
    out["cases"] = cases_step(ctx, now)
    out["workdays"] = workdays_step(ctx, now)
    out["advance"] = engine_step(ctx, now)
    if dispatch:
        out["dispatch"] = await dispatch_step(ctx, now)
    out["weekly"] = weekly_step(ctx, now)
    out["ledger"] = ledger_step(ctx, now)
    return out


def next_wakeup(ctx: Context, now: dt.datetime) -> dt.datetime | None:
    """The earliest of: next clock step, next outbox attempt, next weekly slot, next month-end ledger slot."""
    from responder.outbox import next_due_at as outbox_next
    from responder.report import next_weekly_at
    from responder.report.ledger_job import next_ledger_at

    times = [t for t in (eng.next_due_at(ctx.engine), outbox_next(ctx.engine), next_weekly_at(ctx.settings, now),
                         next_ledger_at(ctx.settings, now)) if t]
    return min(times) if times else None
