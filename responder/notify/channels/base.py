"""The channel contract: one outgoing message in, a ``SendResult`` or a ``ChannelError`` out.

Channels are the imperative shell of delivery: they do network I/O and nothing
else. What to send (rendering, digests, quiet hours, limits) is decided before
a channel is called; what a failure means (retry, give up, ask first) is
classified here, in one helper per provider, and acted upon by the outbox.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OutgoingMessage:
    """Everything a channel needs, already rendered and masked."""

    key: str
    """The outbox idempotency key; ``provider_key`` derives the provider-facing token from it."""
    address: str
    kind: str
    text: str
    """SMS text (free-text gateways) or the e-mail text part."""
    subject: str = ""
    html: str = ""
    template_code: str = ""
    params: dict[str, str] = field(default_factory=dict)
    """Provider template parameters, in the provider template's order (Tencent's are positional)."""
    repeat: bool = False
    """Resent after a crash left the first send's outcome unknown; shown in the message."""
    created_at: dt.datetime | None = None

    @property
    def provider_key(self) -> str:
        return provider_key(self.key)


def provider_key(idem_key: str) -> str:
    """A short, stable token for providers' OutId / SessionContext / Message-ID fields.

    Our keys can be long (up to 300 characters) and carry contact keys; providers cap
    these fields (Tencent SessionContext < 512 bytes) and echo them in receipts, so a
    hash keeps them short and says nothing about the recipient.
    """
    return "r" + hashlib.sha256(idem_key.encode()).hexdigest()[:31]


@dataclass(frozen=True)
class SendResult:
    provider_id: str | None = None
    """The provider's id of the accepted message (BizId, SerialNo, Message-ID)."""
    response: str = ""
    """The provider's response, trimmed, for the attempt record."""


class ChannelError(Exception):
    """A send failed. ``permanent`` failures are never retried; the office is told instead.

    ``unknown`` means the request may have reached the provider (a read timeout):
    the next attempt asks the provider first where it can, else is marked a repeat.
    ``retry_after`` (seconds) comes from the provider's throttling answer.
    """

    def __init__(self, message: str, *, permanent: bool, code: str = "", retry_after: float | None = None,
                 throttled: bool = False, unknown: bool = False, response: str = ""):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        self.throttled = throttled
        self.unknown = unknown
        self.response = response

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


class Channel(ABC):
    """One way to reach a person. Subclasses set ``name`` (sms|email|robot) and ``provider``."""

    name: str = ""
    provider: str = ""
    can_query: bool = False
    """The provider can say whether a message carrying our key was sent (asked after a crash)."""
    dedupes: bool = False
    """The provider itself drops a second request carrying the same key (resending is harmless)."""
    uses_templates: bool = False
    """Only pre-registered templates with parameters can be sent (Chinese SMS platforms)."""
    text_limit: int = 0
    """Longest text the channel accepts (characters); 0 means no limit."""
    param_limit: int = 0
    """Longest template parameter value (characters); 0 means no limit."""

    @abstractmethod
    async def send(self, msg: OutgoingMessage) -> SendResult:
        """Send one message or raise :class:`ChannelError`; never raise anything else."""

    async def query(self, msg: OutgoingMessage, *, since: dt.datetime) -> bool | None:
        """Did the provider send ``msg``? True/False when it can tell, None when it cannot."""
        return None

    async def flush(self) -> None:
        """End of a batch: release connections kept open for reuse."""

    async def aclose(self) -> None:
        await self.flush()


def trim(text: Any, limit: int = 500) -> str:
    s = text if isinstance(text, str) else repr(text)
    return s if len(s) <= limit else s[:limit] + "…"


def classify_code(code: str, *, http_status: int | None = None, throttle: frozenset[str] = frozenset(),
                  retry: frozenset[str] = frozenset(), permanent: frozenset[str] = frozenset(),
                  retry_prefixes: tuple[str, ...] = (), permanent_prefixes: tuple[str, ...] = (),
                  default_permanent: bool = True) -> tuple[bool, bool]:
    """One place that turns a provider answer into (permanent, throttled).

    Throttling and server-side errors are retried (with backoff); malformed
    requests, bad numbers, unapproved templates and account problems are
    permanent: retrying cannot fix them, the office must.
    """
    if code in throttle or http_status == 429:
        return False, True
    if code in retry or (retry_prefixes and code.startswith(retry_prefixes)):
        return False, False
    if code in permanent or (permanent_prefixes and code.startswith(permanent_prefixes)):
        return True, False
    if http_status is not None and http_status >= 500:
        return False, False
    if http_status is not None and 400 <= http_status < 500:
        return True, False
    return default_permanent, False
