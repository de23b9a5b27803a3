"""A loopback Alibaba SMS reply queue: Dybaseapi's QueryTokenForMnsQueue and MNS's queue API, on one port.

:class:`AlicomMnsFake` answers ``QueryTokenForMnsQueue`` (RPC v1 or V3 signature checked by
:class:`~responder.testing.sms_gateway.AliyunFake`) with a temporary key, and ``GET
/queues/<q>/messages?waitseconds=N`` / ``DELETE /queues/<q>/messages?ReceiptHandle=…`` in the MNS XML
shape, checking each request's ``Authorization: MNS <id>:<signature>`` from the raw request (recomputed
here from the documented rule, not with the client's code), its ``Date`` (15 minutes) and its
``security-token``. A received message is invisible for ``visibility`` seconds (real time; 0 hands it out
again at once; ``end_visibility()`` ends it for every message, as when the timeout has passed) and gets a new
receipt handle each time.

Switches: ``fail_delete_next`` (DeleteMessage answers 500, the message stays), ``fail_receive_next`` (500),
``token_ttl`` (seconds a temporary key lives), ``revoke_tokens()`` (every issued key is refused, 403).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from responder.testing.sms_gateway import AliyunFake

XMLNS = "http://mns.aliyuncs.com/doc/v1/"
BEIJING = dt.timezone(dt.timedelta(hours=8))


def _x(tag: str, fields: dict[str, Any]) -> bytes:
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{tag} xmlns="{XMLNS}">{inner}</{tag}>'.encode()


class AlicomMnsFake(AliyunFake):
    def __init__(self, *, queue: str = "Alicom-Queue-1234567890-SmsUp", visibility: float = 30.0,
                 token_ttl: float = 3600.0, **kw: Any):
        super().__init__(**kw)
        self.queue = queue
        self.visibility = visibility
        self.token_ttl = token_ttl
        self.tokens: dict[str, tuple[str, str]] = {}
        """Temporary AccessKeyId → (AccessKeySecret, SecurityToken)."""
        self.token_calls = 0
        self.messages: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.waits: list[int] = []
        self.mns_rejects: list[str] = []
        self.fail_delete_next = 0
        self.fail_receive_next = 0
        self.qlock = threading.RLock()

    # ------------------------------------------------------------ test side

    def put(self, body: str) -> str:
        mid = uuid.uuid4().hex.upper()
        with self.qlock:
            self.messages.append({"id": mid, "body": body, "visible_at": 0.0, "handle": None, "count": 0,
                                  "enqueued": int(time.time() * 1000)})
        return mid

    def put_sms_up(self, phone: str, content: str, *, sequence_id: Any = None, send_time: str = "2026-11-30 10:05:00",
                   dest_code: str = "1234", sign_name: str = "石台县政务公开") -> str:
        """An SmsUp message as Alibaba puts it in the queue: Base64 of the JSON (fields of the SmsUp doc)."""
        doc = {"phone_number": phone, "content": content, "sign_name": sign_name, "send_time": send_time,
               "dest_code": dest_code, "sequence_id": sequence_id if sequence_id is not None else secrets.randbelow(10**9)}
        return self.put(base64.b64encode(json.dumps(doc, ensure_ascii=False).encode()).decode())

    def end_visibility(self) -> None:
        """The visibility timeout of every received, undeleted message ends now (it is handed out again)."""
        with self.qlock:
            for m in self.messages:
                m["visible_at"] = 0.0

    def revoke_tokens(self) -> None:
        with self.qlock:
            self.tokens.clear()

    @property
    def waiting(self) -> int:
        with self.qlock:
            return len(self.messages)

    # ------------------------------------------------------------ Dybaseapi

    def _action(self, action: str, params: dict[str, str]):
        if action != "QueryTokenForMnsQueue":
            return super()._action(action, params)
        if params.get("MessageType") != "SmsUp" or params.get("QueueName") != self.queue:
            return self._err(400, "InvalidParameter", "MessageType or QueueName does not match a subscribed queue")
        tid, tsecret, stoken = "STS." + uuid.uuid4().hex[:16], secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        with self.qlock:
            self.tokens[tid] = (tsecret, stoken)
            self.token_calls += 1
        now = dt.datetime.now(BEIJING)
        dto = {"AccessKeyId": tid, "AccessKeySecret": tsecret, "SecurityToken": stoken,
               "CreateTime": now.strftime("%Y-%m-%d %H:%M:%S"),
               "ExpireTime": (now + dt.timedelta(seconds=self.token_ttl)).strftime("%Y-%m-%d %H:%M:%S")}
        return 200, {}, json.dumps({"Code": "OK", "Message": "OK", "RequestId": str(uuid.uuid4()),
                                    "MessageTokenDTO": dto}).encode()

    # ------------------------------------------------------------ MNS

    def _mns_err(self, status: int, code: str, message: str):
        with self.qlock:
            self.mns_rejects.append(code)
        return status, {"Content-Type": "text/xml;charset=utf-8"}, _x(
            "Error", {"Code": code, "Message": message, "RequestId": uuid.uuid4().hex.upper(), "HostId": "http://fake"})

    def _verify(self, method: str, path: str, h: dict[str, str]):
        auth = h.get("authorization", "")
        if not auth.startswith("MNS ") or ":" not in auth:
            return self._mns_err(403, "AccessDenied", "Authorization header missing or malformed")
        key_id, _, got = auth[4:].partition(":")
        with self.qlock:
            issued = self.tokens.get(key_id)
        if issued is None:
            return self._mns_err(403, "InvalidAccessKeyId", "The access Id you provided is not exist or has expired.")
        secret, stoken = issued
        if h.get("security-token") != stoken:
            return self._mns_err(403, "AccessDenied", "security token missing or wrong")
        try:
            sent = parsedate_to_datetime(h.get("date", ""))
        except (TypeError, ValueError):
            return self._mns_err(400, "InvalidArgument", "Date is not an HTTP date")
        if sent.tzinfo is None or abs((dt.datetime.now(dt.timezone.utc) - sent).total_seconds()) > 900:
            return self._mns_err(400, "TimeExpired", "The http request you sent is expired.")
        xh = "".join(f"{k}:{h[k]}\n" for k in sorted(k for k in h if k.startswith("x-mns-")))
        to_sign = "\n".join([method, h.get("content-md5", ""), h.get("content-type", ""), h["date"]]) + "\n" + xh + path
        expect = base64.b64encode(hmac.new(secret.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expect, got):
            return self._mns_err(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.")
        if h.get("x-mns-version") != "2015-06-06":
            return self._mns_err(400, "InvalidArgument", "x-mns-version must be 2015-06-06")
        return None

    def handle(self, method, path, headers, body):
        if not path.startswith("/queues/"):
            return super().handle(method, path, headers, body)
        with self.lock:
            self.requests += 1
        h = {k.lower(): v for k, v in headers.items()}
        bad = self._verify(method, path, h)
        if bad is not None:
            return bad
        u = urlsplit(path)
        parts = u.path.split("/")
        if len(parts) != 4 or parts[3] != "messages":
            return self._mns_err(404, "InvalidArgument", "unknown resource")
        if parts[2] != self.queue:
            return self._mns_err(404, "QueueNotExist", "The queue name you provided is not exist.")
        q = dict(parse_qsl(u.query, keep_blank_values=True))
        if method == "GET":
            return self._receive(int(q.get("waitseconds", "0") or 0))
        if method == "DELETE":
            return self._delete(u.query.partition("ReceiptHandle=")[2])
        return self._mns_err(405, "InvalidArgument", method)

    def _receive(self, wait: int):
        with self.qlock:
            self.waits.append(wait)
            if self.fail_receive_next:
                self.fail_receive_next -= 1
                return self._mns_err(500, "InternalError", "internal error")
            now = time.monotonic()
            for m in self.messages:
                if m["visible_at"] <= now:
                    m["visible_at"] = now + self.visibility
                    m["handle"] = "1-" + base64.b64encode(f"{m['id']}-{secrets.token_hex(6)}".encode()).decode()
                    m["count"] += 1
                    md5 = hashlib.md5(m["body"].encode()).hexdigest().upper()
                    return 200, {"Content-Type": "text/xml;charset=utf-8"}, _x("Message", {
                        "MessageId": m["id"], "ReceiptHandle": m["handle"], "MessageBodyMD5": md5,
                        "MessageBody": m["body"], "EnqueueTime": m["enqueued"],
                        "NextVisibleTime": int((time.time() + self.visibility) * 1000),
                        "FirstDequeueTime": m["enqueued"], "DequeueCount": m["count"], "Priority": 8})
        # Long polling is not imitated: an empty queue answers at once (tests wait on events, not time).
        return self._mns_err(404, "MessageNotExist", "Message not exist.")

    def _delete(self, handle: str):
        with self.qlock:
            if self.fail_delete_next:
                self.fail_delete_next -= 1
                return self._mns_err(500, "InternalError", "internal error")
            for m in self.messages:
                if m["handle"] == handle:
                    if m["visible_at"] <= time.monotonic():
                        return self._mns_err(400, "ReceiptHandleError", "The receipt handle you provide is not valid.")
                    self.messages.remove(m)
                    self.deleted.append(m["id"])
                    return 204, {"Content-Type": "text/xml;charset=utf-8"}, b""
        return self._mns_err(400, "ReceiptHandleError", "The receipt handle you provide is not valid.")
