"""Time the console's case list and case page with 10,000 open cases.

Usage (from the project root):
    .venv/bin/python bench/web.py [--cases 10000] [--runs 30] [--pg postgresql://…]

Builds a migrated SQLite database (or a fresh PostgreSQL database with --pg) with
N open cases, each with a running clock whose deadline is spread from 10 hours
overdue to 48 hours ahead, then measures, in the same run:

* ``GET /cases`` (first page, 100 rows, ordered by time left) and ``GET /cases/<id>``
  through the real ASGI app in-process (server time: routing, session, queries,
  template; no network);
* the baseline: the same question through the CLI's code path —
  ``status --json`` (``responder.service.status.collect``: open cases, nearest
  deadline, sorted) and ``show --json`` (``case_cmd.timeline``) for the case page.

Prints median and p95 of each in milliseconds; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

UTC = dt.timezone.utc
PASSWORD = "bench password 1"


def populate(engine, n: int, now: dt.datetime) -> None:
    from sqlalchemy import insert

    from responder.models import Case, Clock

    depts = ["县应急管理局", "县教体局", "县住建局", "县卫健委", None]
    cases, clocks = [], []
    for i in range(1, n + 1):
        five = i % 7 == 0
        start = now - dt.timedelta(minutes=(i * 37) % (58 * 60))
        deadline = start + dt.timedelta(hours=5 if five else 48)
        cases.append({"id": i, "title": f"舆情 #{i}：某镇某事反映", "state": "open", "source_role": "opinion",
                      "level": "II" if five else None, "clock_class": "5h" if five else "48h", "needs_review": False,
                      "reasons": ["bench"], "facts": {}, "co_departments": [], "department": depts[i % len(depts)],
                      "detected_at": start, "opened_at": start, "first_report_at": start, "generation": 1, "updated_at": start})
        clocks.append({"case_id": i, "subject": f"case:{i}", "obligation": "release_5h" if five else "response_48h",
                       "state": "running" if deadline > now else "overdue", "start_basis": "first_report",
                       "started_at": start, "deadline_at": deadline, "generation": 1, "next_step": 0,
                       "policy": {"label": "5小时内发布权威信息" if five else "48小时内予以回应"},
                       "next_action_at": deadline})
    with engine.begin() as conn:
        for k in range(0, n, 2000):
            conn.execute(insert(Case), cases[k:k + 2000])
            conn.execute(insert(Clock), clocks[k:k + 2000])


def timed(fn, runs: int) -> dict[str, float]:
    fn()  # warm: template compile, caches
    xs = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t) * 1000)
    xs.sort()
    return {"median_ms": round(statistics.median(xs), 2), "p95_ms": round(xs[max(0, int(len(xs) * 0.95) - 1)], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--pg", action="store_true",
                    help="on a fresh PostgreSQL database (RESPONDER_TEST_PG_URL's server; dropped afterwards)")
    args = ap.parse_args()

    from starlette.testclient import TestClient

    from responder import db
    from responder.cli.case_cmd import timeline
    from responder.service.status import collect
    from responder.testing.engine import make_test_settings
    from responder.web import create_app
    from responder.web.auth import add_user

    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    settings = make_test_settings(tmp)
    pg_name = None
    if args.pg:
        from responder.testing import databases

        url, pg_name = databases.create_pg_database()
        engine = db.make_engine(url)
    else:
        engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    now = dt.datetime.now(UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    populate(engine, args.cases, now)
    add_user(engine, settings, name="bench", role="operator", password=PASSWORD, now=now)
    print(f"{args.cases} open cases written in {time.perf_counter() - t0:.1f} s ({engine.dialect.name})")

    app = create_app(settings, engine, clock=lambda: now, key="bench-" + "x" * 40)
    c = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    assert c.post("/login", data={"name": "bench", "password": PASSWORD, "csrf_token": token}).status_code == 303
    case_id = args.cases // 2

    def page_list() -> None:
        r = c.get("/cases")
        assert r.status_code == 200 and "li class=\"case" in r.text

    def page_case() -> None:
        assert c.get(f"/cases/{case_id}").status_code == 200

    def cli_status() -> None:
        json.dumps(collect(engine, now), ensure_ascii=False, default=str)

    def cli_show() -> None:
        json.dumps(timeline(engine, case_id), ensure_ascii=False, default=str)

    figures = {"cases": args.cases, "runs": args.runs, "database": engine.dialect.name,
               "case_list": timed(page_list, args.runs), "status_json": timed(cli_status, args.runs),
               "case_page": timed(page_case, args.runs), "show_json": timed(cli_show, args.runs)}
    figures["case_list_vs_status"] = round(figures["case_list"]["median_ms"] / figures["status_json"]["median_ms"], 2)
    figures["case_page_vs_show"] = round(figures["case_page"]["median_ms"] / figures["show_json"]["median_ms"], 2)
    for k in ("case_list", "status_json", "case_page", "show_json"):
        print(f"{k:<12} median {figures[k]['median_ms']:8.2f} ms   p95 {figures[k]['p95_ms']:8.2f} ms")
    print("status --json reads at most 500 cases (its limit); the console's first page orders all of them in SQL.")
    if pg_name:
        engine.dispose()
        databases.drop_pg_database(pg_name)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
