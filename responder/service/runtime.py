"""``responder run``: the long-running service, as systemd runs it.

One asyncio process. APScheduler (AsyncIOScheduler, in-memory job store) only
decides *when* to look; *what* is due always comes from the database, which is
the only durable state — the jobs are rebuilt from it at every start:

* per source, an interval job (the source's interval, with jitter) that polls it
  if the database says it is due (failure backoff is stored there);
* a wake-up job at the next due time the core reports (clock step, outbox retry,
  weekly slot), re-armed after every pass, plus a slow safety tick;
* an outbox dispatcher tick, the weekly log (a cron trigger in Asia/Shanghai,
  idempotent per week), the engine self-check, sd_notify STATUS and WATCHDOG;
* with ``[notify.replies] aliyun_queue``, a pass over Alibaba's SMS reply queue (``inbound.pull``).

Every job is ``coalesce=True, max_instances=1`` and has no misfire grace limit
(``misfire_grace_time=None``): after downtime a missed run happens once, late,
instead of being skipped silently (APScheduler's default) or repeated.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import os
import signal
import socket
from pathlib import Path
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt, wait_exponential

from responder import audit, db, logs
from responder import engine as eng
from responder.config import ConfigError, Settings
from responder.db import transaction
from responder.inbound.pull import build_queue, pull_once
from responder.ingest import load_states, make_client
from responder.report.job import parse_slot
from responder.service import pipeline
from responder.service.checks import load_checked
from responder.service.metrics import serve
from responder.service.sdnotify import Notifier
from responder.service.status import collect
from responder.timeutil import UTC, fmt_bj, utcnow
from responder.web.server import start_in_loop

log = structlog.get_logger("responder.runtime")

EXIT_CONFIG = 2
EXIT_SCHEMA = 3
EXIT_LOCKED = 4
STOP_GRACE_SECONDS = 20.0
LANES = ("sms", "email", "robot")
"""The dispatcher lanes: one per channel kind an outbox row can have."""
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


class InstanceLock:
    """Refuse a second service on the same SQLite file (PostgreSQL allows several workers)."""

    def __init__(self, database_url: str) -> None:
        u = make_url(database_url)
        self.path = Path(u.database + ".lock") if u.drivername.startswith("sqlite") and u.database else None
        self._fh: Any = None

    def acquire(self) -> bool:
        if self.path is None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.close()
            self._fh = None
            return False
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(f"{os.getpid()}\n")
        self._fh.flush()
        return True

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() if self.path else ""
        except OSError:
            return ""

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class Service:
    def __init__(self, config_path: Path, settings: Settings, engine: Any, notifier: Notifier) -> None:
        self.config_path = config_path
        self.settings = settings
        self.engine = engine
        self.notifier = notifier
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.stop_event = asyncio.Event()
        self.work_lock = asyncio.Lock()
        """Held by the engine's pass (database work only); never across provider I/O."""
        self.lanes: dict[str, asyncio.Lock] = {name: asyncio.Lock() for name in LANES}
        """One dispatcher lane per channel: a hanging mail server holds only the e-mail lane."""
        self.lane_tasks: set[asyncio.Task] = set()
        self.lane_again: set[str] = set()
        """Lanes asked for a pass while busy: they make one more when the current one ends."""
        self.sched: Any = None
        self.ctx: Any = None
        self.last_error: str | None = None
        self.db_failures = 0
        self.reply_queue: Any = None
        self.pull_lock = asyncio.Lock()
        """Held by a pass over Alibaba's reply queue (issue 17, pull mode); its client closes only outside one."""

    # ---------------------------------------------------------------- jobs

    async def work(self, reason: str = "tick", now: dt.datetime | None = None) -> None:
        """Judge, escalate, report: everything due now, then hand delivery to the lanes. Never raises.

        The engine's pass holds only ``work_lock`` and touches only the database;
        delivery runs in the dispatcher lanes, which it starts but never waits for,
        so a provider that hangs cannot stop a clock.
        """
        async with self.work_lock:
            now = now or utcnow()
            try:
                t = await pipeline.tick(self.ctx, now, poll=False, dispatch=False)  # the demo's and replay's order
                r, a, w = t["cases"], t["advance"], t["weekly"]
                if r.cases_opened or a.steps or w:
                    log.info("work", reason=reason, cases_opened=r.cases_opened, upgraded=r.upgraded,
                             releases=r.releases_attached, proposed=r.releases_proposed, steps=a.steps,
                             step_case_ids=a.case_ids, messages=a.messages, weekly=w)
                if a.errors:
                    log.error("engine.errors", errors=a.errors)
                self.db_failures = 0
                self.last_error = None
            except OperationalError as exc:
                self.db_failures += 1
                self.last_error = f"数据库暂不可用：{str(exc).splitlines()[0][:200]}"
                log.error("database.unavailable", error=str(exc).splitlines()[0], failures=self.db_failures)
                self.notifier.status(self.last_error + f"（第{self.db_failures}次，稍后重试）")
                return
            except Exception as exc:  # a bug must not kill a service that guards 5-hour deadlines
                self.last_error = str(exc)[:200]
                log.exception("work.failed", reason=reason)
                self.kick_dispatch()  # the steps committed before the failure still go out now
                return
        self.kick_dispatch()
        self.arm_wakeup()

    def arm_wakeup(self) -> None:
        try:
            nxt = pipeline.next_wakeup(self.ctx, utcnow())
        except OperationalError:
            return
        if nxt is None or self.sched is None:
            return
        nxt = max(nxt, utcnow() + dt.timedelta(milliseconds=200))
        self.sched.add_job(self.work, DateTrigger(run_date=nxt, timezone=UTC), args=["wakeup"], id="wakeup",
                           replace_existing=True)

    async def poll(self, name: str) -> None:
        """Poll one source if the database says it is due (its failure backoff lives there)."""
        now = utcnow()
        try:
            st = load_states(self.engine).get(name)
            if st is not None and st.next_poll_at is not None and st.next_poll_at > now:
                return
            reports = await pipeline.ingest_step(self.ctx, now, only=name)
            for rep in reports:
                log.info("source.polled", source=name, **{k: v for k, v in rep.counts().items()})
        except OperationalError as exc:
            log.error("database.unavailable", error=str(exc).splitlines()[0], job=f"poll:{name}")
            return
        except Exception:
            log.exception("poll.failed", source=name)
            return
        await self.work(f"poll:{name}")

    async def pull_replies(self) -> None:
        """One pass over Alibaba's SmsUp queue; lease and backoff live in the database. Never raises."""
        async with self.pull_lock:
            if self.reply_queue is None:
                return
            try:
                await pull_once(self.engine, self.settings, self.reply_queue, utcnow(), owner=self.owner)
            except OperationalError as exc:
                log.error("database.unavailable", error=str(exc).splitlines()[0], job="replies_pull")
            except Exception:
                log.exception("replies.pull_crashed")

    def schedule_replies(self) -> None:
        """(Re)build the reply queue from the configuration; the old one's connections close after its pass."""
        old, self.reply_queue = self.reply_queue, build_queue(self.settings)
        if old is not None:
            async def close_old() -> None:
                async with self.pull_lock:
                    await old.aclose()
            asyncio.ensure_future(close_old())
        if self.sched.get_job("replies_pull") is not None:
            self.sched.remove_job("replies_pull")
        if self.reply_queue is not None:
            every = self.settings.file.notify.replies.pull_interval_seconds
            self.sched.add_job(self.pull_replies, IntervalTrigger(seconds=every, timezone=UTC), id="replies_pull",
                               next_run_time=utcnow() + dt.timedelta(seconds=1))

    def kick_dispatch(self) -> None:
        """Start a pass of every lane that is idle; a busy lane picks the new rows up on its next pass."""
        for name in LANES:
            if self.lanes[name].locked():
                self.lane_again.add(name)
                continue
            task = asyncio.ensure_future(self.dispatch_lane(name))
            self.lane_tasks.add(task)
            task.add_done_callback(self.lane_tasks.discard)

    async def dispatch(self) -> None:
        """The dispatcher tick: start the lanes and return at once.

        Awaiting them here would keep this job "running" while one lane hangs, and
        APScheduler (``max_instances=1``) would then skip the ticks the other lanes need.
        """
        self.kick_dispatch()

    async def dispatch_lane(self, name: str) -> None:
        lock = self.lanes[name]
        if lock.locked():
            return
        async with lock:
            again = True
            while again and not self.stop_event.is_set():
                self.lane_again.discard(name)
                try:
                    d = await pipeline.dispatch_step(self.ctx, utcnow(), only=(name,))
                    if d.claimed or d.dead:
                        log.info("dispatch", lane=name, sent=d.sent, retried=d.retried, dead=d.dead, repeats=d.repeats,
                                 unconfirmed=d.unconfirmed)
                except OperationalError as exc:
                    log.error("database.unavailable", error=str(exc).splitlines()[0], job=f"dispatch:{name}")
                except Exception:
                    log.exception("dispatch.failed", lane=name)
                again = name in self.lane_again

    def self_check(self) -> None:
        try:
            problems = eng.self_check(self.engine, utcnow())
        except OperationalError:
            return
        if problems:
            log.error("self_check.problems", problems=problems)

    def status_text(self) -> str:
        try:
            data = collect(self.engine, utcnow(), limit=2000)
        except OperationalError:
            return self.last_error or "数据库暂不可用"
        last = fmt_bj(self.ctx.last_poll_at) if self.ctx and self.ctx.last_poll_at else "尚未"
        text = f"未结案件 {data['open_cases']} 件，超时 {data['overdue']} 件，待确认 {data['needs_review']} 件；最近采集 {last}"
        return f"{text}；{self.last_error}" if self.last_error else text

    def send_status(self) -> None:
        self.notifier.status(self.status_text())

    def watchdog(self) -> None:
        # Runs on the event loop: if the loop hangs, the pings stop and systemd restarts us.
        self.notifier.watchdog()

    # ---------------------------------------------------------------- scheduling

    def schedule_sources(self) -> None:
        for job in list(self.sched.get_jobs()):
            if job.id.startswith("poll:"):
                job.remove()
        for i, src in enumerate(self.settings.file.source):
            if not src.polled:
                continue
            jitter = max(1, min(30, int(src.interval * 0.1)))
            first = utcnow() + dt.timedelta(seconds=0.5 + i * 0.2)
            self.sched.add_job(self.poll, IntervalTrigger(seconds=src.interval, jitter=jitter, start_date=first, timezone=UTC),
                               args=[src.name], id=f"poll:{src.name}", replace_existing=True, next_run_time=first)

    def build_jobs(self) -> None:
        sch = self.settings.file.schedule
        self.sched = AsyncIOScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
        self.sched.add_job(self.work, IntervalTrigger(seconds=sch.safety_tick_seconds, timezone=UTC), args=["safety"],
                           id="safety")
        self.sched.add_job(self.dispatch, IntervalTrigger(seconds=sch.dispatch_interval_seconds, timezone=UTC), id="dispatch")
        dow, at = parse_slot(sch.weekly_report)
        self.sched.add_job(self.work, CronTrigger(day_of_week=dow, hour=at.hour, minute=at.minute, timezone="Asia/Shanghai"),
                           args=["weekly"], id="weekly")
        self.sched.add_job(self.self_check, IntervalTrigger(seconds=sch.self_check_seconds, timezone=UTC), id="self_check")
        self.sched.add_job(self.send_status, IntervalTrigger(seconds=30, timezone=UTC), id="status")
        if self.notifier.watchdog_usec:
            self.sched.add_job(self.watchdog, IntervalTrigger(seconds=max(0.5, self.notifier.watchdog_usec / 2e6), timezone=UTC),
                               id="watchdog")
        self.schedule_sources()
        self.schedule_replies()

    # ---------------------------------------------------------------- signals

    def request_stop(self) -> None:
        if not self.stop_event.is_set():
            log.info("service.stopping")
            self.notifier.stopping("正在停止：完成进行中的发送后退出")
            self.stop_event.set()

    async def reload(self) -> None:
        """SIGHUP: check the new configuration and build everything from it before taking it.

        Anything that fails (a refused check, a channel or template that cannot be
        built, the database during the start-up steps) keeps the running
        configuration, logs ``reload.rejected`` with the reason, and still answers
        systemd's ``RELOADING=1`` with ``READY=1``: a bad reload must neither take the
        service down nor leave the unit stuck in "reloading". Never raises.
        """
        self.notifier.reloading()
        ctx = None
        try:
            new = load_checked(self.config_path, require_secrets=True)
            ctx = pipeline.build_context(new, self.engine, owner=self.owner, client=self.ctx.client)
            await self.work_lock.acquire()
            try:
                pipeline.startup(ctx, utcnow())
            except BaseException:
                self.work_lock.release()
                raise
        except Exception as exc:
            problems = exc.problems if isinstance(exc, ConfigError) else [f"{self.config_path}: {type(exc).__name__}: {exc}"]
            log.error("reload.rejected", problems=problems, note="keeping the running configuration")
            if ctx is not None:
                await self._close_channels(ctx.channels)
            self.notifier.ready("重载失败，沿用原配置：" + "；".join(problems)[:300])
            return
        try:  # nothing below can fail on the configuration: it has been built and started
            old_channels = self.ctx.channels
            self.settings, self.ctx = new, ctx
            self.schedule_sources()
            self.schedule_replies()
        finally:
            self.work_lock.release()
        asyncio.ensure_future(self._close_after_lanes(old_channels))  # connections of the old configuration
        log.info("reload.done", sources=len(new.file.source))
        self.notifier.ready(self.status_text())

    async def _close_after_lanes(self, channels: dict[str, Any]) -> None:
        """Close the old configuration's connections once no lane still sends over them."""
        for name in LANES:
            async with self.lanes[name]:
                pass
        await self._close_channels(channels)

    async def _close_channels(self, channels: dict[str, Any]) -> None:
        for ch in channels.values():
            try:
                await ch.aclose()
            except Exception:
                log.exception("channel.close_failed")

    async def _quiesce(self, timeout: float) -> bool:
        """Wait for the engine's pass and the sends in progress (each bounded by its channel's timeout)."""
        async def all_locks() -> None:
            await self.work_lock.acquire()
            for name in LANES:
                await self.lanes[name].acquire()

        try:
            await asyncio.wait_for(all_locks(), timeout=timeout)
            return True
        except TimeoutError:
            return False

    # ---------------------------------------------------------------- main

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        client = make_client(self.settings)
        self.ctx = pipeline.build_context(self.settings, self.engine, owner=self.owner, client=client)
        now = utcnow()
        started = pipeline.startup(self.ctx, now)
        with transaction(self.engine) as s:
            audit.record(s, at=now, kind="service.started", subject="service", actor=self.owner,
                         data={"config": str(self.config_path), **started})
        log.info("service.started", config=str(self.config_path), database=db.display_url(self.settings.database_url), **started)
        self.build_jobs()
        self.sched.start()
        self.metrics = start_metrics(self)
        web = start_in_loop(self.settings, self.engine,  # the operator console, when [web] listen is set
                            on_intake=lambda: asyncio.ensure_future(self.work("intake")))  # pushed items wake the engine
        await self.work("start")  # what came due while we were down happens now
        self.notifier.ready(self.status_text())
        await self.stop_event.wait()
        if web is not None:
            await web.stop()
        self.sched.shutdown(wait=False)
        if not await self._quiesce(STOP_GRACE_SECONDS):  # finish the sends in progress
            log.warning("service.stop_timeout", note="a send did not finish; it is reconciled at the next start")
        await client.aclose()
        if self.reply_queue is not None:
            async with self.pull_lock:
                await self.reply_queue.aclose()
        for ch in self.ctx.channels.values():
            try:
                await ch.aclose()
            except Exception:
                log.exception("channel.close_failed")
        with transaction(self.engine) as s:
            audit.record(s, at=utcnow(), kind="service.stopped", subject="service", actor=self.owner)
        log.info("service.stopped")
        return 0


def start_metrics(service: Service) -> Any:
    """Prometheus text endpoint on loopback, when ``service.metrics_port`` is set."""
    port = service.settings.file.service.metrics_port
    if not port:
        return None
    return serve(service.engine, service.settings.file.service.metrics_host, port)


async def connect_with_retry(engine: Any, notifier: Notifier, *, attempts: int = 30, max_wait: float = 30.0) -> str | None:
    """A database that is briefly locked or unreachable is retried with backoff and reported.

    Returns the schema revision ("" for an empty database), or None after ``attempts`` failures
    (the unit then restarts us after ``RestartSec``: slow, never a tight crash loop).
    """
    def report(state: Any) -> None:
        msg = str(state.outcome.exception()).splitlines()[0][:200]
        log.error("database.unavailable", error=msg, attempt=state.attempt_number)
        notifier.status(f"数据库暂不可用（第{state.attempt_number}次）：{msg}")

    try:
        async for attempt in AsyncRetrying(retry=retry_if_exception_type(OperationalError), stop=stop_after_attempt(attempts),
                                           wait=wait_exponential(multiplier=1, max=max_wait), before_sleep=report):
            with attempt:
                return db.current_revision(engine) or ""
    except RetryError:
        return None
    return None


def main(config_path: Path) -> int:
    config_path = Path(config_path)
    logs.configure()
    notifier = Notifier()
    try:
        settings = load_checked(config_path, require_secrets=True)
    except ConfigError as exc:
        for p in exc.problems:
            log.error("config.invalid", problem=p)
        notifier.status("配置有误，服务未启动：" + "；".join(exc.problems)[:300])
        return EXIT_CONFIG
    logs.configure(settings.file.service.log_level, settings.file.service.log_format, secrets=list(settings.secrets.values()))
    lock = InstanceLock(settings.database_url)
    if not lock.acquire():
        log.error("instance.locked", database=db.display_url(settings.database_url), holder_pid=lock.holder(),
                  message=f"another responder is already running on this database (pid {lock.holder()}); refusing to start")
        return EXIT_LOCKED
    try:
        engine = db.make_engine(settings.database_url, password=settings.secret(settings.file.database.password_secret))

        async def _run() -> int:
            rev = await connect_with_retry(engine, notifier)
            if rev is None:
                return 1
            if rev != db.head_revision():
                log.error("database.schema_outdated", current=rev or None, head=db.head_revision(),
                          message="run `responder db upgrade` first")
                return EXIT_SCHEMA
            return await Service(config_path, settings, engine, notifier).run()

        return asyncio.run(_run())
    finally:
        lock.release()

