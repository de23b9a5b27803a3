"""The systemd notification protocol (sd_notify), in the few lines it needs.

One datagram per message on the AF_UNIX socket named by ``$NOTIFY_SOCKET``
(``/path`` or ``@abstract``); newline-separated ``KEY=VALUE`` lines. Without the
variable every call is a no-op, so the same code runs under systemd, in a
terminal and in tests. Errors are logged, never raised: a broken notification
socket must not take the service down.
"""

from __future__ import annotations

import os
import socket
import time

import structlog

log = structlog.get_logger("responder.sdnotify")


class Notifier:
    def __init__(self, address: str | None = None, *, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = address if address is not None else env.get("NOTIFY_SOCKET")
        self._sock: socket.socket | None = None
        usec = env.get("WATCHDOG_USEC")
        pid = env.get("WATCHDOG_PID")
        # sd_watchdog_enabled(3): pings are expected from us iff WATCHDOG_USEC is set and
        # WATCHDOG_PID is unset or ours.
        self.watchdog_usec = int(usec) if usec and usec.isdigit() and (not pid or pid == str(os.getpid())) else None

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def _target(self) -> str:
        assert self.address
        return "\0" + self.address[1:] if self.address.startswith("@") else self.address

    def send(self, *lines: str) -> bool:
        if not self.address:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(lines).encode("utf-8"), self._target())
            return True
        except OSError as exc:
            log.warning("sdnotify.failed", error=str(exc), address=self.address)
            return False

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text.replace(chr(10), ' ')}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def reloading(self) -> bool:
        return self.send("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def stopping(self, status: str | None = None) -> bool:
        return self.send("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
