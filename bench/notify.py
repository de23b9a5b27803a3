"""Messages per second through the real channels to loopback servers, with and without connection reuse.

    .venv/bin/python bench/notify.py [--emails 400] [--sms 1000]

Each server runs in a child process (as a relay or gateway would). E-mail: EmailChannel → the aiosmtpd sink (plain SMTP on 127.0.0.1), one message at a
time (SMTP is sequential per connection); "reuse" keeps one connection for the batch,
"no reuse" opens, greets and QUITs per message. SMS: HttpGatewayChannel → the
loopback gateway stub; "reuse" is one httpx keep-alive pool,
"no reuse" a new client (new TCP connection) per request; 4 in flight. Messages are rendered from
the shipped templates beforehand (rendering is measured separately, perf-notes).
Last line: one JSON object with the four rates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from responder.notify.channels.base import OutgoingMessage  # noqa: E402
from responder.notify.channels.email import EmailChannel  # noqa: E402
from responder.notify.channels.http_gateway import HttpGatewayChannel  # noqa: E402
from responder.notify.render import Renderer, sample_contexts  # noqa: E402
from responder.testing.sms_gateway import GatewayStub  # noqa: E402
from responder.testing.smtp import SmtpSink  # noqa: E402

warnings.filterwarnings("ignore")
REPO = Path(__file__).resolve().parent.parent


async def bench_email(port: int, n: int, reuse: bool) -> float:
    r = Renderer.from_dir(REPO / "templates")
    ctx = sample_contexts("reminder")[0][1]
    subject, text, html = r.render_email("reminder", ctx)
    msgs = [OutgoingMessage(key=f"bench:{reuse}:{i}", address=f"u{i}@shitai.example", kind="reminder",
                            subject=subject, text=text, html=html) for i in range(n)]
    ch = EmailChannel(host="127.0.0.1", port=port, security="plain", from_addr="responder@shitai.example",
                      from_name="石台县政务公开办", reuse=reuse)
    t0 = time.perf_counter()
    for m in msgs:
        await ch.send(m)
    await ch.flush()
    return n / (time.perf_counter() - t0)


async def bench_sms(url: str, n: int, reuse: bool, concurrency: int = 4) -> float:
    r = Renderer.from_dir(REPO / "templates")
    text = r.render_sms("reminder", sample_contexts("reminder")[0][1])
    msgs = [OutgoingMessage(key=f"bench:{reuse}:{i}", address="13800000001", kind="reminder", text=text) for i in range(n)]
    ch = HttpGatewayChannel(url=url + "send", success_path="code", success_value="0", reuse=reuse)
    sem = asyncio.Semaphore(concurrency)

    async def one(m):
        async with sem:
            if reuse:
                await ch.send(m)
            else:  # a fresh client per request: a new TCP connection every time
                c = HttpGatewayChannel(url=url + "send", success_path="code", success_value="0", reuse=False)
                await c.send(m)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(m) for m in msgs))
    rate = n / (time.perf_counter() - t0)
    await ch.aclose()
    return rate


def _serve(kind: str, conn) -> None:
    """The server in its own process, as a real relay or gateway would be (no shared GIL with the client)."""
    server = SmtpSink() if kind == "smtp" else GatewayStub()
    with server:
        conn.send(server.port if kind == "smtp" else server.url)
        conn.recv()  # stop
        conn.send(len(server.messages) if kind == "smtp" else len(server.sent))


class Server:
    def __init__(self, kind: str):
        import multiprocessing as mp

        self.parent, child = mp.Pipe()
        self.proc = mp.get_context("fork").Process(target=_serve, args=(kind, child), daemon=True)

    def __enter__(self):
        self.proc.start()
        return self.parent.recv()

    def received(self) -> int:
        self.parent.send("stop")
        n = self.parent.recv()
        self.proc.join(5)
        return n

    def __exit__(self, *exc):
        if self.proc.is_alive():
            self.proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--emails", type=int, default=400)
    ap.add_argument("--sms", type=int, default=1000)
    a = ap.parse_args()
    out = {}
    srv = Server("smtp")
    with srv as port:
        asyncio.run(bench_email(port, 20, True))  # warm-up
        out["email_per_s"] = asyncio.run(bench_email(port, a.emails, True))
        out["email_per_s_no_reuse"] = asyncio.run(bench_email(port, a.emails // 2, False))
        assert srv.received() == 20 + a.emails + a.emails // 2  # every message arrived
    srv = Server("http")
    with srv as url:
        asyncio.run(bench_sms(url, 50, True))
        out["sms_per_s"] = asyncio.run(bench_sms(url, a.sms, True))
        out["sms_per_s_no_reuse"] = asyncio.run(bench_sms(url, a.sms // 2, False))
        assert srv.received() == 50 + a.sms + a.sms // 2
    for k, v in out.items():
        print(f"{k:>22}: {v:8.1f} messages/s")
    print(json.dumps({k: round(v, 1) for k, v in out.items()}))


if __name__ == "__main__":
    main()
