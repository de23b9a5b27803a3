"""Release matching and same-event joining, measured the way the daemon runs (issue 14).

    .venv/bin/python bench/matching.py [--stream tests/data/matching_stream.json] [--no-baseline]
    RESPONDER_CORPUS=/path/to/corpus/dev .venv/bin/python bench/matching.py

Streams the labelled stream (written for this project: ~30 fictional events a day in
石台县, several independent reports each, same-kind same-township same-day distractors,
county releases answering a case or nothing) — and, when ``RESPONDER_CORPUS`` is set,
the real reports of corpus/dev — through ``responder.service.pipeline`` with file feeds and a
virtual clock (responder.demo.simulate: the daemon's tick every 30 minutes of virtual
time). The corpus has no releases: of each event reported several times, its last report
(by its own publication time) is fed on the release channel (it answers that event), and
every fifth single report too (it answers nothing: an orphan). Corpus events are the
labelled groups below (the 2008 Wenchuan and Panzhihua quakes, the 2014 Kunming attack,
the 2009 Shantou fire, the 2014 Chile aftershock) and every other report alone. Each
report is published on its own day of the month and time of day (see load_corpus: its
今天 and its 12日 must mean the same day), so events of different years that share a day
of the month are same-day distractors.

Figures per stream, for this matcher and — in the same run — the previous one
(title/body near-duplicates only for joining; place/event-word/word-overlap scoring
for releases):
  wrong_merges        reports of a different event sitting on an event's case (must be 0)
  followup_recall     follow-up reports that joined their event's case (target ≥ 0.8)
  wrong_auto_matches  releases attached automatically to a case of another event, orphans included (must be 0)
  release_recall      releases answering a case that were attached or proposed to it (target ≥ 0.9)
The last line is one JSON object of all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
from collections import Counter
from contextlib import contextmanager
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BJ = dt.timezone(dt.timedelta(hours=8))
UTC = dt.timezone.utc

CORPUS_EVENTS = {
    "wenchuan-2008": [18, 36, 38, 39, 40, 43, 52, 65, 98, 105],
    "panzhihua-2008": [35, 37, 73],
    "kunming-2014": [70, 71, 117, 44],
    "shantou-2009": [59, 81],
    "chile-aftershock-2014": [74, 76],
}
"""Reports of one event in corpus/dev, by reading their labels (place, date, type); everything else stands alone."""


# ------------------------------------------------------------------ streams


def load_stream(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [{**it, "at": dt.datetime.fromisoformat(it["published_at"])} for it in data["items"]]


REPORT_TIME_RE = re.compile(r"(\d{4})\D{1,2}(\d{1,2})\D{1,2}(\d{1,2})\D*?(?:(\d{1,2})[:：](\d{2}))?\s*$")


def report_time(first_line: str) -> tuple[dt.date, tuple[int, int] | None] | None:
    """A corpus text's first line is when it was published: 2008年05月12日16:00, 2008-5-13, 2014-04-03 12:54."""
    m = REPORT_TIME_RE.match(first_line.strip())
    if not m:
        return None
    y, mo, d, hh, mm = m.groups()
    try:
        day = dt.date(int(y), int(mo), int(d))
    except ValueError:
        return None
    return day, ((int(hh), int(mm)) if hh is not None else None)


def load_corpus(root: Path) -> list[dict[str, Any]]:
    """The corpus as a stream: every report on its own day of the month and time of day.

    Reports say 今天/昨日 as often as 5月12日; both must mean the same day in the stream, so a
    report is published on the day of the month it was published on (July 2026, which has 31
    days), at its own time of day when its first line gives one. Reports of one event keep
    their real spacing (the Wenchuan report of the next day, the Kunming vigil five days
    later) and their real order: the last one published is fed as the release. Events of
    different years on the same day of the month share a day, so real same-day coincidences
    (three traffic accidents on an 8th) are distractors.
    """
    rows = [json.loads(line) for line in (root / "labels.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    event_of = {i: f"c{i:03d}" for i in range(len(rows))}
    for name, members in CORPUS_EVENTS.items():
        for i in members:
            event_of[i] = name
    texts = [(root / r["text_file"]).read_text(encoding="utf-8") for r in rows]

    def label_day(r: dict[str, Any]) -> dt.date:
        for key in ("report_date", "event_date"):
            if r.get(key):
                return dt.date.fromisoformat(r[key])
        return dt.date(2000, 1, 1)

    rnd = random.Random(14)
    real: dict[int, dt.datetime] = {}
    for i, r in enumerate(rows):
        when = report_time(texts[i].split("\n", 1)[0])
        day, hm = when if when else (label_day(r), None)
        hh, mm = hm if hm else (7 + (i * 7) % 12, (i * 13) % 60)  # no time given: a spread daytime hour
        real[i] = dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=BJ)
    members: dict[str, list[int]] = {}
    for i in sorted(range(len(rows)), key=lambda i: (real[i], i)):
        members.setdefault(event_of[i], []).append(i)
    items = []
    singles = 0
    for ev, idx in members.items():
        first = real[idx[0]]
        start = dt.datetime(2026, 7, first.day, first.hour, first.minute, tzinfo=BJ)
        for m, i in enumerate(idx):
            body = texts[i].split("\n", 1)[-1].strip()
            at = start + (real[i] - first) + dt.timedelta(minutes=rnd.randint(0, 5))
            role = "opinion"
            answers = None
            if len(idx) > 1 and m == len(idx) - 1:
                role, answers = "release", ev
            elif len(idx) == 1:
                singles += 1
                if singles % 5 == 0:
                    role = "release"
            items.append({"id": f"corpus-{i:03d}", "event": ev, "role": role, "answers": answers, "outlet": "corpus",
                          "title": rows[i]["title"], "text": body, "at": at})
    items.sort(key=lambda it: it["at"])
    return items


# ------------------------------------------------------------------ running


def write_feeds(items: list[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    from responder.testing.feeds import rss

    by_source: dict[str, list[dict[str, Any]]] = {}
    for it in items:
        name = "county-release" if it["role"] == "release" else f"opinion-{it['outlet']}"
        by_source.setdefault(name, []).append(it)
    sources = []
    for name, its in by_source.items():
        path = folder / f"{name}.xml"
        path.write_bytes(rss([{"title": it["title"], "link": f"https://feeds.example/{it['id']}", "guid": it["id"],
                               "pubDate": format_datetime(it["at"]), "description": it["text"]} for it in its]))
        sources.append({"name": name, "url": str(path), "role": "release" if name == "county-release" else "opinion",
                        "interval": 300})
    return sources


@contextmanager
def previous_matcher() -> Iterator[None]:
    """The matcher before issue 14: no joining of independent reports; releases by the old scoring."""
    from responder.engine import intake, joining, matching
    from responder.models import Case

    saved = joining.join_by_identity, joining.release_decision

    def old_release(s: Any, settings: Any, item: Any, classify: Any) -> Any:
        from sqlmodel import select

        cases = s.exec(select(Case).where(Case.state == "open")).all()
        return matching.decide(f"{item.title}\n{item.text}", item.published_at or item.first_seen_at,
                               [matching.CaseText(c.id, intake.case_text(s, c), c.first_report_at or c.opened_at,
                                                  c.department) for c in cases])

    joining.join_by_identity = lambda *a, **k: None
    joining.release_decision = old_release
    try:
        yield
    finally:
        joining.join_by_identity, joining.release_decision = saved


def run(items: list[dict[str, Any]], *, baseline: bool) -> dict[str, Any]:
    from sqlmodel import Session, select

    from responder import db
    from responder.demo import simulate
    from responder.models import Item, Release

    d = tempfile.mkdtemp(prefix="bench-matching-")
    try:
        folder = Path(d)
        sources = write_feeds(items, folder)
        start = min(it["at"] for it in items).astimezone(UTC) - dt.timedelta(minutes=30)
        end = max(it["at"] for it in items).astimezone(UTC) + dt.timedelta(hours=2)
        state = folder / "state"
        state.mkdir()
        ctx = previous_matcher() if baseline else _null()
        with ctx:
            asyncio.run(simulate(state_dir=state, sources=sources, start=start, end=end, speed=0, out=io.StringIO(),
                                 quiet_sinks=True))
        engine = db.make_engine(f"sqlite:///{state / 'responder.db'}")
        with Session(engine) as s:
            stored = {i.guid: i for i in s.exec(select(Item)).all()}
            releases = {r.item_id: r for r in s.exec(select(Release).where(Release.item_id.is_not(None))).all()}
        engine.dispose()
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"  kept {d}", file=sys.stderr)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return score(items, stored, releases)


@contextmanager
def _null() -> Iterator[None]:
    yield


def score(items: list[dict[str, Any]], stored: dict[str, Any], releases: dict[int, Any]) -> dict[str, Any]:
    reports = [it for it in items if it["role"] == "opinion"]
    case_of = {it["id"]: stored[it["id"]].case_id for it in reports if it["id"] in stored}
    # A case belongs to the event most of its reports are about; an event's case is the one holding most
    # of its reports (its first report may be a thin one that later, fuller reports cannot recognise).
    on_case: dict[int, Counter] = {}
    for it in reports:
        if case_of.get(it["id"]) is not None:
            on_case.setdefault(case_of[it["id"]], Counter())[it["event"]] += 1
    case_event = {cid: c.most_common(1)[0][0] for cid, c in on_case.items()}
    per_event: dict[str, Counter] = {}
    for it in reports:
        if case_of.get(it["id"]) is not None:
            per_event.setdefault(it["event"], Counter())[case_of[it["id"]]] += 1
    first_case = {ev: c.most_common(1)[0][0] for ev, c in per_event.items()}
    titles = {it["id"]: it["title"] for it in reports}
    wrong_merges = [f"{it['id']}→{case_event[case_of[it['id']]]} ({stored[it['id']].attach_reason})" for it in reports
                    if case_of.get(it["id"]) is not None and case_event[case_of[it["id"]]] != it["event"]]
    followups = sum(sum(c.values()) - 1 for c in per_event.values())
    joined = sum(c.most_common(1)[0][1] - 1 for c in per_event.values())
    missed = [f"{it['id']} {titles[it['id']]} {stored[it['id']].extra.get('join_declined', '')}" for it in reports
              if case_of.get(it["id"]) is not None and case_of[it["id"]] != first_case[it["event"]]]
    rel_items = [it for it in items if it["role"] == "release"]
    wrong_auto, found, answering, proposed_wrong = [], 0, 0, 0
    for it in rel_items:
        row = stored.get(it["id"])
        rel = releases.get(row.id) if row is not None else None
        right = rel is not None and it.get("answers") is not None and case_event.get(rel.case_id) == it["answers"]
        if it.get("answers") and first_case.get(it["answers"]) is not None:
            answering += 1
            found += right
        if rel is not None and rel.status == "confirmed" and not right:
            wrong_auto.append(f"{it['id']}→{case_event.get(rel.case_id)} ({'；'.join(rel.match_reasons or [])})")
        elif rel is not None and rel.status == "proposed" and not right:
            proposed_wrong += 1
    confirmed = sum(1 for it in rel_items if stored.get(it["id"]) is not None
                    and (r := releases.get(stored[it["id"]].id)) is not None and r.status == "confirmed")
    return {
        "reports": len(reports), "events": len({it["event"] for it in reports}), "cases": len(case_event),
        "wrong_merges": len(wrong_merges), "wrong_merge_items": wrong_merges[:10],
        "followups": followups, "followups_joined": joined,
        "followup_recall": round(joined / followups, 3) if followups else None,
        "releases": len(rel_items), "releases_answering": answering, "releases_found": found,
        "release_recall": round(found / answering, 3) if answering else None,
        "releases_attached": confirmed, "wrong_auto_matches": len(wrong_auto), "wrong_auto_items": wrong_auto[:10],
        "proposed_to_wrong_case": proposed_wrong, "missed_items": missed,
    }


def show(name: str, r: dict[str, Any], verbose: bool = False) -> None:
    print(f"  {name:9s} cases {r['cases']:3d} for {r['events']:3d} events / {r['reports']} reports | "
          f"wrong merges {r['wrong_merges']} | follow-ups joined {r['followups_joined']}/{r['followups']} "
          f"({r['followup_recall']}) | releases attached {r['releases_attached']}, wrong automatic {r['wrong_auto_matches']}"
          f" | release recall {r['releases_found']}/{r['releases_answering']} ({r['release_recall']})"
          f" | proposed to a wrong case {r['proposed_to_wrong_case']}")
    if r["wrong_merge_items"] or r["wrong_auto_items"]:
        for line in r["wrong_merge_items"] + r["wrong_auto_items"]:
            print(f"            {line}")
    if verbose:
        for line in r["missed_items"]:
            print(f"            missed: {line}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stream", default=str(ROOT / "tests" / "data" / "matching_stream.json"),
                    help="the labelled stream (empty: corpus only)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the previous matcher")
    ap.add_argument("--verbose", action="store_true", help="list follow-ups that did not join")
    args = ap.parse_args()
    streams = {"stream": load_stream(Path(args.stream))} if args.stream else {}
    corpus = os.environ.get("RESPONDER_CORPUS")
    if corpus:
        streams["corpus"] = load_corpus(Path(corpus).expanduser().resolve())
    else:
        print("RESPONDER_CORPUS not set: corpus/dev not measured", file=sys.stderr)
    figures: dict[str, Any] = {}
    for name, items in streams.items():
        print(f"{name}: {sum(1 for i in items if i['role'] == 'opinion')} reports, "
              f"{sum(1 for i in items if i['role'] == 'release')} releases", flush=True)
        ours = run(items, baseline=False)
        show("issue 14", ours, args.verbose)
        figures[name] = {k: v for k, v in ours.items() if not k.endswith("_items")}
        if not args.no_baseline:
            old = run(items, baseline=True)
            show("previous", old)
            figures[name + "_previous"] = {k: v for k, v in old.items() if not k.endswith("_items")}
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
