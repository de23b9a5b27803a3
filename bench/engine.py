#!/usr/bin/env python3
"""Benchmark the clocks engine: one `advance` over a database of 1,000,000 open clocks.

Prints the time of one `advance` call when nothing is due and when 100 steps are due
(SQLite, the embedded default), the process's peak memory, and — side by side in the
same run — the obvious alternative: one APScheduler job per clock, at 100,000 clocks.

    python bench/engine.py [--clocks 1000000] [--jobs 100000] [--keep DIR]

The filler clocks are real `clock` rows (open, next action months ahead) inserted
with Core executemany; their policy snapshot is kept small to keep the file small
(the due-work query never reads it). The 100 due clocks belong to real cases opened
through the engine. Last line: one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UTC = dt.timezone.utc
T0 = dt.datetime(2022, 7, 18, 2, 0, tzinfo=UTC)


def rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def fill(db_url: str, n: int) -> None:
    from sqlalchemy import insert

    from responder import db
    from responder.models import Clock

    engine = db.make_engine(db_url)
    db.upgrade(engine)
    far = T0 + dt.timedelta(days=90)
    batch = 20_000
    t = time.perf_counter()
    with engine.begin() as conn:
        for start in range(0, n, batch):
            rows = [{
                "case_id": None, "subject": f"bench:{i}", "unit_id": "office", "obligation": "bench_filler",
                "state": "running", "start_basis": "first_report", "started_at": T0, "deadline_at": far,
                "generation": 1, "policy": {"name": "filler"}, "next_step": 0,
                "next_action_at": far + dt.timedelta(seconds=i % 86400),
            } for i in range(start, min(n, start + batch))]
            conn.execute(insert(Clock), rows)
    print(f"filled {n:,} open clocks in {time.perf_counter() - t:.1f} s", flush=True)


def measure(db_url: str, cfg_dir: str, repeats: int) -> dict:
    """Run in a fresh process: open 100 real cases, time idle and due advances."""
    from responder import db, engine as eng
    from responder.classify import Decision
    from responder.db import transaction
    from responder.engine import create_case, policies_for
    from responder.testing.engine import make_test_settings

    settings = make_test_settings(Path(cfg_dir))
    engine = db.make_engine(db_url)
    baseline = current_rss_mb()  # after imports, before touching the clocks
    policies = policies_for(settings)
    decision = Decision(level=None, level_name=None, category=None, domain="义务教育", department="县教体局",
                        co_departments=(), clock="48h", needs_review=False, reasons=("bench",), facts={})
    eng.advance(engine, settings, T0)  # warm: connection, WAL, statement cache
    idle = []
    for _ in range(repeats):
        t = time.perf_counter()
        r = eng.advance(engine, settings, T0)
        idle.append((time.perf_counter() - t) * 1000)
        assert r.steps == 0
    due = []
    for k in range(repeats):
        at = T0 + dt.timedelta(days=k + 1)
        with transaction(engine) as s:
            for i in range(100):
                create_case(s, settings, policies, title=f"bench case {k}-{i}", decision=decision, start=at,
                            basis="first_report", now=at)
        t = time.perf_counter()
        r = eng.advance(engine, settings, at)
        due.append((time.perf_counter() - t) * 1000)
        assert r.steps == 100, r
        with engine.begin() as conn:  # retire this round's clocks so the next round measures 100 again
            conn.exec_driver_sql("UPDATE clock SET next_action_at = NULL, state = 'met' WHERE case_id IS NOT NULL")
    return {"idle_advance_ms": round(statistics.median(idle), 3), "due100_advance_ms": round(statistics.median(due), 2),
            "peak_rss_mb": round(rss_mb(), 1), "baseline_rss_mb": round(baseline, 1)}


def apscheduler(n: int) -> dict:
    """The alternative: one in-memory APScheduler date job per clock."""
    import asyncio

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    def job() -> None:
        pass

    async def run() -> tuple[float, float]:
        sched = AsyncIOScheduler(timezone="UTC")
        sched.start(paused=True)
        far = dt.datetime.now(UTC) + dt.timedelta(days=90)
        t = time.perf_counter()
        for i in range(n):
            sched.add_job(job, "date", run_date=far + dt.timedelta(seconds=i), id=f"c{i}",
                          misfire_grace_time=3600, coalesce=True, max_instances=1)
        took = time.perf_counter() - t
        after = current_rss_mb()
        sched.shutdown(wait=False)
        return took, after

    before = current_rss_mb()
    took, after = asyncio.run(run())
    return {"apscheduler_jobs": n, "apscheduler_add_s": round(took, 2), "apscheduler_rss_mb": round(after - before, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clocks", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--keep", help="Keep the database in this directory.")
    ap.add_argument("--_measure", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--_aps", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._measure:
        print(json.dumps(measure(a._measure[0], a._measure[1], a.repeats)))
        return
    if a._aps:
        print(json.dumps(apscheduler(a._aps)))
        return
    work = Path(a.keep or tempfile.mkdtemp(prefix="responder-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{work}/bench.db"
    fill(db_url, a.clocks)
    size = os.path.getsize(work / "bench.db") / 1e6
    print(f"database file: {size:.0f} MB", flush=True)

    def child(*args: str) -> dict:
        p = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"benchmark step {args[0]} failed:\n{p.stderr[-3000:]}")
        return json.loads(p.stdout.strip().splitlines()[-1])

    eng_fig = child("--_measure", db_url, str(work), "--repeats", str(a.repeats))
    # The same measurement on a database 100× smaller: if memory grew with open clocks, it would show.
    small_url = f"sqlite:///{work}/small.db"
    fill(small_url, max(1, a.clocks // 100))
    small = child("--_measure", small_url, str(work / "small"), "--repeats", str(a.repeats))

    aps = child("--_aps", str(a.jobs))
    print(f"advance, nothing due:      {eng_fig['idle_advance_ms']:.3f} ms (target < 5 ms)")
    print(f"advance, 100 steps due:    {eng_fig['due100_advance_ms']:.1f} ms (target < 50 ms)")
    print(f"peak memory (advance proc): {eng_fig['peak_rss_mb']:.0f} MB with {a.clocks:,} open clocks, "
          f"{small['peak_rss_mb']:.0f} MB with {max(1, a.clocks // 100):,} (same work, 100× fewer clocks)")
    print(f"APScheduler, {a.jobs:,} jobs:  add {aps['apscheduler_add_s']:.1f} s, +{aps['apscheduler_rss_mb']:.0f} MB "
          f"(vs {eng_fig['idle_advance_ms']:.3f} ms and no per-clock memory for the engine)")

    eng_fig["peak_rss_mb_small_db"] = small["peak_rss_mb"]
    eng_fig["rss_ratio_1m_vs_small"] = round(eng_fig["peak_rss_mb"] / small["peak_rss_mb"], 2)
    print(json.dumps({"open_clocks": a.clocks, **eng_fig, **aps}))


if __name__ == "__main__":
    main()
