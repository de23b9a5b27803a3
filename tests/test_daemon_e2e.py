"""`responder run` as a real subprocess, with loopback feed, SMTP and SMS servers and a
policy measured in seconds: messages arrive, SIGHUP with a bad config keeps it running,
SIGTERM exits cleanly, `kill -9` and a restart lose nothing and repeat nothing."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from responder.config import shipped_config_dir
from responder.testing.feeds import FeedServer, Reply, rss
from responder.testing.sms_gateway import GatewayStub
from responder.testing.smtp import SmtpSink

pytestmark = pytest.mark.slow
EXE = str(Path(sys.executable).parent / "responder")


def write_config(tmp: Path, feed_url: str, smtp_port: int, sms_url: str) -> Path:
    cfg = tmp / "config"
    shutil.copytree(shipped_config_dir(), cfg, ignore=shutil.ignore_patterns("responder.toml", "samples"))
    pol = (cfg / "policies.toml").read_text(encoding="utf-8")
    # Seconds instead of hours: 5 h → 12 s, 24 h → 60 s, 48 h → 90 s.
    pol = pol.replace("deadline_hours = 5\n", "deadline_hours = 0.00333\n").replace(
        "deadline_hours = 24\n", "deadline_hours = 0.0167\n").replace("deadline_hours = 48\n", "deadline_hours = 0.025\n")
    (cfg / "policies.toml").write_text(pol, encoding="utf-8")
    (cfg / "plan.toml").write_text((cfg / "plan.toml").read_text(encoding="utf-8"), encoding="utf-8")
    text = f"""
[service]
state_dir = "{tmp / 'state'}"
log_level = "info"

[data]
templates = "{shipped_config_dir().parent / 'templates'}"

[[source]]
name = "loopback-incident"
kind = "rss"
url = "{feed_url}"
role = "incident"
interval = 10

[notify]
channels = ["sms", "email"]
quiet_hours = ""

[notify.email]
host = "127.0.0.1"
port = {smtp_port}
security = "plain"

[notify.sms]
provider = "http"
endpoint = "{sms_url}send"

[schedule]
safety_tick_seconds = 5
dispatch_interval_seconds = 1
"""
    path = cfg / "responder.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Daemon:
    def __init__(self, config: Path, notify_path: str, log: Path) -> None:
        env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="2000000", RESPONDER_CONFIG=str(config))
        env.pop("WATCHDOG_PID", None)
        self.log = log
        self.proc = subprocess.Popen([EXE, "run"], env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc.poll() is None


def wait_for(pred, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def notifications(sock: socket.socket) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


@pytest.fixture
def world(tmp_path):
    feed = FeedServer().__enter__()
    # No pubDate: the clock starts when the daemon first sees the item, not when this fixture
    # was built, so a slow start cannot eat the deadline before the test has looked at anything.
    items = [{"title": "石台县丁香镇一化工厂发生爆炸 已致12人死亡", "guid": "e2e-1",
              "description": "丁香镇一化工厂发生爆炸，截至目前已造成12人死亡。"}]
    url = feed.route("/incident.xml", Reply(body=rss(items)))
    sink = SmtpSink().start()
    sms = GatewayStub().start()
    cfg = write_config(tmp_path, url, sink.port, sms.url)
    subprocess.run([EXE, "db", "upgrade", "-c", str(cfg)], check=True, capture_output=True)
    nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    npath = str(tmp_path / "notify.sock")
    nsock.bind(npath)
    nsock.setblocking(False)
    yield {"cfg": cfg, "sink": sink, "sms": sms, "feed": feed, "notify": nsock, "npath": npath, "log": tmp_path / "daemon.log",
           "db": tmp_path / "state" / "responder.db"}
    sink.stop()
    sms.stop()
    feed.__exit__(None, None, None)


def sms_keys(sms: GatewayStub) -> list[str]:
    return [m["key"] for m in sms.sent]


def db_rows(path: Path, sql: str) -> list[tuple]:
    """Read the daemon's database (a read-only connection: WAL readers never block the writer)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def settled(path: Path) -> bool:
    """Every message is delivered: nothing queued, nothing in flight."""
    if not path.exists():
        return False
    open_rows = db_rows(path, "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending', 'failed', 'held')")[0][0]
    return open_rows == 0


def wait_ready(world, got: list[str], what: str) -> None:
    wait_for(lambda: got.extend(notifications(world["notify"])) or any(m.startswith("READY=1") for m in got), LIMIT, what)


LIMIT = 120.0
"""A generous bound for each event: a loaded two-core machine is slow, never this slow; a healthy run takes seconds."""


def test_run_delivers_reloads_stops_and_survives_kill_9(world):
    """Messages arrive; a bad SIGHUP is refused; kill -9 + restart loses no step and repeats nothing; SIGTERM exits 0.

    Every wait is on an event (sd_notify READY, a log line, a message at the fake, the database's
    state), never on a deadline raced from the fixture: the order holds however slow the machine is.
    """
    d = Daemon(world["cfg"], world["npath"], world["log"])
    try:
        got: list[str] = []
        wait_ready(world, got, "READY=1")
        # the case is opened and announced by SMS and e-mail
        wait_for(lambda: any("化工厂" in m["text"] for m in world["sms"].sent), LIMIT, "case_opened SMS")
        wait_for(lambda: any("化工厂" in r.subject for r in world["sink"].messages), LIMIT, "case_opened e-mail")
        wait_for(lambda: any(m.startswith("WATCHDOG=1") for m in got + notifications(world["notify"])), LIMIT, "WATCHDOG=1")

        # SIGHUP with a broken configuration: refused, still running, error logged
        good = world["cfg"].read_text(encoding="utf-8")
        world["cfg"].write_text(good.replace("interval = 10", "intervall = 10"), encoding="utf-8")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: b"reload.rejected" in world["log"].read_bytes(), LIMIT, "reload.rejected in the log")
        assert d.alive()
        world["cfg"].write_text(good, encoding="utf-8")
        d.proc.send_signal(signal.SIGHUP)  # a good configuration is taken
        wait_for(lambda: b"reload.done" in world["log"].read_bytes(), LIMIT, "reload.done in the log")
        assert d.alive()

        # kill -9, restart: the overdue step comes exactly once (before or after the kill,
        # whichever the machine's speed gives), and nothing is sent twice
        d.proc.kill()
        d.proc.wait(LIMIT)
        before = len(world["sms"].sent)
        d = Daemon(world["cfg"], world["npath"], world["log"])
        got = []
        wait_ready(world, got, "READY=1 after the restart")
        wait_for(lambda: any("超时" in m["text"] for m in world["sms"].sent), LIMIT, "overdue SMS")
        wait_for(lambda: db_rows(world["db"], "SELECT count(*) FROM clock_step WHERE step_kind = 'overdue'")[0][0] >= 1,
                 LIMIT, "the overdue step in the database")
        wait_for(lambda: settled(world["db"]), LIMIT, "every queued message delivered")
        keys = sms_keys(world["sms"])
        assert len(keys) == len(set(keys)), "an SMS was sent twice"
        ids = [(r.message["Message-ID"], tuple(r.rcpt_tos)) for r in world["sink"].messages]
        assert len(ids) == len(set(ids)), "an e-mail was sent twice"
        steps = db_rows(world["db"], "SELECT clock_id, step_key, count(*) FROM clock_step GROUP BY clock_id, step_key")
        assert steps and all(n == 1 for _c, _k, n in steps)
        sent = db_rows(world["db"], "SELECT count(*) FROM outbox WHERE channel = 'sms' AND status = 'sent'")[0][0]
        assert sent == len(world["sms"].sent) and len(world["sms"].sent) >= before

        # a second instance on the same SQLite file refuses to start
        second = subprocess.run([EXE, "run", "-c", str(world["cfg"])], capture_output=True, text=True, timeout=LIMIT,
                                env=dict(os.environ, RESPONDER_CONFIG=str(world["cfg"])))
        assert second.returncode == 4 and "already running" in second.stdout

        # SIGTERM: STOPPING=1 and a clean exit within a bounded time
        notifications(world["notify"])
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(LIMIT) == 0
        assert any(m.startswith("STOPPING=1") for m in notifications(world["notify"]))
    finally:
        if d.alive():
            d.proc.kill()


def test_unreachable_database_is_retried_and_reported_not_a_crash_loop(tmp_path):
    """With the database unreachable the service stays up, retries with backoff and says why."""
    cfg = write_config(tmp_path, "http://127.0.0.1:9/none.xml", 9, "http://127.0.0.1:9/")
    text = cfg.read_text(encoding="utf-8").replace('[service]', '[database]\nurl = "postgresql://nobody@127.0.0.1:9/none"\n\n[service]', 1)
    cfg.write_text(text, encoding="utf-8")
    log = tmp_path / "d.log"
    npath = str(tmp_path / "n.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(npath)
    sock.setblocking(False)
    d = Daemon(cfg, npath, log)
    try:
        wait_for(lambda: log.read_bytes().count(b"database.unavailable") >= 2, LIMIT, "two reported connection failures")
        assert d.alive()
        assert any("数据库暂不可用" in m for m in notifications(sock))
    finally:
        d.proc.send_signal(signal.SIGTERM)
        try:
            d.proc.wait(10)
        except subprocess.TimeoutExpired:
            d.proc.kill()
