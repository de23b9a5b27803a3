"""Alibaba Cloud SMS replies in pull mode: the pure half (signing, the queue's XML, the SmsUp message).

Sites that cannot receive inbound connections take Alibaba's reply messages (SmsUp) from a queue of
Alibaba's message service (MNS, now 轻量消息队列 SMQ) instead of an HTTP push. Sources (docs/notifications.md
has the fields and examples):

* the queue and its token: Dysms 回执消息, MNS 消息队列消费模式 — the console names the queue
  (``Alicom-Queue-<uid>-SmsUp``); a temporary key comes from Dybaseapi ``QueryTokenForMnsQueue``
  (``MessageType=SmsUp``, ``QueueName``) as ``MessageTokenDTO`` {AccessKeyId, AccessKeySecret,
  SecurityToken, CreateTime, ExpireTime (Beijing ``yyyy-MM-dd HH:mm:ss``)}; the queue lives at Alibaba's
  fixed endpoint ``https://1943695596114318.mns.cn-hangzhou.aliyuncs.com``; the message body is Base64 of
  the SmsUp JSON {phone_number, content, sign_name, send_time, dest_code, sequence_id}
  (help.aliyun.com/document_detail/101646; the Alibaba SDK samples);
* MNS ReceiveMessage / DeleteMessage and the ``Authorization: MNS <AccessKeyId>:<Signature>`` signature
  (help.aliyun.com/document_detail/35136, /35138, /27487): Signature = Base64(HMAC-SHA1(secret,
  VERB\\nContent-MD5\\nContent-Type\\nDate\\n + CanonicalizedMNSHeaders + CanonicalizedResource)).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any

from responder.inbound.core import Reply
from responder.inbound.formats import _bj
from responder.timeutil import BEIJING

MNS_ENDPOINT = "https://1943695596114318.mns.cn-hangzhou.aliyuncs.com/"
"""Where Alibaba's SMS reply queues live (fixed by Alibaba; the SDK samples name it)."""
TOKEN_ENDPOINT = "https://dybaseapi.aliyuncs.com/"
MNS_VERSION = "2015-06-06"
NS = "{http://mns.aliyuncs.com/doc/v1/}"
MAX_XML = 256 * 1024
"""A ReceiveMessage answer holds one message (≤ 64 KiB body in Base64): anything larger is not MNS."""
TOKEN_REFRESH = dt.timedelta(minutes=2)
"""Fetch a new token when the old one has less than this left (the Alibaba SDKs' rule, against clock skew)."""


class MnsError(Exception):
    """An answer of the queue or the token service that is not what the API documents."""

    def __init__(self, message: str, *, code: str = "", status: int = 0):
        super().__init__(message)
        self.code, self.status = code, status


@dataclass(frozen=True)
class Token:
    access_key_id: str
    access_key_secret: str
    security_token: str
    expires_at: dt.datetime

    def fresh(self, now: dt.datetime) -> bool:
        return self.expires_at - now > TOKEN_REFRESH


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: str
    dequeue_count: int


def http_date(now: dt.datetime) -> str:
    """``Thu, 07 Mar 2012 18:49:58 GMT`` (MNS accepts only GMT, within 15 minutes of its clock)."""
    return format_datetime(now.astimezone(dt.timezone.utc), usegmt=True)


def string_to_sign(method: str, content_md5: str, content_type: str, date: str, headers: dict[str, str],
                   resource: str) -> str:
    """The documented string: x-mns-* headers lower-cased, sorted, ``name:value\\n`` each, then the resource
    (path and query as sent)."""
    mns = sorted((k.lower().strip(), str(v).strip()) for k, v in headers.items() if k.lower().startswith("x-mns-"))
    return f"{method}\n{content_md5}\n{content_type}\n{date}\n" + "".join(f"{k}:{v}\n" for k, v in mns) + resource


def authorization(access_key_id: str, access_key_secret: str, to_sign: str) -> str:
    mac = hmac.new(access_key_secret.encode(), to_sign.encode("utf-8"), hashlib.sha1).digest()
    return f"MNS {access_key_id}:{base64.b64encode(mac).decode()}"


def request_headers(method: str, resource: str, host: str, token: Token, now: dt.datetime) -> dict[str, str]:
    """Headers of a body-less MNS request (GET receive, DELETE), signed with the temporary key.

    The security token travels as ``security-token``, outside the signed headers, as Alibaba's MNS SDK
    for Python sends it.
    """
    date = http_date(now)
    h = {"Host": host, "Date": date, "x-mns-version": MNS_VERSION}
    h["Authorization"] = authorization(token.access_key_id, token.access_key_secret,
                                       string_to_sign(method, "", "", date, h, resource))
    h["security-token"] = token.security_token
    return h


def parse_token(doc: Any) -> Token:
    """QueryTokenForMnsQueue's JSON answer → :class:`Token`; :class:`MnsError` with Alibaba's code otherwise."""
    if not isinstance(doc, dict):
        raise MnsError("QueryTokenForMnsQueue: the answer is not a JSON object", code="bad-answer")
    if doc.get("Code") != "OK":
        raise MnsError(f"QueryTokenForMnsQueue: {doc.get('Code')}: {doc.get('Message')}", code=str(doc.get("Code") or ""))
    d = doc.get("MessageTokenDTO") or {}
    try:
        expires = dt.datetime.strptime(str(d["ExpireTime"]), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        return Token(str(d["AccessKeyId"]), str(d["AccessKeySecret"]), str(d["SecurityToken"]),
                     expires.astimezone(dt.timezone.utc))
    except (KeyError, ValueError) as exc:
        raise MnsError(f"QueryTokenForMnsQueue: MessageTokenDTO incomplete ({exc})", code="bad-answer") from None


def _xml(body: bytes) -> ET.Element:
    # No DTDs (no entity expansion), bounded size: the answer is tiny, anything else is refused.
    if len(body) > MAX_XML or b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise MnsError("MNS answer refused: too large or carries a DTD", code="bad-answer")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise MnsError(f"MNS answer is not XML: {exc}", code="bad-answer") from None


def _text(el: ET.Element, name: str) -> str:
    child = el.find(NS + name)
    if child is None:
        child = el.find(name)
    return (child.text or "") if child is not None else ""


def error_of(status: int, body: bytes) -> MnsError:
    """An MNS error answer: ``<Error><Code>MessageNotExist</Code><Message>…</Message>…</Error>``."""
    try:
        el = _xml(body)
        code, message = _text(el, "Code"), _text(el, "Message")
    except MnsError:
        code, message = "", body[:200].decode("utf-8", "replace")
    return MnsError(f"MNS HTTP {status}: {code or '?'}: {message}", code=code or f"HTTP {status}", status=status)


def parse_message(body: bytes) -> QueueMessage:
    """ReceiveMessage's 200 answer: ``<Message>`` with MessageId, ReceiptHandle, MessageBody, DequeueCount…"""
    el = _xml(body)
    if el.tag not in (NS + "Message", "Message"):
        raise MnsError(f"MNS answer is <{el.tag}>, not <Message>", code="bad-answer")
    mid, handle = _text(el, "MessageId"), _text(el, "ReceiptHandle")
    if not mid or not handle:
        raise MnsError("MNS message without MessageId or ReceiptHandle", code="bad-answer")
    count = _text(el, "DequeueCount")
    return QueueMessage(mid, handle, _text(el, "MessageBody"), int(count) if count.isdigit() else 0)


def sms_up_reply(msg: QueueMessage) -> Reply:
    """The SmsUp message in a queue message's body (Base64 of JSON; plain JSON accepted) → :class:`Reply`.

    Keyed like the HTTP push (``aliyun:<sequence_id>``), so a reply that reaches us both ways is one reply.
    Raises ``ValueError`` with the reason for a body that is not an SmsUp message.
    """
    raw = msg.body.strip()
    try:
        text = raw if raw.startswith("{") else base64.b64decode(raw, validate=True).decode("utf-8")
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"消息体不是 Base64 编码的 JSON：{exc}") from None
    if not isinstance(doc, dict) or not doc.get("phone_number") or "content" not in doc:
        raise ValueError("SmsUp 消息缺少 phone_number 或 content")
    seq = doc.get("sequence_id")
    if isinstance(seq, float) and seq.is_integer():
        seq = int(seq)  # documented as Double: 123456.0 and the push's 123456 are one reply
    key = f"aliyun:{seq}" if seq not in (None, "") else f"aliyun-mns:{msg.message_id}"
    return Reply("aliyun", str(doc["phone_number"]), str(doc["content"]), _bj(doc.get("send_time")), key)
