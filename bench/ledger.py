#!/usr/bin/env python3
"""Benchmark the response ledger: a year (2022) with 10,000 cases, as JSON and as XLSX.

    python bench/ledger.py [--cases 10000] [--keep DIR]

The database (SQLite) is filled with Core executemany rows shaped exactly as the
engine writes them — ``case.opened``, ``clock.started``, ``clock.step``,
``release.recorded``, ``clock.met``/``met_late``/``cancelled``, ``case.closed``
events and their case, clock, release and item rows — rather than through the
engine, which would take most of an hour for 10,000 cases. 10% are 5-hour
matters (two clocks, released twice), 90% 48-hour ones; 5% are never answered,
some answered late, some transferred. The audit chain's hashes are placeholders
(the ledger reads events, it does not verify them). Then, in the same run:

* baseline 1, the raw query: reading the year's case events and nothing else;
* baseline 2, the existing weekly log: ``weekly_figures`` of ``--weeks`` weeks spread over the year (default
  4; each is a full weekly log over the same database), reported per week and times 52;
* the ledger: reading (``load_rows``), computing, rendering JSON, rendering XLSX.

Last line: one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UTC = dt.timezone.utc
H = dt.timedelta(hours=1)
YEAR_START = dt.datetime(2021, 12, 31, 16, 0, tzinfo=UTC)  # 1 January 2022 00:00 Beijing
YEAR = dt.timedelta(days=365)


def fill(engine, settings, n: int, seed: int = 18) -> dict[str, int]:
    """n cases over 2022 (and n/12 in December 2021, the previous period's tail)."""
    from sqlalchemy import insert

    from responder.models import AuditEvent, Case, Clock, ClockStep, Item, Release, Source

    rnd = random.Random(seed)
    units = [u for u in settings.units if u.id != settings.office.id] or list(settings.units)
    rows: dict[str, list[dict]] = {k: [] for k in ("case", "clock", "step", "release", "item", "event")}
    seq = 0
    ids = {"case": 0, "clock": 0, "release": 0, "item": 0, "step": 0}

    def ev(at, kind, subject, data, actor="system"):
        nonlocal seq
        seq += 1
        rows["event"].append(AuditEvent(seq=seq, at=at, actor=actor, kind=kind, subject=subject, data=data,
                                        prev_hash="0" * 64, hash=f"{seq:064x}").model_dump(exclude={"id"}))

    def clock(case_id, unit, obligation, start, hours, at):
        ids["clock"] += 1
        cid = ids["clock"]
        deadline = start + hours * H
        rows["clock"].append(Clock(id=cid, case_id=case_id, subject=f"case:{case_id}", unit_id=unit.id,
                                   obligation=obligation, state="running", started_at=start, deadline_at=deadline,
                                   policy={"label": obligation}).model_dump())
        ev(at, "clock.started", f"case:{case_id}", {"clock_id": cid, "obligation": obligation, "start_basis": "first_report",
                                                    "started_at": start.isoformat(), "deadline_at": deadline.isoformat()})
        ids["step"] += 1
        rows["step"].append(ClockStep(id=ids["step"], clock_id=cid, case_id=case_id, step_key="g1:s0",
                                      step_kind="case_opened", due_at=at, taken_at=at, messages=2).model_dump())
        ev(at, "clock.step", f"case:{case_id}", {"clock_id": cid, "step": "g1:s0", "kind": "case_opened",
                                                 "due_at": at.isoformat(), "recipients": [], "messages": 2})
        return cid, deadline

    def release(case_id, kind, at, stops):
        ids["release"] += 1
        rid = ids["release"]
        url = f"https://www.shitai.gov.cn/r{rid}"
        rows["release"].append(Release(id=rid, case_id=case_id, kind=kind, url=url, title=f"发布{rid}", published_at=at,
                                       recorded_at=at).model_dump())
        for cid, deadline in stops:
            state = "met" if at <= deadline else "met_late"
            ev(at, f"clock.{state}", f"case:{case_id}", {"clock_id": cid, "met_at": at.isoformat(),
                                                         "deadline_at": deadline.isoformat(), "release_id": rid})
        ev(at, "release.recorded", f"case:{case_id}", {"release_id": rid, "kind": kind, "url": url,
                                                       "published_at": at.isoformat(), "clocks_stopped": []},
           actor="operator")
        return rid

    total = n + n // 12
    span_start = YEAR_START - dt.timedelta(days=31)
    span = YEAR + dt.timedelta(days=31)
    opened_at = sorted(span_start + span * rnd.random() for _ in range(total))
    for at in opened_at:
        ids["case"] += 1
        cid = ids["case"]
        unit = rnd.choice(units)
        five = rnd.random() < 0.10
        title = f"{unit.name}相关网络舆情第{cid}号：群众反映问题需核实处置"
        rows["case"].append(Case(id=cid, title=title, level="II" if five else None, department=unit.name,
                                 clock_class="5h" if five else "48h", detected_at=at, opened_at=at, first_report_at=at,
                                 updated_at=at, reasons=["测试"]).model_dump())
        ids["item"] += 1
        rows["item"].append(Item(id=ids["item"], source_name="bench", role="opinion", guid=f"g{cid}", title=title,
                                 link=f"https://news.example.cn/{cid}", first_seen_at=at, published_at=at, case_id=cid,
                                 status="classified").model_dump())
        ev(at, "case.opened", f"case:{cid}", {"title": title, "level": "II" if five else None,
                                              "clock": "5h" if five else "48h", "department": unit.name,
                                              "reasons": ["测试"]})
        fate = rnd.random()
        if five:
            c5 = clock(cid, unit, "release_5h", at, 5, at)
            c24 = clock(cid, unit, "press_24h", at, 24, at)
            r1 = at + rnd.uniform(1, 8) * H
            release(cid, "权威发布", r1, [c5])
            r2 = at + rnd.uniform(10, 30) * H
            release(cid, "新闻发布会", r2, [c24])
            ev(r2 + 2 * H, "case.closed", f"case:{cid}", {"kind": "resolved", "reason": "处置完毕"}, actor="operator")
        else:
            c48 = clock(cid, unit, "response_48h", at, 48, at)
            if fate < 0.05:
                continue  # never answered: overdue
            if fate < 0.08:
                ev(at + 2 * H, "clock.cancelled", f"case:{cid}", {"clock_id": c48[0], "reason": "转交"})
                ev(at + 2 * H, "case.closed", f"case:{cid}", {"kind": "not_ours", "reason": "非本县职责"}, actor="operator")
                continue
            r = at + rnd.uniform(0.5, 56) * H
            rid = release(cid, "回应", r, [c48])
            ev(r, "case.closed", f"case:{cid}", {"kind": "met", "release_id": rid})
    # Events must be in time order, as the engine writes them: re-sequence by time.
    rows["event"].sort(key=lambda e: (e["at"], e["seq"]))
    for i, e in enumerate(rows["event"], 1):
        e["seq"], e["hash"] = i, f"{i:064x}"
    with engine.begin() as con:
        con.execute(insert(Source), [Source(name="bench", kind="file", role="opinion", url="").model_dump()])
        for model, key in ((Case, "case"), (Clock, "clock"), (ClockStep, "step"), (Item, "item"), (Release, "release"),
                           (AuditEvent, "event")):
            for i in range(0, len(rows[key]), 5000):
                con.execute(insert(model), rows[key][i:i + 5000])
    return {"cases_total": total, "events": len(rows["event"]), "clocks": len(rows["clock"]),
            "releases": len(rows["release"])}


def timed(fn, repeats: int = 1):
    best, out = None, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        d = time.perf_counter() - t
        best = d if best is None else min(best, d)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=10_000, help="cases opened in the year (default 10000)")
    ap.add_argument("--weeks", type=int, default=4, help="weekly logs measured for baseline 2 (default 4)")
    ap.add_argument("--keep", help="directory for the database (default: a temporary one)")
    a = ap.parse_args()

    from sqlmodel import Session, select

    from responder import db
    from responder.models import AuditEvent
    from responder.report.ledger import CASE_EVENTS, Period, ledger, load_rows, UnitsInfo
    from responder.report.ledger_render import render_ledger
    from responder.report.weekly import weekly_figures
    from responder.testing.engine import make_test_settings

    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    work.mkdir(parents=True, exist_ok=True)
    settings = make_test_settings(work)
    engine = db.make_engine(f"sqlite:///{work}/bench.db")
    db.upgrade(engine)
    t = time.perf_counter()
    counts = fill(engine, settings, a.cases)
    print(f"filled {counts['cases_total']:,} cases, {counts['events']:,} events in {time.perf_counter() - t:.1f} s", flush=True)

    year = Period(dt.date(2022, 1, 1), dt.date(2022, 12, 31), "year")
    info = UnitsInfo.from_settings(settings)

    def raw():
        with Session(engine) as s:
            return len(s.exec(select(AuditEvent.seq, AuditEvent.at, AuditEvent.kind, AuditEvent.subject, AuditEvent.data)
                              .where(AuditEvent.kind.in_(CASE_EVENTS), AuditEvent.at >= year.previous().start,
                                     AuditEvent.at < year.end)).all())

    raw_s, n_raw = timed(raw, 3)
    print(f"baseline, raw query of the events: {raw_s:.2f} s ({n_raw:,} events)", flush=True)

    picks = [round(i * 51 / max(1, a.weeks - 1)) for i in range(a.weeks)] if a.weeks > 1 else [25]

    def weeks():
        with Session(engine) as s:
            monday = dt.datetime(2022, 1, 2, 16, 0, tzinfo=UTC)  # Monday 3 January 00:00 Beijing
            for w in picks:
                weekly_figures(s, settings, monday + dt.timedelta(days=7 * w), monday + dt.timedelta(days=7 * (w + 1)))

    weeks_s, _ = timed(weeks)
    week_s = weeks_s / len(picks)
    weekly_s = week_s * 52
    print(f"baseline, one weekly log's figures: {week_s:.2f} s (mean of {len(picks)} weeks; ×52 = {weekly_s:.1f} s)",
          flush=True)

    def load():
        with Session(engine) as s:
            return load_rows(s, year.previous().start, year.end)

    load_s, rows = timed(load, 3)
    compute_s, lg = timed(lambda: ledger(rows, year, info), 3)
    json_s, js = timed(lambda: render_ledger(lg, "json"), 3)
    xlsx_s, xl = timed(lambda: render_ledger(lg, "xlsx"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json_total = load_s + compute_s + json_s
    xlsx_total = load_s + compute_s + xlsx_s
    print(f"ledger: read {load_s:.2f} s, compute {compute_s:.2f} s, JSON {json_s:.2f} s, XLSX {xlsx_s:.2f} s")
    print(f"ledger of the year, JSON: {json_total:.2f} s ({json_total / raw_s:.1f}× the raw query, "
          f"{json_total / week_s:.2f}× one weekly log); XLSX: {xlsx_total:.2f} s")
    print(f"rows {len(lg['rows']):,}, JSON {len(next(iter(js.values()))) / 1e6:.1f} MB, "
          f"XLSX {len(next(iter(xl.values()))) / 1e6:.1f} MB, peak memory {peak:.0f} MB")
    print(json.dumps({
        "cases_in_year": len(lg["rows"]), **counts, "raw_query_s": round(raw_s, 3), "weekly_one_s": round(week_s, 3),
        "weekly_52_est_s": round(weekly_s, 1),
        "load_s": round(load_s, 3), "compute_s": round(compute_s, 3), "json_render_s": round(json_s, 3),
        "xlsx_render_s": round(xlsx_s, 3), "ledger_json_s": round(json_total, 3), "ledger_xlsx_s": round(xlsx_total, 3),
        "ledger_json_vs_raw": round(json_total / raw_s, 2), "ledger_json_vs_one_weekly": round(json_total / week_s, 2),
        "json_mb": round(len(next(iter(js.values()))) / 1e6, 2), "xlsx_mb": round(len(next(iter(xl.values()))) / 1e6, 2),
        "peak_rss_mb": round(peak),
    }))


if __name__ == "__main__":
    main()
