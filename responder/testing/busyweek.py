"""A busy week with nobody answering (issue 17): how many SMS does one person get, per case or bundled?

Our own fixtures (the development corpus's reports may not be copied): 200 reports over five and a
half days, a quarter of them major incidents (10 or more dead: 重大, the 5-hour clock) and the rest
ordinary complaints (the 48-hour clock), in the county's towns. Nobody releases and nobody signs, so
every ladder runs to its end: openings, reminders, final warnings, overdue notices and every repeat,
with the shipped policies (config/policies.toml) and the shipped configuration.

The pipeline is ticked on a virtual clock as the daemon would wake: at each item, at the engine's
and the outbox's next due time, and at least every 30 minutes. The SMS go through the loopback
gateway. ``figures`` then counts, per person and Beijing day, the SMS sent ("after") and the per-case
SMS rows the engine wrote ("before": what ``[notify] bundle = false`` sends, one per case and step),
and how long each 5-hour case's first alert waited.

    python -m responder.testing.busyweek [--bundle | --no-bundle] [--dated] [--days 5.5] [--items 200]

prints the figures as JSON (docs/notifications.md quotes them).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import re
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from responder.timeutil import BEIJING

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # Monday 08:00 Beijing
POLL = dt.timedelta(minutes=30)

TOWNS = ["仁里镇", "七都镇", "横渡镇", "丁香镇", "小河镇", "矶滩乡", "大演乡", "仙寓镇", "县城区", "高新区"]
MAJOR = [  # (title pattern, text pattern): 10 or more dead is 重大 for accidents (国务院令第493号)
    ("{town}{place}发生爆炸 已致{n}人死亡", "{town}{place}发生爆炸事故，截至目前已造成{n}人死亡。"),
    ("{town}{place}突发火灾 {n}人遇难", "{town}{place}发生火灾，已造成{n}人死亡。"),
    ("一辆客车在{town}{place}侧翻 造成{n}人死亡", "一辆客车在{town}{place}侧翻，事故已造成{n}人死亡。"),
    ("{town}{place}发生坍塌事故 {n}人死亡", "{town}{place}发生坍塌，已造成{n}人死亡。"),
]
PLACES = ["化工厂", "烟花厂", "矿山", "建筑工地", "采石场", "仓库", "隧道", "大桥", "码头", "加油站", "物流园", "商场",
          "农贸市场", "水泥厂", "砖厂", "电站", "服装厂", "木材厂", "竹制品厂", "茶厂"]
ORDINARY = [
    "{town}{place}附近停水两天 居民生活受影响", "{town}{place}垃圾清运不及时 居民投诉", "{town}{place}占道经营严重",
    "{town}{place}路灯长期不亮 群众夜间出行不便", "{town}{place}噪音扰民 居民多次反映", "{town}{place}被指乱收费",
    "{town}{place}排队时间长 群众不满", "{town}{place}道路破损 多次反映无人修",
]
OPLACES = ["中心小学", "卫生院", "农贸市场", "老旧小区", "汽车站", "便民服务中心", "幼儿园", "菜市场", "公园", "养老院"]


def items(n: int = 200, days: float = 5.5, seed: int = 17,
          dated: bool = False) -> list[tuple[dt.datetime, dt.datetime, str, str, str]]:
    """(first seen, published, title, text, role): a quarter major incidents, the rest complaints, over the days.

    ``dated = False``: each is seen when it is published, to the second, so the clocks start at
    scattered instants and steps of different cases rarely fall due within a minute of each other —
    the hard case for bundling. ``dated = True``: reports carry only their day (as the corpus's reports
    the issue replayed do: "the first line of each file is the report's date"), so with
    ``[start] basis = "first_report"`` the clocks of one day's reports all start at that day's first
    instant and their steps coincide.
    """
    rnd = random.Random(seed)
    out = []
    span = int(days * 24 * 3600)
    used: set[tuple[str, str]] = set()
    for i in range(n):
        at = T0 + dt.timedelta(seconds=rnd.randrange(span))
        while True:
            town = rnd.choice(TOWNS)
            if i % 4 == 0:
                place = rnd.choice(PLACES)
                title, text = rnd.choice(MAJOR)
                role = "incident"
            else:
                place = rnd.choice(OPLACES)
                title, text = rnd.choice(ORDINARY), "网友反映：" + "{town}{place}的问题一直没有解决。"
                role = "opinion"
            key = (town, place, title)
            if key not in used or len(used) >= len(TOWNS) * (len(PLACES) * len(MAJOR) + len(OPLACES) * len(ORDINARY)):
                used.add(key)
                break
        deaths = rnd.randrange(10, 30)
        published = at
        if dated:
            published = dt.datetime.combine(at.astimezone(BEIJING).date(), dt.time(0), tzinfo=BEIJING).astimezone(UTC)
        out.append((at, published, title.format(town=town, place=place, n=deaths), text.format(town=town, place=place, n=deaths), role))
    return sorted(out)


def write_config(tmp: Path, *, sms_url: str, bundle: bool) -> Path:
    """The shipped configuration, SMS through the loopback gateway (e-mail off: the figure is about SMS)."""
    from responder.testing.engine import make_test_settings

    path = make_test_settings(tmp).path
    text = path.read_text(encoding="utf-8")
    text = text.replace('endpoint = "http://127.0.0.1:9/sms"', f'endpoint = "{sms_url}send"\ntimeout = 5')
    text = re.sub(r'^channels = \["sms", "email"\]', 'channels = ["sms"]', text, count=1, flags=re.M)
    text = re.sub(r"^bundle = true", f"bundle = {'true' if bundle else 'false'}", text, count=1, flags=re.M)
    text = re.sub(r'^url = "sqlite:///responder.db".*$', f'url = "sqlite:///{tmp / "week.db"}"', text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")
    return path


async def replay(ctx: Any, reports: list[tuple[dt.datetime, dt.datetime, str, str, str]], end: dt.datetime) -> int:
    """Tick the pipeline as the daemon wakes, from the first report to ``end``; returns the ticks taken."""
    from responder.service import pipeline
    from responder.testing.engine import add_item

    pending = list(reports)
    now = T0
    ticks = 0
    while now <= end:
        while pending and pending[0][0] <= now:
            at, published, title, text, role = pending.pop(0)
            add_item(ctx.engine, title=title, text=text, published_at=published, first_seen_at=at, guid=f"week-{at.isoformat()}",
                     source=f"week-{role}", role=role)
        await pipeline.tick(ctx, now, poll=False)
        ticks += 1
        wake = pipeline.next_wakeup(ctx, now)
        nxt = min(t for t in (now + POLL, wake, pending[0][0] if pending else None) if t is not None)
        now = max(nxt, now + dt.timedelta(seconds=1))
    return ticks


def figures(engine: Any, *, window_s: int) -> dict[str, Any]:
    """SMS per person per Beijing day, sent vs per-case rows; each 5-hour case's first-alert wait; worst hour."""
    from responder.models import Case, OutboxMessage

    def day(t: dt.datetime) -> str:
        return t.astimezone(BEIJING).date().isoformat()

    def hour(t: dt.datetime) -> str:
        return t.astimezone(BEIJING).strftime("%m-%d %H")

    with Session(engine) as s:
        rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.channel == "sms")).all())
        five = {c.id for c in s.exec(select(Case).where(Case.clock_class == "5h")).all()}
    by_id = {r.id: r for r in rows}
    after: Counter[tuple[str, str]] = Counter()
    after_hour: Counter[tuple[str, str]] = Counter()
    before: Counter[tuple[str, str]] = Counter()
    before_hour: Counter[tuple[str, str]] = Counter()
    for r in rows:
        if r.status == "sent":
            after[(r.recipient, day(r.sent_at))] += 1
            after_hour[(r.recipient, hour(r.sent_at))] += 1
        # What bundle = false sends: every row sent on its own (digests of 48-hour reminders included) and
        # every row a bundle carried.
        if (r.status == "sent" and r.kind != "bundle") or (r.status == "merged" and _carrier(r, by_id) == "bundle"):
            t = _delivered(r, by_id) or r.created_at
            before[(r.recipient, day(t))] += 1
            before_hour[(r.recipient, hour(r.created_at))] += 1
    waits = []
    for r in rows:
        if r.kind == "case_opened" and r.case_id in five and r.urgent:
            t = _delivered(r, by_id)
            waits.append(None if t is None else (t - r.created_at).total_seconds())
    people = sorted({p for p, _ in before} | {p for p, _ in after})
    per_day_before = {p: max((n for (q, _), n in before.items() if q == p), default=0) for p in people}
    per_day_after = {p: max((n for (q, _), n in after.items() if q == p), default=0) for p in people}
    tot_before = defaultdict(int)
    tot_after = defaultdict(int)
    for (p, _), n in before.items():
        tot_before[p] += n
    for (p, _), n in after.items():
        tot_after[p] += n
    top = max(people, key=lambda p: tot_before[p]) if people else None
    return {
        "sms_before": sum(before.values()), "sms_after": sum(after.values()),
        "ratio": round(sum(before.values()) / max(1, sum(after.values())), 1),
        "busiest_person": top, "busiest_total_before": tot_before.get(top, 0), "busiest_total_after": tot_after.get(top, 0),
        "busiest_day_before": per_day_before.get(top, 0), "busiest_day_after": per_day_after.get(top, 0),
        "max_per_person_day_before": max(per_day_before.values(), default=0),
        "max_per_person_day_after": max(per_day_after.values(), default=0),
        "max_per_person_hour_before": max(before_hour.values(), default=0),
        "max_per_person_hour_after": max(after_hour.values(), default=0),
        "five_hour_cases": len(five), "first_alerts": len(waits),
        "first_alert_max_wait_s": max((x for x in waits if x is not None), default=None),
        "first_alerts_undelivered": sum(1 for x in waits if x is None), "window_s": window_s,
        "per_person_day_before": {f"{p}|{d}": n for (p, d), n in sorted(before.items())},
        "per_person_day_after": {f"{p}|{d}": n for (p, d), n in sorted(after.items())},
    }


def _carrier(r: Any, by_id: dict[int, Any]) -> str | None:
    c = by_id.get(r.digest_id) if r.digest_id else None
    return c.kind if c is not None else None


def _delivered(r: Any, by_id: dict[int, Any]) -> dt.datetime | None:
    """When the message reached the provider: its own send, or its bundle's / digest's."""
    if r.status == "sent":
        return r.sent_at
    c = by_id.get(r.digest_id) if r.status == "merged" and r.digest_id else None
    return c.sent_at if c is not None and c.status == "sent" else None


async def run(tmp: Path, *, bundle: bool = True, n: int = 200, days: float = 5.5, dated: bool = False) -> dict[str, Any]:
    from responder import db
    from responder.config import load
    from responder.service import pipeline
    from responder.testing.sms_gateway import GatewayStub

    with GatewayStub() as stub:
        cfg = write_config(tmp, sms_url=stub.url, bundle=bundle)
        settings = load(cfg, require_secrets=False)
        engine = db.make_engine(settings.database_url)
        db.upgrade(engine)
        ctx = pipeline.build_context(settings, engine, owner="busyweek")
        pipeline.startup(ctx, T0)
        end = T0 + dt.timedelta(days=days + 1.5)  # the last cases' ladders run out (12 repeats × 2 h)
        try:
            ticks = await replay(ctx, items(n, days, dated=dated), end)
        finally:
            for ch in ctx.channels.values():
                await ch.aclose()
        out = figures(engine, window_s=settings.file.notify.bundle_window_s)
        out.update({"bundle": bundle, "dated": dated, "items": n, "days": days, "ticks": ticks, "gateway_received": len(stub.sent)})
        engine.dispose()
        return out


if __name__ == "__main__":  # pragma: no cover - the figure in docs/notifications.md
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--days", type=float, default=5.5)
    ap.add_argument("--dated", action="store_true", help="reports carry only their day, as the corpus's do")
    ap.add_argument("--full", action="store_true", help="also print the per person and day counts")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="busyweek-") as d:
        res = asyncio.run(run(Path(d), bundle=a.bundle, n=a.items, days=a.days, dated=a.dated))
    if not a.full:
        res = {k: v for k, v in res.items() if not k.startswith("per_person_day")}
    print(json.dumps(res, ensure_ascii=False))
