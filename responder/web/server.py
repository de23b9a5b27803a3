"""Running the console under uvicorn: its own process, or a task in ``responder run``'s loop."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Any, Callable

import structlog

from responder.timeutil import utcnow

log = structlog.get_logger("responder.web")
DEFAULT_LISTEN = "127.0.0.1:8080"


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8080`` for IPv6)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not (0 <= int(port) <= 65535):
        raise ValueError(f"web.listen: expected host:port, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


class EmbeddedServer:
    """uvicorn.Server that leaves signal handling to its host (``responder run`` owns SIGTERM/SIGHUP)."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        import uvicorn

        class _Server(uvicorn.Server):
            def install_signal_handlers(self) -> None:  # uvicorn < 0.29
                pass

            @contextlib.contextmanager
            def capture_signals(self):  # uvicorn >= 0.29
                yield

        self.server = _Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                                             lifespan="off", server_header=False, proxy_headers=False))
        self.task: asyncio.Task | None = None

    @property
    def started(self) -> bool:
        return self.server.started

    def start(self) -> asyncio.Task:
        self.task = asyncio.ensure_future(self.server.serve())
        return self.task

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task

    def port(self) -> int | None:
        for s in getattr(self.server, "servers", []) or []:
            for sock in s.sockets:
                return sock.getsockname()[1]
        return None


def build(settings: Any, *, clock: Callable[[], dt.datetime] = utcnow, key: str | None = None) -> Any:
    from responder import db
    from responder.web.app import create_app

    engine = db.make_engine(settings.database_url, password=settings.secret(settings.file.database.password_secret))
    return create_app(settings, engine, clock=clock, key=key)


def start_in_loop(settings: Any, engine: Any, on_intake: Callable[[], Any] | None = None) -> EmbeddedServer | None:
    """For ``responder run``: serve on ``[web] listen`` inside the service's event loop, if set."""
    listen = settings.file.web.listen
    if not listen:
        return None
    from responder.web.app import create_app

    host, port = parse_listen(listen)
    srv = EmbeddedServer(create_app(settings, engine, on_intake=on_intake), host, port)
    srv.start()
    log.info("web.listening", listen=listen)
    return srv


def serve_forever(app: Any, listen: str, *, on_ready: Callable[[str], None] | None = None) -> None:
    """For ``responder web`` and ``demo --serve``: run until SIGINT/SIGTERM, then exit normally (status 0)."""
    import signal

    host, port = parse_listen(listen)
    srv = EmbeddedServer(app, host, port)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(srv.server, "should_exit", True))
        task = srv.start()
        while not srv.started and not task.done():
            await asyncio.sleep(0.05)
        if srv.started and on_ready:
            on_ready(f"http://{host if ':' not in host else '[' + host + ']'}:{srv.port() or port}/")
        await task

    asyncio.run(main())
