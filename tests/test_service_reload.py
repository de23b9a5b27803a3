"""SIGHUP with a configuration that cannot be taken: refused, logged, READY=1 again, old configuration kept.

systemd (Type=notify-reload) waits after RELOADING=1 for READY=1; a reload that
never answers leaves the unit "reloading" and the next `systemctl reload` hangs.
These tests run the real service loop in-process, send it a real SIGHUP and
listen on a real sd_notify datagram socket, as systemd would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

import pytest
from sqlalchemy import text

from responder import db
from responder.service import runtime
from responder.service.checks import load_checked
from responder.service.runtime import Service
from responder.service.sdnotify import Notifier
from responder.testing.engine import make_test_settings


class Events:
    """Stands in for the structlog logger of the runtime: remembers each event and its fields."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict]] = []

    def _log(self, event: str, **kw) -> None:
        self.seen.append((event, kw))

    info = error = warning = exception = debug = _log

    def names(self) -> list[str]:
        return [e for e, _ in self.seen]


async def until(sock: socket.socket, want: str, timeout: float = 30) -> list[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout  # STATUS= datagrams keep coming: bound the whole wait, not each datagram
    got: list[str] = []
    while not (got and got[-1].startswith(want)):
        got.append((await asyncio.wait_for(loop.sock_recv(sock, 65536), max(0.0, deadline - loop.time()))).decode())
    return got


@pytest.fixture
def world(tmp_path: Path, monkeypatch):
    s = make_test_settings(tmp_path)
    e = db.make_engine(s.database_url)
    db.upgrade(e)
    e.dispose()
    events = Events()
    monkeypatch.setattr(runtime, "log", events)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.setblocking(False)
    yield s.path, sock, events
    sock.close()


async def serve_and_hup(cfg: Path, sock: socket.socket, between) -> tuple[Service, list[str]]:
    """Run the service until READY=1, let ``between`` break something, SIGHUP, collect up to the next READY=1."""
    settings = load_checked(cfg, require_secrets=True)
    engine = db.make_engine(settings.database_url)
    svc = Service(cfg, settings, engine, Notifier(environ={"NOTIFY_SOCKET": sock.getsockname()}))
    task = asyncio.create_task(svc.run())
    try:
        await until(sock, "READY=1")
        between(svc)
        os.kill(os.getpid(), signal.SIGHUP)
        got = await until(sock, "READY=1")
    finally:
        svc.request_stop()
        assert await asyncio.wait_for(task, 60) == 0
        engine.dispose()
    return svc, got


def test_a_refused_reload_answers_ready_and_keeps_the_old_configuration(world):
    """A gateway field template with a syntax error: RELOADING=1, then READY=1 saying the reload failed;
    reload.rejected is logged with the key at fault, reload.done is not; the running configuration stays."""
    cfg, sock, events = world
    good = cfg.read_text(encoding="utf-8")

    def break_it(svc):
        cfg.write_text(good.replace('endpoint = "http://127.0.0.1:9/sms"',
                                    'endpoint = "http://127.0.0.1:9/sms"\n[notify.sms.fields]\nmobile = "{{ phone "', 1),
                       encoding="utf-8")
        break_it.before = svc.settings

    svc, got = asyncio.run(serve_and_hup(cfg, sock, break_it))
    assert got[0].startswith("RELOADING=1")
    assert got[-1].startswith("READY=1") and "重载失败，沿用原配置" in got[-1]
    assert "reload.rejected" in events.names() and "reload.done" not in events.names()
    (problems,) = [kw["problems"] for e, kw in events.seen if e == "reload.rejected"]
    assert any("notify.sms.fields.mobile" in p for p in problems)
    assert svc.settings is break_it.before


def test_a_reload_that_fails_while_starting_is_refused_too(world):
    """The new configuration passes its checks but the start-up steps fail (the database refuses a
    write): still READY=1, reload.rejected with the reason, and the old configuration kept."""
    cfg, sock, events = world

    def break_db(svc):
        break_db.before = svc.settings
        with svc.engine.begin() as conn:
            conn.execute(text("ALTER TABLE source RENAME TO source_away"))

    try:
        svc, got = asyncio.run(serve_and_hup(cfg, sock, break_db))
    finally:
        s = load_checked(cfg, require_secrets=True)
        e = db.make_engine(s.database_url)
        with e.begin() as conn:
            conn.execute(text("ALTER TABLE source_away RENAME TO source"))
        e.dispose()
    assert got[0].startswith("RELOADING=1")
    assert got[-1].startswith("READY=1") and "重载失败" in got[-1]
    assert "reload.rejected" in events.names() and "reload.done" not in events.names()
    assert svc.settings is break_db.before
