"""Slow I/O never holds the engine: a hanging provider stops no clock and no other channel.

Promise (docs/reliability.md): while a mail server hangs mid-send, the service's engine pass
still runs to the end — clocks step, their messages are written — and the SMS lane still
delivers. Issue 13: an SMTP server stalled in DATA froze every clock for 75 s.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import Session, select

from responder import pipeline
from responder.config import load
from responder.models import ClockStep
from responder.runtime import Service
from responder.sdnotify import Notifier
from responder.testing.engine import add_item, make_test_settings
from responder.testing.sms_gateway import GatewayStub
from responder.testing.smtp import SmtpSink

EVENT_LIMIT = 120.0
"""Only a guard against a broken build hanging the suite; a healthy run waits on events, never this long."""


def service_on(engine, tmp_path, sink: SmtpSink, stub: GatewayStub) -> Service:
    path = make_test_settings(tmp_path).path
    text = path.read_text(encoding="utf-8")
    text = text.replace("port = 8025", f"port = {sink.port}\ntimeout = 600").replace(
        'endpoint = "http://127.0.0.1:9/sms"', f'endpoint = "{stub.url}send"').replace(
        'quiet_hours = "22:00-07:30"', 'quiet_hours = ""')
    path.write_text(text, encoding="utf-8")
    settings = load(path, require_secrets=False, deep=False)
    svc = Service(path, settings, engine, Notifier(environ={}))
    svc.ctx = pipeline.build_context(settings, engine, owner="isolation-test")
    return svc


def steps(engine) -> list[str]:
    with Session(engine) as s:
        return [k for k in s.exec(select(ClockStep.step_kind)).all()]


def test_engine_keeps_stepping_and_sms_keeps_going_while_the_mail_server_hangs(engine, tmp_path):
    """With an e-mail held in DATA at a hung server, the engine's pass returns, the overdue step is taken and its SMS arrives."""
    with SmtpSink() as sink, GatewayStub() as stub:
        sink.hang = "after"
        svc = service_on(engine, tmp_path, sink, stub)
        t0 = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=7)

        async def scenario() -> None:
            try:
                loop = asyncio.get_running_loop()
                add_item(engine, title="石台县丁香镇一化工厂发生爆炸 已致12人死亡", text="已造成12人死亡。", published_at=None,
                         first_seen_at=t0, source="test-incident", role="incident")
                await asyncio.wait_for(svc.work("open", now=t0), EVENT_LIMIT)  # opens the case; lanes start sending
                assert await loop.run_in_executor(None, sink.stalled.wait, EVENT_LIMIT), "no e-mail reached the server"
                # An e-mail is now held by the hung server (timeout 600 s). The engine must not wait for it:
                await asyncio.wait_for(svc.work("tick", now=t0 + dt.timedelta(hours=6)), EVENT_LIMIT)
                assert "overdue" in steps(engine)
                assert not sink.release.is_set() and sink.stalls >= 1
                # …and the SMS lane delivers the overdue notice while the e-mail lane is still stuck.
                for _ in range(int(EVENT_LIMIT * 10)):
                    if any("超时" in m["text"] for m in stub.sent):
                        break
                    await asyncio.sleep(0.1)
                assert any("超时" in m["text"] for m in stub.sent)
                assert svc.lanes["email"].locked(), "the e-mail lane is still held by the hung server"
                sink.hang = ""
                sink.release.set()
                await asyncio.wait_for(asyncio.gather(*svc.lane_tasks), EVENT_LIMIT)
                for ch in svc.ctx.channels.values():
                    await ch.aclose()
            finally:  # a failing run must not leave the hung server holding the worker threads
                sink.hang = ""
                sink.release.set()

        try:
            asyncio.run(scenario())
        finally:
            sink.hang = ""
            sink.release.set()
