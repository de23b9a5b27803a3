"""Working-day counting (issue 19): responder's calendar vs counting with chinese_calendar.is_workday.

Usage: .venv/bin/python bench/workdays.py [--counts 2000]

baseline  = the rules.md §3.1 loop calling ``chinese_calendar.is_workday`` day by day (its per-call
            range check scans its whole table);
workdays  = ``responder.workdays.Calendar.add_workdays`` (the package's tables read once per year).
Both count 40 working days (20 + an extension) from receipt dates spread over 2025–2026, and must
agree on every date. Also: one idle ``disclosure.service.sweep`` pass on a SQLite file holding 200
open requests. The last line is JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import chinese_calendar  # noqa: E402

from responder.workdays import Calendar  # noqa: E402


def baseline(received: dt.date, n: int) -> dt.date:
    d, c = received, 0
    while c < n:
        d += dt.timedelta(days=1)
        if chinese_calendar.is_workday(d):
            c += 1
    return d


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts", type=int, default=2000)
    a = ap.parse_args()
    dates = [dt.date(2025, 1, 1) + dt.timedelta(days=i % 600) for i in range(a.counts)]
    t = time.perf_counter()
    want = [baseline(d, 40) for d in dates]
    base_s = time.perf_counter() - t
    cal = Calendar()
    t = time.perf_counter()
    got = [cal.add_workdays(d, 40).due_date for d in dates]
    ours_s = time.perf_counter() - t
    assert got == want, "the two counts disagree"

    from responder import db
    from responder.disclosure import service as svc
    from responder.testing.engine import make_test_settings

    settings = make_test_settings(Path(tempfile.mkdtemp()))
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    now = dt.datetime(2026, 3, 10, 2, tzinfo=dt.timezone.utc)
    for _ in range(200):
        svc.add_request(engine, settings, received=dt.date(2026, 3, 10), channel="当面", now=now)
    svc.sweep(engine, settings, now)
    t = time.perf_counter()
    for _ in range(100):
        svc.sweep(engine, settings, now)
    sweep_ms = (time.perf_counter() - t) / 100 * 1000

    fig = {"counts": a.counts, "baseline_ms_per_count": round(base_s / a.counts * 1000, 3),
           "workdays_ms_per_count": round(ours_s / a.counts * 1000, 3), "speedup": round(base_s / ours_s, 1),
           "sweep_idle_ms": round(sweep_ms, 2)}
    print(f"40-working-day count: chinese_calendar loop {fig['baseline_ms_per_count']} ms, "
          f"responder.workdays {fig['workdays_ms_per_count']} ms ({fig['speedup']}x); same date on all {a.counts}")
    print(f"idle sweep pass (200 open requests, SQLite): {fig['sweep_idle_ms']} ms")
    print(json.dumps(fig))


if __name__ == "__main__":
    main()
