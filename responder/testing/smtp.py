"""An SMTP sink for tests and the demo: aiosmtpd on loopback, plain, implicit TLS or STARTTLS.

It collects every message (parsed, with its envelope), can print each one
(subject + text part) to a stream, can require a login, and has switches for
faults: refuse the next N messages with a given reply, refuse one recipient,
stall (for timeouts), hang after DATA until released (with or without taking the
message: the unknown outcome), and stop/start on the same port (server down, then back).
TLS certificates come from ``trustme`` (a throwaway CA; pass ``sink.ca_file``
to the client).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: email.message.EmailMessage
    peer: tuple = ()
    """The client's (host, port): two messages with one peer came over one connection."""

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        for p in self.message.walk():
            if p.get_content_type() == f"text/{subtype}":
                return p.get_content()
        raise KeyError(subtype)


@dataclass
class _Handler:
    sink: SmtpSink
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink.reject_rcpt.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        sink = self.sink
        if sink.hang in ("before", "after"):
            # A hung server: the body arrived, the reply does not come until ``release`` is set.
            # Waits in a worker thread, so other connections are still served.
            if sink.hang == "after":
                raw = envelope.original_content or envelope.content
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                with self.lock:
                    sink.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, msg,
                                                  tuple(session.peer or ())))
            with self.lock:
                sink.stalls += 1
            sink.stalled.set()
            await asyncio.get_running_loop().run_in_executor(None, sink.release.wait, 600)
            return "250 Message accepted" if sink.hang == "after" else "451 4.3.0 Server was stuck"
        with self.lock:
            if self.sink.stall_seconds:
                time.sleep(self.sink.stall_seconds)  # blocks this server's loop: a stuck mail server
            if self.sink.fail_next:
                self.sink.fail_next -= 1
                return self.sink.fail_reply
            raw = envelope.original_content or envelope.content
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            rec = Received(envelope.mail_from, list(envelope.rcpt_tos), raw, msg, tuple(session.peer or ()))
            self.sink.messages.append(rec)
        if self.sink.echo is not None:
            self.sink.print_message(rec)
        return "250 Message accepted"


class SmtpSink:
    """Use as a context manager: ``with SmtpSink(security="starttls") as sink: … sink.port …``."""

    def __init__(self, *, security: str = "plain", host: str = "127.0.0.1", port: int = 0,
                 username: str | None = None, password: str | None = None, echo: TextIO | None = None):
        self.security = security
        self.host = host
        self.port = port or free_port(host)
        self.username, self.password = username, password
        self.echo = echo
        self.messages: list[Received] = []
        self.fail_next = 0
        self.fail_reply = "451 4.3.0 Temporary failure, try again later"
        self.reject_rcpt: dict[str, str] = {}
        self.stall_seconds = 0.0
        self.hang = ""
        """"before": stall after DATA without taking the message; "after": take it, then stall (both until ``release``)."""
        self.release = threading.Event()
        self.stalled = threading.Event()
        """Set when a message is held by ``hang``; ``stalls`` counts them."""
        self.stalls = 0
        self._controller: Controller | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="smtp-sink-")
        self.ca_file: str | None = None
        self._server_ctx: ssl.SSLContext | None = None
        if security in ("ssl", "starttls"):
            import trustme

            ca = trustme.CA()
            cert = ca.issue_cert(host, "localhost")
            self._server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(self._server_ctx)
            self.ca_file = str(Path(self._tmp.name) / "ca.pem")
            ca.cert_pem.write_to_path(self.ca_file)

    def _auth(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.username \
            and auth_data.password.decode() == (self.password or "")
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpSink:
        kw: dict = {"hostname": self.host, "port": self.port, "ready_timeout": 5.0}
        server_kwargs: dict = {"decode_data": False}
        if self.username:
            server_kwargs.update(authenticator=self._auth, auth_require_tls=self.security == "starttls")
        else:
            server_kwargs.update(auth_require_tls=False)
        if self.security == "ssl":
            kw["ssl_context"] = self._server_ctx
        elif self.security == "starttls":
            server_kwargs.update(tls_context=self._server_ctx, require_starttls=True)
        self._controller = Controller(_Handler(self), **kw, **server_kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self._tmp.cleanup()

    def print_message(self, rec: Received, stream: TextIO | None = None) -> None:
        out = stream or self.echo or sys.stdout
        try:
            text = rec.part("plain")
        except KeyError:
            text = ""
        out.write(f"── 邮件 → {', '.join(rec.rcpt_tos)}\n   主题：{rec.subject}\n")
        for line in text.rstrip().splitlines():
            out.write(f"   {line}\n")
        out.flush()
