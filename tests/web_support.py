"""Shared by the console tests: a world with a hostile 5-hour case and another unit's overdue case,
accounts of each role, and the real app served by uvicorn on a loopback socket."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import socket
import threading
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from responder import db, engine as eng
from responder.models import Case

UTC = dt.timezone.utc
PASSWORD = "correct horse battery"
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">{{ 7*7 }}{% if 1 %}J{% endif %}'
"""What an attacker puts in a feed title: a script, an event handler, and template syntax."""
FIRE = "石台县丁香镇一化工厂发生火灾 已致12人死亡 "
SCHOOL = "网友反映仁里镇中心小学乱收费"


@dataclass
class World:
    settings: Any
    engine: Any
    now: dt.datetime
    fire_id: int
    school_id: int
    fire_unit: str
    school_unit: str


def build_world(tmp_path: Path, engine: Any | None = None, *, now: dt.datetime | None = None) -> World:
    """Items arrive through the real file-source ingestion, so the hostile title is stored as a feed leaves it."""
    from responder.ingest import make_client
    from responder.ingest.poll import poll_source
    from responder.testing.engine import make_test_settings
    from responder.testing.feeds import rss
    from responder.web.auth import add_user

    now = now or dt.datetime.now(UTC).replace(microsecond=0)
    feed = tmp_path / "hostile.xml"
    # Escaped twice on the wire: the feed's own text says "&lt;script&gt;", which readers show as "<script>".
    feed.write_bytes(rss([
        {"title": html.escape(FIRE + HOSTILE), "link": "https://news.example/1", "guid": "fire",
         "description": "丁香镇一化工厂发生火灾，已造成12人死亡。", "pubDate": format_datetime(now - dt.timedelta(hours=1))},
        {"title": SCHOOL, "link": "https://news.example/2", "guid": "school", "description": "家长反映学校收取补课费。",
         "pubDate": format_datetime(now - dt.timedelta(hours=50))},
    ]))
    settings = make_test_settings(tmp_path, extra_toml=f'[[source]]\nname = "hostile"\nkind = "file"\nurl = "{feed}"\n'
                                                       'role = "opinion"\ninterval = 300\n')
    if engine is None:
        engine = db.make_engine(settings.database_url)
        db.upgrade(engine)
    cfg = next(c for c in settings.file.source if c.name == "hostile")

    async def ingest() -> None:
        client = make_client(settings)
        try:
            await poll_source(engine, settings, cfg, now=now, client=client)
        finally:
            await client.aclose()

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    t = threading.Thread(target=lambda: asyncio.run(ingest()))
    t.start()
    t.join()
    eng.open_cases(engine, settings, now)
    eng.advance(engine, settings, now)
    with Session(engine) as s:
        cases = s.exec(select(Case).order_by(Case.id)).all()
    fire = next(c for c in cases if "化工厂" in c.title)
    school = next(c for c in cases if "小学" in c.title)
    assert "<script>" in fire.title and "onerror" in fire.title and "{{ 7*7 }}" in fire.title, fire.title
    from responder.engine.rules import unit_for_department

    fire_unit = unit_for_department(settings, fire.department).id
    school_unit = unit_for_department(settings, school.department).id
    assert fire_unit != school_unit and fire.clock_class == "5h"
    add_user(engine, settings, name="wang", role="operator", password=PASSWORD, display_name="王值班", now=now)
    add_user(engine, settings, name="li", role="liaison", unit_id=fire_unit, password=PASSWORD, display_name="李联络",
             now=now)
    add_user(engine, settings, name="zhao", role="leader", password=PASSWORD, display_name="赵领导", now=now)
    return World(settings, engine, now, fire.id, school.id, fire_unit, school_unit)


class LiveServer:
    """uvicorn on a socket bound before the thread starts: connections queue in the kernel, so no waiting."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off", access_log=False))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()
