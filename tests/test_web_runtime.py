"""`responder run` with ``[web] listen`` serves the console from its own event loop, beside the clocks."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess

import httpx
import pytest

from test_daemon_e2e import EXE, Daemon, notifications, wait_for, world  # noqa: F401  (world is a fixture)

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_serves_the_console_and_stops_cleanly(world):  # noqa: F811
    """The daemon's console shows the case it opened to a logged-in operator; SIGTERM still exits 0."""
    port = free_port()
    cfg = world["cfg"]
    cfg.write_text(cfg.read_text(encoding="utf-8") + f'\n[web]\nlisten = "127.0.0.1:{port}"\n', encoding="utf-8")
    env = dict(os.environ, RESPONDER_NEW_PASSWORD="a long enough password")
    subprocess.run([EXE, "user", "add", "wang", "--role", "operator", "--display-name", "王值班", "-c", str(cfg)],
                   check=True, capture_output=True, env=env)
    d = Daemon(cfg, world["npath"], world["log"])
    try:
        got: list[str] = []
        wait_for(lambda: got.extend(notifications(world["notify"])) or any(m.startswith("READY=1") for m in got), 30, "READY=1")
        wait_for(lambda: any("化工厂" in m["text"] for m in world["sms"].sent), 30, "the case opened")
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as c:
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
            r = c.post("/login", data={"name": "wang", "password": "a long enough password", "csrf_token": token})
            assert r.status_code == 303, r.text
            page = c.get("/cases").text
        assert "化工厂" in page and "5小时" in page
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(30) == 0
    finally:
        if d.alive():
            d.proc.kill()


def test_responder_web_is_its_own_process_on_the_same_database(world):  # noqa: F811
    """`responder web` prints its address once listening, serves the login page, and stops on SIGTERM."""
    port = free_port()
    proc = subprocess.Popen([EXE, "web", "--listen", f"127.0.0.1:{port}", "-c", str(world["cfg"])],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen = []
        for line in proc.stdout:  # log lines first (JSON), then the address once listening; EOF if it died
            seen.append(line)
            if "操作台已启动" in line:
                break
        assert f"http://127.0.0.1:{port}/" in seen[-1], seen
        r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert r.status_code == 200 and 'name="csrf_token"' in r.text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
