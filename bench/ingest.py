"""Ingest throughput: feedparser alone vs the whole ingest path, on the same generated Chinese feeds.

Usage: .venv/bin/python bench/ingest.py [--feeds 40] [--items 50] [--repeat 3]

parse-only  = ``feedparser.parse(body)`` with its defaults (what a naive ingester pays per feed);
ingest      = decode + parse (sanitising and relative-URI resolution off) + normalise + dedup
              (one IN query per feed) + Core executemany insert + health + audit, one commit per feed,
              into a fresh SQLite file (WAL, synchronous=NORMAL).
The last line is JSON: {"parse_items_per_s": …, "ingest_items_per_s": …, "ratio": …}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from responder import db  # noqa: E402
from responder.config.sources import SourceConfig  # noqa: E402
from responder.ingest import FetchedDoc, FetchResult, ingest_fetched  # noqa: E402
from responder.testing.feeds import rss  # noqa: E402

UTC = dt.timezone.utc
TOWNS = ["仁里镇", "七都镇", "矶滩乡", "大演乡", "小河镇", "横渡镇", "丁香镇", "仙寓镇"]
TOPICS = ["学校收费", "工地噪音", "补贴未到账", "养老院投诉", "停水", "景区乱收费", "道路积水", "垃圾清运"]
DATE_FORMS = ["%Y-%m-%d %H:%M:%S", "%Y年%m月%d日 %H:%M", "%a, %d %b %Y %H:%M:%S +0800"]


def make_feeds(n_feeds: int, n_items: int, seed: int = 7) -> list[bytes]:
    rnd = random.Random(seed)
    base = dt.datetime(2022, 7, 18, 8, 0)
    feeds = []
    for f in range(n_feeds):
        items = []
        for i in range(n_items):
            town, topic = rnd.choice(TOWNS), rnd.choice(TOPICS)
            when = base + dt.timedelta(minutes=rnd.randint(0, 2880))
            items.append({
                "title": f"网民反映石台县{town}{topic}问题（{f}-{i}）",
                "link": f"https://yuqing.example/{f}/{i}",
                "guid": f"bench-{f}-{i}",
                "pubDate": when.strftime(rnd.choice(DATE_FORMS)),
                "description": f"<p>{town}居民反映{topic}，已持续多日，希望有关部门尽快处理并答复。编号{f}-{i}。</p>" * 3,
            })
        feeds.append(rss(items, encoding=rnd.choice(["utf-8", "gbk", "gb18030"])))
    return feeds


def bench_parse(feeds: list[bytes]) -> float:
    t0 = time.perf_counter()
    n = 0
    for body in feeds:
        n += len(feedparser.parse(body).entries)
    return n / (time.perf_counter() - t0)


def bench_ingest(feeds: list[bytes]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.make_engine(f"sqlite:///{tmp}/bench.db")
        db.upgrade(engine)
        now = dt.datetime(2022, 7, 20, tzinfo=UTC)
        t0 = time.perf_counter()
        n = 0
        for k, body in enumerate(feeds):
            cfg = SourceConfig(name=f"bench{k}", kind="rss", url=f"https://b{k}.invalid/f.xml", role="opinion")
            fr = FetchResult(status=200, documents=(FetchedDoc(cfg.url, body, "application/rss+xml"),))
            rep = ingest_fetched(engine, cfg, fr, now=now, state=None, jitter=0.5)
            assert rep.status == "ok", rep.reason
            n += rep.new + rep.duplicate + rep.same_story + rep.attached
        rate = n / (time.perf_counter() - t0)
        engine.dispose()
        return rate, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=40)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    feeds = make_feeds(a.feeds, a.items)
    size = sum(map(len, feeds))
    print(f"{a.feeds} feeds × {a.items} items, {size / 1024:.0f} KiB (utf-8/gbk/gb18030 mixed), best of {a.repeat}")
    bench_parse(feeds[:2])  # warm-up: imports, regex compilation
    parse_rates, ingest_rates = [], []
    for r in range(a.repeat):  # interleaved, so machine noise hits both alike
        parse_rates.append(bench_parse(feeds))
        rate, n = bench_ingest(feeds)
        ingest_rates.append(rate)
        print(f"  run {r + 1}: parse-only {parse_rates[-1]:.0f} items/s   ingest {rate:.0f} items/s ({n} items stored)")
    p, i = max(parse_rates), max(ingest_rates)
    print(f"median: parse-only {statistics.median(parse_rates):.0f}  ingest {statistics.median(ingest_rates):.0f}")
    print(json.dumps({"parse_items_per_s": round(p, 1), "ingest_items_per_s": round(i, 1), "ratio": round(i / p, 3)}))


if __name__ == "__main__":
    main()
