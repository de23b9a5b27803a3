"""Alibaba Cloud SMS replies in pull mode: the shell (token, receive, record, delete; lease and backoff).

One pass takes up to ``pull_batch`` messages from the SmsUp queue. Each is recorded by
:func:`responder.inbound.record_replies` in its own transaction, and deleted from the queue only after
that commit: a crash between the two leaves the message in the queue, MNS hands it out again when its
visibility timeout ends, and the reply's key (``aliyun:<sequence_id>``) makes the second delivery a
duplicate that changes nothing. A message that is not an SmsUp message is stored as ``unparsed`` (shown
to the office, never acted on) and deleted, so it cannot come back for ever.

The pass's state lives in the database (``meta`` key :data:`META_KEY`): a lease, so two workers on one
PostgreSQL database do not pull at the same time, and the failure count and the time before which no
pass starts (backoff after the queue or the token service failed, the outbox's backoff rule).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from responder import audit
from responder.db import transaction
from responder.inbound import mns
from responder.inbound.core import record_replies, record_unparsed
from responder.models.audit import Meta
from responder.notify.channels.aliyun import signed_rpc
from responder.timeutil import iso_utc, utcnow

log = structlog.get_logger("responder.inbound.pull")
META_KEY = "inbound.aliyun_pull"
LEASE = dt.timedelta(minutes=5)
"""Longer than a pass can take (a batch of long polls of ≤ 30 s each is cut short by ``pull_batch``)."""


@dataclass
class PullReport:
    skipped: str = ""
    """Why no pass ran: ``leased`` (another worker), ``backoff`` (after a failure), or empty."""
    received: int = 0
    deleted: int = 0
    outcomes: list[str] = field(default_factory=list)
    error: str = ""
    next_at: dt.datetime | None = None


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def pull_state(engine: Any) -> dict[str, Any]:
    """The pass's stored state (lease, failures, next pass, last error), for status and tests."""
    with transaction(engine) as s:
        m = s.get(Meta, META_KEY)
        return json.loads(m.value) if m is not None and m.value else {}


def claim(engine: Any, owner: str, now: dt.datetime) -> tuple[dict[str, Any] | None, str]:
    """Take the lease unless another worker holds it or a backoff runs: (state, "") or (None, reason)."""
    try:
        with transaction(engine) as s:  # BEGIN IMMEDIATE on SQLite; the row lock on PostgreSQL
            m = s.execute(select(Meta).where(Meta.key == META_KEY).with_for_update()).scalar_one_or_none()
            st = json.loads(m.value) if m is not None and m.value else {}
            until = _when(st["lease_until"]) if st.get("lease_until") else None
            if until is not None and until > now and st.get("holder") != owner:
                return None, "leased"
            nxt = _when(st["next_at"]) if st.get("next_at") else None
            if nxt is not None and nxt > now:
                return None, "backoff"
            st.update(holder=owner, lease_until=iso_utc(now + LEASE))
            audit.set_meta(s, META_KEY, json.dumps(st), now)
            return st, ""
    except IntegrityError:  # two workers inserted the first row at once: the other one has it
        return None, "leased"


def finish(engine: Any, settings: Any, owner: str, now: dt.datetime, error: str = "") -> dt.datetime | None:
    """Release the lease; after a failure, back off (base · 2^(n-1), capped: ``[notify.limits]``)."""
    lim = settings.file.notify.limits
    with transaction(engine) as s:
        m = s.get(Meta, META_KEY)
        st = json.loads(m.value) if m is not None and m.value else {}
        if st.get("holder") not in (None, owner):
            return None  # our lease ran out and another worker took it: its state, not ours
        failures = int(st.get("failures", 0)) + 1 if error else 0
        nxt = now + dt.timedelta(seconds=min(lim.backoff_base_seconds * 2 ** (failures - 1), lim.backoff_max_seconds)) \
            if error else None
        st = {"holder": None, "lease_until": None, "failures": failures, "next_at": iso_utc(nxt) if nxt else None,
              "last_error": error[:300] if error else st.get("last_error"), "last_pass": iso_utc(now)}
        audit.set_meta(s, META_KEY, json.dumps(st, ensure_ascii=False), now)
        return nxt


class AliyunReplyQueue:
    """The SmsUp queue over HTTP (httpx): the temporary token, ReceiveMessage, DeleteMessage."""

    def __init__(self, *, queue: str, access_key_id: str, access_key_secret: str, mns_endpoint: str = mns.MNS_ENDPOINT,
                 token_endpoint: str = mns.TOKEN_ENDPOINT, signature: str = "v3", wait_seconds: int = 10,
                 timeout: float = 10.0, clock: Callable[[], dt.datetime] = utcnow):
        self.queue = queue
        self.clock = clock
        """The wall clock for what the provider checks (request dates, the token's expiry); ``now`` is the core's."""
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.mns_endpoint = mns_endpoint.rstrip("/")
        self.host = urlsplit(self.mns_endpoint).netloc
        self.token_endpoint, self.signature = token_endpoint, signature
        self.wait_seconds = wait_seconds
        self.token: mns.Token | None = None
        # A long poll holds the request up to wait_seconds: the read timeout must outlast it.
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, read=timeout + wait_seconds), trust_env=False)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _token(self) -> mns.Token:
        now = self.clock()
        if self.token is not None and self.token.fresh(now):
            return self.token
        method, url, headers = signed_rpc(endpoint=self.token_endpoint, action="QueryTokenForMnsQueue",
                                          params={"MessageType": "SmsUp", "QueueName": self.queue},
                                          access_key_id=self.access_key_id, access_key_secret=self.access_key_secret,
                                          signature=self.signature, now=now)
        resp = await self.client.request(method, url, headers=headers)
        try:
            doc = resp.json()
        except ValueError:
            raise mns.MnsError(f"QueryTokenForMnsQueue: HTTP {resp.status_code}, not JSON", status=resp.status_code) from None
        self.token = mns.parse_token(doc)
        return self.token

    async def _call(self, method: str, resource: str) -> httpx.Response:
        for attempt in (1, 2):
            token = await self._token()
            headers = mns.request_headers(method, resource, self.host, token, self.clock())
            resp = await self.client.request(method, self.mns_endpoint + resource, headers=headers)
            if resp.status_code in (401, 403) and attempt == 1:
                self.token = None  # revoked or expired early: one fresh token, then give up
                continue
            return resp
        return resp

    async def receive(self, *, wait: int | None = None) -> mns.QueueMessage | None:
        """One message, or None when the queue is empty (404 MessageNotExist after the long poll)."""
        w = self.wait_seconds if wait is None else wait
        resp = await self._call("GET", f"/queues/{self.queue}/messages?waitseconds={w}")
        if resp.status_code == 200:
            return mns.parse_message(resp.content)
        err = mns.error_of(resp.status_code, resp.content)
        if resp.status_code == 404 and err.code == "MessageNotExist":
            return None
        raise err

    async def delete(self, msg: mns.QueueMessage) -> bool:
        """Delete a received message; False when its receipt is no longer valid (it will come back: a duplicate)."""
        resp = await self._call("DELETE", f"/queues/{self.queue}/messages?ReceiptHandle={msg.receipt_handle}")
        if resp.status_code == 204:
            return True
        err = mns.error_of(resp.status_code, resp.content)
        if resp.status_code in (400, 404) and err.code in ("MessageNotExist", "ReceiptHandleError"):
            return False
        raise err


def build_queue(settings: Any) -> AliyunReplyQueue | None:
    """The configured queue (``[notify.replies] aliyun_queue``), or None when pull mode is off."""
    r, sms = settings.file.notify.replies, settings.file.notify.sms
    if not r.enabled or not r.aliyun_queue:
        return None
    return AliyunReplyQueue(queue=r.aliyun_queue, access_key_id=settings.secret(sms.access_key_id_secret) or "",
                            access_key_secret=settings.secret(sms.access_key_secret_secret) or "",
                            mns_endpoint=r.aliyun_mns_endpoint, token_endpoint=r.aliyun_token_endpoint,
                            signature=sms.signature, wait_seconds=r.pull_wait_seconds, timeout=sms.timeout)


async def pull_once(engine: Any, settings: Any, queue: AliyunReplyQueue, now: dt.datetime, *, owner: str) -> PullReport:
    """One pass: claim, take up to ``pull_batch`` messages (record, commit, then delete each), release. Never raises
    for the queue's or the network's faults: they are recorded as the pass's error and back the next pass off."""
    st, why = claim(engine, owner, now)
    if st is None:
        return PullReport(skipped=why)
    rep = PullReport()
    batch = settings.file.notify.replies.pull_batch
    try:
        while rep.received < batch:
            msg = await queue.receive(wait=None if rep.received == 0 else 0)
            if msg is None:
                break
            rep.received += 1
            try:
                reply = mns.sms_up_reply(msg)
            except ValueError as exc:
                log.warning("replies.pull.unparsed", message_id=msg.message_id, reason=str(exc))
                rep.outcomes.append(record_unparsed(engine, provider="aliyun", key=f"aliyun-mns:{msg.message_id}",
                                                    raw=msg.body, reason=str(exc), now=now))
            else:
                rep.outcomes += record_replies(engine, settings, [reply], now)  # committed before the delete
            if await queue.delete(msg):
                rep.deleted += 1
    except (mns.MnsError, httpx.HTTPError) as exc:
        rep.error = f"{type(exc).__name__}: {exc}"
        log.warning("replies.pull.failed", error=rep.error, received=rep.received)
    rep.next_at = finish(engine, settings, owner, now, rep.error)
    if rep.received:
        log.info("replies.pulled", received=rep.received, deleted=rep.deleted, outcomes=rep.outcomes)
    return rep
