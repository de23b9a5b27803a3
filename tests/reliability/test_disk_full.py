"""The disk full while writing the log, the weekly archive and the database's WAL.

Promises (docs/reliability.md): a log that cannot be written stops no clock (the lines are
counted and the log says how many were lost once it can write again); a weekly archive that
cannot be written leaves no half file and no record of the week, so the next pass writes it;
a WAL that cannot grow rolls the pass back whole, and the retry after space returns takes
each step exactly once. The full disk is real: ``/dev/full`` for the log stream (ENOSPC on
every write) and ``RLIMIT_FSIZE`` in a child process for files (EFBIG past the limit), which
needs no root and no mount.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import structlog
from sqlmodel import Session, select

from responder import db, logs
from responder.models import ClockStep
from responder.testing import busyday
from responder.testing.sms_gateway import GatewayStub
from responder.testing.smtp import SmtpSink

from .support import summary
from .test_engine_isolation import EVENT_LIMIT, service_on, steps

REPO = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).parent / "responder")


def child(code: str, timeout: float = EVENT_LIMIT) -> dict:
    """Run ``code`` in a fresh interpreter (the file size limit is per process); it prints one JSON line."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


LIMIT = '''
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed, as on a full disk
_soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
def disk_full(size):
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, _hard))
def space_again():
    resource.setrlimit(resource.RLIMIT_FSIZE, (_hard, _hard))
'''


def test_log_on_a_full_disk_stops_no_clock(engine, tmp_path):
    """With every log line failing (ENOSPC), the engine's passes open the case and take the overdue step."""
    saved_cfg, root = structlog.get_config(), logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    full = open("/dev/full", "w", buffering=1)
    try:
        with SmtpSink() as sink, GatewayStub() as stub:
            svc = service_on(engine, tmp_path, sink, stub)
            logs.configure("info", "json", stream=full)
            t0 = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=7)

            async def scenario() -> None:
                from responder.testing.engine import add_item

                add_item(engine, title="石台县丁香镇一化工厂发生爆炸 已致12人死亡", text="已造成12人死亡。", published_at=None,
                         first_seen_at=t0, source="test-incident", role="incident")
                await svc.work("open", now=t0)
                await svc.work("tick", now=t0 + dt.timedelta(hours=6))
                await asyncio.wait_for(asyncio.gather(*svc.lane_tasks), EVENT_LIMIT)
                for ch in svc.ctx.channels.values():
                    await ch.aclose()

            asyncio.run(scenario())
        assert "overdue" in steps(engine) and svc.last_error is None
        assert any("超时" in m["text"] for m in stub.sent)
    finally:
        structlog.configure(**saved_cfg)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        with contextlib.suppress(OSError):
            full.close()


def test_log_says_how_many_lines_it_lost_once_it_can_write_again():
    """Lines lost to a full disk are counted; the first line written afterwards reports the count."""
    full = open("/dev/full", "w", buffering=1)
    out = logs.TolerantStream(full)
    for _ in range(3):
        out.write('{"event": "work"}\n')
    assert out.dropped == 3
    with contextlib.suppress(OSError):
        full.close()
    out.stream = io.StringIO()
    out.write('{"event": "after"}\n')
    first, second = out.stream.getvalue().splitlines()
    assert json.loads(first) == {"event": "log.lines_dropped", "count": 3, "level": "warning",
                                 "reason": "the log could not be written (disk full?)"}
    assert json.loads(second)["event"] == "after"


def test_weekly_archive_on_a_full_disk_is_retried_whole(engine, tmp_path):
    """Archive writes fail (EFBIG): no half file, no week on record; with space again the week is written once."""
    cfg = busyday.write_config(tmp_path, database_url=engine.url.render_as_string(hide_password=False), smtp_port=9,
                               sms_url="http://127.0.0.1:9/")
    got = child(LIMIT + f'''
import json, datetime as dt
from pathlib import Path
from responder.config import load
from responder import db
from responder.report import run_weekly_if_due
settings = load(Path({str(cfg)!r}), require_secrets=False, deep=False)
engine = db.make_engine(settings.database_url)
now = dt.datetime(2022, 7, 18, 2, 0, tzinfo=dt.timezone.utc)  # Monday 10:00 Beijing, after the 08:30 slot
run_weekly_if_due(engine, settings, now - dt.timedelta(days=7))  # warm up: imports and caches, no limit
disk_full(64)
try:
    first = run_weekly_if_due(engine, settings, now)
except OSError as exc:
    first = "OSError: " + exc.strerror
space_again()
files_after_failure = sorted(p.name for p in Path(settings.archive_dir).rglob("*") if p.is_file() and "W28" in str(p))
second = run_weekly_if_due(engine, settings, now)
third = run_weekly_if_due(engine, settings, now)
print(json.dumps({{"first": first, "left": files_after_failure, "second": second, "third": third,
                  "archive": str(settings.archive_dir)}}))
''')
    assert got["first"].startswith("OSError") and got["left"] == []
    assert got["second"] == "2022-W28" and got["third"] is None
    written = sorted(p.name for p in (Path(got["archive"]) / "2022" / "2022-W28").iterdir())
    assert written and not any(n.startswith(".") for n in written)


def test_wal_on_a_full_disk_rolls_the_pass_back_and_the_retry_takes_each_step_once(sqlite_template, tmp_path):
    """SQLite cannot grow its WAL (EFBIG): the pass fails whole; after space returns the day ends as the reference's does."""
    ticks = 24
    for name in ("ref", "run"):
        (tmp_path / name).mkdir()
        shutil.copyfile(sqlite_template, tmp_path / name / "r.db")
    with SmtpSink() as sink, GatewayStub() as stub:
        ref_cfg = busyday.write_config(tmp_path / "ref", database_url=f"sqlite:///{tmp_path / 'ref' / 'r.db'}",
                                       smtp_port=sink.port, sms_url=stub.url)

        async def reference() -> None:
            ctx = busyday.context(ref_cfg, owner="ref")
            await busyday.run(ctx, busyday.schedule(ticks))
            for ch in ctx.channels.values():
                await ch.aclose()
            ctx.engine.dispose()

        asyncio.run(reference())
        cfg = busyday.write_config(tmp_path / "run", database_url=f"sqlite:///{tmp_path / 'run' / 'r.db'}",
                                   smtp_port=sink.port, sms_url=stub.url)
        got = child(LIMIT + f'''
import asyncio, json
from pathlib import Path
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from responder import pipeline
from responder.testing import busyday
times = busyday.schedule({ticks})
async def go():
    ctx = busyday.context(Path({str(cfg)!r}), owner="wal")
    await busyday.run(ctx, times[:8])
    with ctx.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    disk_full(1024)
    failed, at = None, 8
    while failed is None and at < len(times):  # the first pass that writes anything meets the full disk
        try:
            busyday.add_due_items(ctx.engine, times[at])
            await pipeline.tick(ctx, times[at], poll=False)
            at += 1
        except OperationalError as exc:
            failed = str(exc.orig)
    space_again()
    await busyday.run(ctx, times, start=at)
    for ch in ctx.channels.values():
        await ch.aclose()
    ctx.engine.dispose()
    return failed
print(json.dumps({{"failed": asyncio.run(go())}}))
''')
    assert got["failed"] and ("full" in got["failed"] or "I/O" in got["failed"]), got
    ref_engine, run_engine = (db.make_engine(f"sqlite:///{tmp_path / n / 'r.db'}") for n in ("ref", "run"))
    try:
        assert summary(run_engine)["steps"] == summary(ref_engine)["steps"]
        assert summary(run_engine)["messages"] == summary(ref_engine)["messages"]
        with Session(run_engine) as s:
            assert s.exec(select(ClockStep)).all()
    finally:
        ref_engine.dispose()
        run_engine.dispose()
    con = sqlite3.connect(tmp_path / "run" / "r.db")
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    verify = subprocess.run([EXE, "audit", "verify", "-c", str(cfg)], capture_output=True, text=True, timeout=EVENT_LIMIT)
    assert verify.returncode == 0, verify.stdout + verify.stderr
