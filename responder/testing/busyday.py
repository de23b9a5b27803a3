"""A busy day for the reliability suite: items arriving over a day, the pipeline ticked on a virtual clock.

The same driver runs the reference (uninterrupted, the clock only going forward) and the
runs under test (killed with SIGKILL at random points and restarted, or with the clock
stepped back and forth), so their databases can be compared step by step and message by
message. Time is a parameter: ``now`` comes from the schedule, never from the wall clock.

Run as ``python -m responder.testing.busyday CONFIG PROGRESS`` it resumes from the progress
file (the index of the last tick begun, fsync'd before the tick), which is what a restarted
service does: it computes what is due from the database at the time it is given.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

UTC = dt.timezone.utc
T0 = dt.datetime(2022, 7, 15, 0, 0, tzinfo=UTC)  # 08:00 Beijing, a Friday
TICK = dt.timedelta(minutes=20)
TICKS = 96  # 32 hours: openings, reminders, overdue notices, quiet hours, digests

ITEMS: list[tuple[int, str, str, str]] = [
    # (minutes after T0, title, text, role)
    (0, "石台县丁香镇一化工厂发生爆炸 已致12人死亡", "丁香镇一化工厂发生爆炸，截至目前已造成12人死亡。", "incident"),
    (10, "仙寓镇部分小区停水两天 居民生活受影响", "网友反映仙寓镇部分小区停水两天，没有提前通知。", "opinion"),
    (25, "七都镇部分村组停水三天，事先没有通知", "网友转发：停水三天。", "opinion"),
    (40, "横渡镇部分村组停电两天", "村民反映停电。", "opinion"),
    (70, "仁里镇中心小学被指乱收费", "家长反映学校收取资料费。", "opinion"),
    (95, "一辆客车在矶滩乡侧翻 造成2人死亡", "一辆客车在矶滩乡侧翻，造成2人死亡。", "incident"),
    (130, "小河镇垃圾清运不及时 居民投诉", "居民反映垃圾多日无人清运。", "opinion"),
    (180, "大演乡农贸市场占道经营严重", "网友反映市场周边道路拥堵。", "opinion"),
    (260, "县城区一小区电梯频繁故障 业主担忧", "业主反映电梯一个月坏了三次。", "opinion"),
    (400, "矶滩乡客车侧翻事故死亡人数升至11人", "截至目前，事故已造成11人死亡。", "incident"),
    (520, "丁香镇卫生院排队时间长 群众不满", "群众反映看病排队三小时。", "opinion"),
    (700, "仙寓镇一处山体滑坡 道路中断", "仙寓镇一处山体滑坡，道路中断，暂无人员伤亡报告。", "incident"),
]


def schedule(ticks: int = TICKS) -> list[dt.datetime]:
    return [T0 + i * TICK for i in range(ticks)]


def add_due_items(engine: Any, now: dt.datetime) -> int:
    """Store every item first seen by ``now`` that is not stored yet (a restart may have stored it already)."""
    from responder.models import Item
    from responder.testing.engine import add_item

    n = 0
    for minutes, title, text, role in ITEMS:
        seen = T0 + dt.timedelta(minutes=minutes)
        if seen > now:
            continue
        guid = f"busyday-{minutes}"
        with Session(engine) as s:
            if s.exec(select(Item.id).where(Item.guid == guid)).first() is not None:
                continue
        add_item(engine, title=title, text=text, published_at=seen, first_seen_at=seen, guid=guid,
                 source=f"busyday-{role}", role=role)
        n += 1
    return n


async def run(ctx: Any, times: list[dt.datetime], *, progress: Path | None = None, start: int = 0) -> None:
    """Tick the pipeline at each time from ``start``; note the index before each tick (fsync'd)."""
    from responder import pipeline

    for i in range(start, len(times)):
        if progress is not None:
            _note(progress, i)
        add_due_items(ctx.engine, times[i])
        await pipeline.tick(ctx, times[i], poll=False)


def _note(path: Path, i: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, f"{i}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def progress_of(path: Path) -> int:
    try:
        return int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def write_config(tmp: Path, *, database_url: str, smtp_port: int, sms_url: str) -> Path:
    """The shipped configuration on loopback fakes and the given database (the CLI reads it too)."""
    from responder.testing.engine import make_test_settings

    path = make_test_settings(tmp).path
    text = path.read_text(encoding="utf-8")
    text = text.replace("port = 8025", f"port = {smtp_port}\ntimeout = 5")
    text = text.replace('endpoint = "http://127.0.0.1:9/sms"', f'endpoint = "{sms_url}send"\ntimeout = 5')
    text = re.sub(r'^url = "sqlite:///responder.db".*$', f'url = "{database_url}"', text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")
    return path


def context(config: Path, owner: str) -> Any:
    from responder import db, pipeline
    from responder.config import load

    settings = load(config, require_secrets=False, deep=False)
    engine = db.make_engine(settings.database_url)
    return pipeline.build_context(settings, engine, owner=owner)


async def resume(config: Path, progress: Path, ticks: int = TICKS) -> None:
    """What a restarted service does: reconcile what a crash left, then carry on from where it was."""
    from responder import pipeline

    ctx = context(config, owner=f"busyday:{os.getpid()}")
    times = schedule(ticks)
    start = progress_of(progress)
    pipeline.startup(ctx, times[min(start, len(times) - 1)])
    print("started", flush=True)  # the kill -9 scenario aims its kills at the work, not at the imports
    try:
        await run(ctx, times, progress=progress, start=start)
    finally:
        for ch in ctx.channels.values():
            await ch.aclose()
        ctx.engine.dispose()


if __name__ == "__main__":  # pragma: no cover - run by the kill -9 scenario
    asyncio.run(resume(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else TICKS))
    print("done", flush=True)
