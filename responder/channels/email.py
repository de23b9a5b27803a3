"""E-mail over SMTP: implicit TLS (465), STARTTLS (587) or plain (loopback), one connection per batch.

smtplib is blocking; each message is handed to a worker thread, and the
connection is kept open across a dispatch batch (QUIT in ``flush``), which is
what makes 200+ messages a second possible against a local relay.

Messages are 7-bit clean: UTF-8 subject as an RFC 2047 encoded word, text and
HTML parts in base64 (protocols.md §0.9: the default 8bit would be sent
without BODY=8BITMIME). The Message-ID derives from the idempotency key, so a
resend after a crash carries the same id and mail clients can fold it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import smtplib
import socket
import ssl
import threading
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

from responder.channels.base import Channel, ChannelError, OutgoingMessage, SendResult, provider_key, trim


def build_message(msg: OutgoingMessage, *, from_addr: str, from_name: str, domain: str,
                  date: dt.datetime | None = None) -> EmailMessage:
    """The MIME message (pure): multipart/alternative with a text and an HTML part."""
    m = EmailMessage(policy=SMTP_POLICY)
    subject = ("【重发】" if msg.repeat else "") + msg.subject
    m["Subject"] = subject
    m["From"] = email.utils.formataddr((from_name, from_addr))
    m["To"] = msg.address
    m["Message-ID"] = message_id(msg.key, domain)
    m["Date"] = email.utils.format_datetime(date or msg.created_at or dt.datetime.now(dt.timezone.utc))
    m["X-Responder-Kind"] = msg.kind
    if msg.repeat:
        m["X-Responder-Repeat"] = "yes"
    text = ("（重发：上次发送结果未知，如已收到请忽略。）\n\n" if msg.repeat else "") + msg.text
    m.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    if msg.html:
        m.add_alternative(msg.html, subtype="html", charset="utf-8", cte="base64")
    return m


def message_id(idem_key: str, domain: str) -> str:
    return f"<{provider_key(idem_key)}@{domain}>"


class _BodyTracking:
    """Remembers whether DATA's final ``CRLF.CRLF`` went out on this connection.

    Before it, the server cannot have accepted the message (a retry is safe);
    after it, a timeout or a dropped connection leaves the outcome unknown
    (protocols.md §6: "a timeout after the final . of DATA may still have delivered").
    """

    body_sent = False

    def send(self, s):  # smtplib.SMTP.send: every command and the DATA body go through here
        super().send(s)  # type: ignore[misc]
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.body_sent = True


class _SMTP(_BodyTracking, smtplib.SMTP):
    pass


class _SMTP_SSL(_BodyTracking, smtplib.SMTP_SSL):
    pass


class _Unknown(Exception):
    """Raised in the worker thread: the connection failed after the body was sent."""

    def __init__(self, exc: BaseException):
        super().__init__(f"{type(exc).__name__}: {exc}")


class EmailChannel(Channel):
    """Up to ``connections`` SMTP connections at once, each reused across a batch.

    One mail server that stalls must not serialise every other message behind
    it: each send takes an idle connection (or opens one) in a worker thread,
    and at most ``connections`` are in use together.
    """

    name = "email"
    provider = "smtp"

    def __init__(self, *, host: str, port: int, security: str = "ssl", username: str | None = None,
                 password: str | None = None, from_addr: str, from_name: str = "", timeout: float = 20.0,
                 message_id_domain: str = "responder.local", ca_file: str | None = None, reuse: bool = True,
                 connections: int = 4):
        self.host, self.port, self.security = host, port, security
        self.username, self.password = username, password
        self.from_addr, self.from_name = from_addr, from_name
        self.timeout = timeout
        self.domain = message_id_domain
        self.ca_file = ca_file
        self.reuse = reuse
        self.connections = max(1, connections)
        self._idle: list[smtplib.SMTP] = []
        self._sem: asyncio.Semaphore | None = None
        self._tlock = threading.Lock()

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if self.ca_file:
            ctx.load_verify_locations(cafile=self.ca_file)
        return ctx

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            conn: smtplib.SMTP = _SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._ssl_context())
        else:
            conn = _SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                conn.starttls(context=self._ssl_context())
        if self.username:
            conn.login(self.username, self.password or "")
        return conn

    def _take(self) -> smtplib.SMTP | None:
        with self._tlock:
            return self._idle.pop() if self._idle else None

    def _send_sync(self, m: EmailMessage, to: str) -> str:
        conn = self._take()
        fresh = conn is None
        try:
            if conn is None:
                conn = self._connect()
            try:
                conn.body_sent = False  # type: ignore[attr-defined]
                refused = conn.send_message(m, from_addr=self.from_addr, to_addrs=[to])
            except smtplib.SMTPServerDisconnected:
                if fresh or getattr(conn, "body_sent", False):
                    raise
                # A reused connection the server dropped (idle timeout) before our message: reconnect once.
                _close(conn)
                conn = self._connect()
                conn.body_sent = False  # type: ignore[attr-defined]
                refused = conn.send_message(m, from_addr=self.from_addr, to_addrs=[to])
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)
        except smtplib.SMTPResponseException:
            _close(conn)
            raise
        except BaseException as exc:
            body_sent = bool(conn is not None and getattr(conn, "body_sent", False))
            _close(conn)
            if body_sent and isinstance(exc, (OSError, smtplib.SMTPServerDisconnected)):
                raise _Unknown(exc) from None
            raise
        if self.reuse:
            with self._tlock:
                self._idle.append(conn)
        else:
            _quit(conn)
        return "250 accepted"

    async def send(self, msg: OutgoingMessage) -> SendResult:
        m = build_message(msg, from_addr=self.from_addr, from_name=self.from_name, domain=self.domain)
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.connections)
        async with self._sem:
            try:
                resp = await asyncio.to_thread(self._send_sync, m, msg.address)
            except _Unknown as exc:
                raise ChannelError(f"no answer after the message was sent: {exc}", permanent=False, code="timeout",
                                   unknown=True) from None
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()), (0, b""))
                raise _smtp_error(code, text, "recipient refused") from None
            except smtplib.SMTPAuthenticationError as exc:
                raise ChannelError(f"login refused: {exc.smtp_code} {_s(exc.smtp_error)}", permanent=True,
                                   code=f"SMTP {exc.smtp_code}") from None
            except smtplib.SMTPResponseException as exc:
                raise _smtp_error(exc.smtp_code, exc.smtp_error, "refused") from None
            except (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout, TimeoutError, OSError,
                    ssl.SSLError) as exc:
                # Before DATA's final "." nothing was accepted: a plain retry is safe.
                raise ChannelError(f"{type(exc).__name__}: {exc}", permanent=False, code="connect") from None
            except smtplib.SMTPException as exc:
                raise ChannelError(f"{type(exc).__name__}: {exc}", permanent=False, code="smtp") from None
        return SendResult(provider_id=m["Message-ID"], response=resp)

    async def flush(self) -> None:
        """QUIT the idle connections (those in use by another batch stay open)."""
        with self._tlock:
            idle, self._idle = self._idle, []
        if idle:
            await asyncio.to_thread(lambda: [_quit(c) for c in idle])


def _close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        try:
            conn.close()
        except Exception:
            pass


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except Exception:
        pass
    _close(conn)


def _s(v: bytes | str) -> str:
    return v.decode(errors="replace") if isinstance(v, bytes) else str(v)


def _smtp_error(code: int, text: bytes | str, what: str) -> ChannelError:
    """5xx is permanent (RFC 5321 §4.2.1: do not repeat the same request); 4xx is transient."""
    return ChannelError(f"{what}: {code} {trim(_s(text), 200)}", permanent=500 <= code < 600, code=f"SMTP {code}")
