"""The service's reply-queue job (issue 17, Alibaba pull mode): ``responder run`` in-process takes a reply from
the loopback queue on its own schedule, and again after a SIGHUP rebuilt the queue from the configuration."""

from __future__ import annotations

import asyncio
import os
import signal
import socket

from sqlmodel import Session, select

from responder import db
from responder.models import SmsReply
from responder.service.checks import load_checked
from responder.service.runtime import Service
from responder.service.sdnotify import Notifier
from responder.testing.mns import AlicomMnsFake
from test_service_reload import until
from test_sms_template_links import provider_settings

QUEUE = "Alicom-Queue-1234567890-SmsUp"


async def deleted(fake: AlicomMnsFake, n: int, timeout: float = 60) -> None:
    """Until the queue has let go of ``n`` messages (the job's delete is the event we wait for)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while len(fake.deleted) < n:
        assert loop.time() < end, f"the job deleted {len(fake.deleted)} of {n} messages"
        await asyncio.sleep(0.05)


def test_the_service_pulls_replies_and_keeps_doing_so_after_a_reload(tmp_path, monkeypatch):
    with AlicomMnsFake(queue=QUEUE) as fake:
        s = provider_settings(tmp_path, monkeypatch, fake, "aliyun")
        text = s.path.read_text(encoding="utf-8").replace(
            "[notify.replies]\nenabled = true\n",
            f'[notify.replies]\nenabled = true\naliyun_queue = "{QUEUE}"\naliyun_mns_endpoint = "{fake.url}"\n'
            f'aliyun_token_endpoint = "{fake.url}"\npull_wait_seconds = 0\npull_interval_seconds = 5\n', 1)
        s.path.write_text(text, encoding="utf-8")
        settings = load_checked(s.path, require_secrets=True)
        engine = db.make_engine(settings.database_url)
        db.upgrade(engine)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(tmp_path / "notify.sock"))
        sock.setblocking(False)

        async def go():
            svc = Service(s.path, settings, engine, Notifier(environ={"NOTIFY_SOCKET": sock.getsockname()}))
            task = asyncio.create_task(svc.run())
            try:
                await until(sock, "READY=1")
                fake.put_sms_up("13900000000", "9999 收到", sequence_id=1)
                await deleted(fake, 1)
                first = svc.reply_queue
                os.kill(os.getpid(), signal.SIGHUP)
                await until(sock, "READY=1")
                assert svc.reply_queue is not first and svc.sched.get_job("replies_pull") is not None
                fake.put("<<not a reply>>")
                await deleted(fake, 2)
            finally:
                svc.request_stop()
                assert await asyncio.wait_for(task, 60) == 0
        try:
            asyncio.run(go())
        finally:
            sock.close()
        with Session(engine) as ses:
            got = [(r.dedupe_key, r.outcome) for r in ses.exec(select(SmsReply).order_by(SmsReply.id)).all()]
        engine.dispose()
    assert got[0] == ("aliyun:1", "unmatched") and got[1][1] == "unparsed" and len(got) == 2
