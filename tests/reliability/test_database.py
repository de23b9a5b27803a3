"""The database locked or unreachable: nothing lost, nothing sent twice, no crash.

Promises (docs/reliability.md): a lock taken by another connection while a provider call is
in flight delays the outcome's record, never abandons it (issue 13: the row stayed
``sending`` and went again 300 s later — 22 extra SMS); an unreachable database is reported
and retried, never a crash, and the work resumes when it is back.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading

import pytest
from sqlalchemy import make_url

from responder import db
from responder.sdnotify import Notifier
from responder.testing import databases
from responder.testing.sms_gateway import GatewayStub

from .support import NOW, dispatch_async, gateway, put, rows

EVENT_LIMIT = 120.0


class _Seen(logging.Handler):
    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle, self.event = needle, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.event.set()


def test_sqlite_locked_while_the_provider_answers_is_waited_out_not_resent(sqlite_template, tmp_path, monkeypatch):
    """Another connection holds BEGIN IMMEDIATE when the gateway answers: the record waits and lands; one SMS, row sent."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)  # the lock outlasts the busy timeout at once
    engine = databases.sqlite_copy(sqlite_template, tmp_path)
    path = make_url(engine.url).database
    seen = _Seen("recording the outcome: database busy")
    logging.getLogger("responder.notify").addHandler(seen)
    problems: list[str] = []

    def locker(stub: GatewayStub) -> None:
        try:
            assert stub.stalled.wait(EVENT_LIMIT), "the SMS never reached the gateway"
            con = sqlite3.connect(path, timeout=EVENT_LIMIT, isolation_level=None)
            con.execute("BEGIN IMMEDIATE")  # e.g. an operator's `sqlite3 responder.db` session
            stub.release.set()  # the gateway answers now, while the lock is held
            assert seen.event.wait(EVENT_LIMIT), "the record never met the lock"
            con.execute("ROLLBACK")
            con.close()
        except BaseException as exc:  # pragma: no cover - reported below
            problems.append(repr(exc))
            stub.release.set()

    try:
        with GatewayStub() as stub:
            stub.hang = True
            put(engine, "c:1")
            cfg = gateway(stub, timeout=EVENT_LIMIT)
            t = threading.Thread(target=locker, args=(stub,), daemon=True)
            t.start()
            rep = asyncio.run(dispatch_async(engine, cfg, now=NOW))
            t.join(EVENT_LIMIT)
        assert not problems, problems
        assert rep.sent == 1 and len(stub.sent) == 1
        assert [r.status for r in rows(engine)] == ["sent"]
    finally:
        logging.getLogger("responder.notify").removeHandler(seen)
        engine.dispose()


@pytest.mark.postgres
def test_postgres_unreachable_is_reported_and_work_resumes_when_it_is_back(pg_engine, tmp_path):
    """PostgreSQL at a closed port: the pass reports 数据库暂不可用 and returns; on the real server it takes the step."""
    import datetime as dt

    from responder import pipeline
    from responder.config import load
    from responder.runtime import Service
    from responder.testing.engine import add_item, make_test_settings

    class Recorder(Notifier):
        def __init__(self) -> None:
            super().__init__(environ={})
            self.sent: list[str] = []

        def send(self, *lines: str) -> bool:
            self.sent.extend(lines)
            return True

    settings = make_test_settings(tmp_path)
    settings = load(settings.path, require_secrets=False, deep=False)
    dead = db.make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")
    notifier = Recorder()
    svc = Service(settings.path, settings, dead, notifier)
    svc.ctx = pipeline.build_context(settings, dead, owner="unreachable-test")
    t0 = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=7)

    async def scenario() -> None:
        await svc.work("tick", now=t0)
        assert svc.db_failures == 1 and "数据库暂不可用" in (svc.last_error or "")
        assert any("数据库暂不可用" in line for line in notifier.sent)
        # the server is back (here: the real one) — the next pass does the work
        svc.engine = pg_engine
        svc.ctx = pipeline.build_context(settings, pg_engine, owner="unreachable-test")
        add_item(pg_engine, title="石台县丁香镇一化工厂发生爆炸 已致12人死亡", text="已造成12人死亡。", published_at=None,
                 first_seen_at=t0, source="test-incident", role="incident")
        await svc.work("tick", now=t0)
        assert svc.db_failures == 0 and svc.last_error is None
        for task in list(svc.lane_tasks):
            task.cancel()
        await asyncio.gather(*svc.lane_tasks, return_exceptions=True)
        for ch in svc.ctx.channels.values():
            await ch.aclose()

    asyncio.run(scenario())
    assert any(r.kind == "case_opened" for r in rows(pg_engine))
    dead.dispose()
