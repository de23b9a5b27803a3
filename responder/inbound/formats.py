"""The providers' reply pushes, parsed from their published formats (sources in docs/notifications.md).

Each parser takes the raw body and returns replies, or raises ``ValueError`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

from responder.inbound.core import Reply
from responder.timeutil import BEIJING

UTC = dt.timezone.utc


def _key(provider: str, *parts: Any) -> str:
    return provider + ":" + hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:40]


def _bj(value: Any) -> dt.datetime | None:
    """``2017-09-01 00:00:00`` (Beijing time) or ``20170901000000``."""
    s = str(value or "").strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"):
        try:
            return dt.datetime.strptime(s, fmt).replace(tzinfo=BEIJING).astimezone(UTC)
        except ValueError:
            continue
    return None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"JSON 无效：{exc}") from None


def aliyun(body: bytes) -> list[Reply]:
    """Alibaba Cloud SmsUp, HTTP batch push: a JSON array of {phone_number, content, send_time, dest_code,
    sequence_id} (sequence_id a string or a number); a replay carries the same sequence_id."""
    doc = _json(body)
    if not isinstance(doc, list):
        raise ValueError("阿里云上行短信推送应为 JSON 数组")
    out = []
    for i, row in enumerate(doc):
        if not isinstance(row, dict) or not row.get("phone_number") or "content" not in row:
            raise ValueError(f"第 {i + 1} 条缺少 phone_number 或 content")
        seq = row.get("sequence_id")
        key = f"aliyun:{seq}" if seq not in (None, "") else _key("aliyun", row["phone_number"], row.get("send_time"), row["content"])
        out.append(Reply("aliyun", str(row["phone_number"]), str(row["content"]), _bj(row.get("send_time")), key))
    return out


def tencent(body: bytes) -> list[Reply]:
    """Tencent Cloud SMS reply callback: one JSON object {extend, mobile, nationcode, sign, text, time} (time:
    Unix seconds). It has no id: a replay is recognised by number, time and text."""
    doc = _json(body)
    if not isinstance(doc, dict) or not doc.get("mobile") or "text" not in doc:
        raise ValueError("腾讯云回复回调应为含 mobile 和 text 的 JSON 对象")
    if str(doc.get("nationcode", "86")) not in ("86", "+86", ""):
        raise ValueError(f"不受理境外号码（nationcode {doc.get('nationcode')}）")
    t = doc.get("time")
    sent = dt.datetime.fromtimestamp(int(t), UTC) if isinstance(t, (int, float)) or str(t).isdigit() else None
    return [Reply("tencent", str(doc["mobile"]), str(doc["text"]), sent, _key("tencent", doc["mobile"], t, doc["text"]))]


def _rows(body: bytes, *, json_body: bool) -> list[Any]:
    """A push's rows: a JSON object or array, or one set of form fields."""
    if json_body:
        doc = _json(body)
        return doc if isinstance(doc, list) else [doc]
    return [dict(parse_qsl(body.decode("utf-8", "replace")))]


def gateway(body: bytes, content_type: str) -> list[Reply]:
    """The generic HTTP gateway's reply push (our own contract, docs/notifications.md): JSON or form fields
    ``phone``, ``text``, optional ``id`` (the gateway's reply id) and ``time`` (Beijing ``YYYY-MM-DD HH:MM:SS``)."""
    out = []
    for i, row in enumerate(_rows(body, json_body="json" in content_type)):
        if not isinstance(row, dict) or not row.get("phone") or "text" not in row:
            raise ValueError(f"第 {i + 1} 条缺少 phone 或 text")
        key = f"gateway:{row['id']}" if row.get("id") else _key("gateway", row["phone"], row.get("time"), row["text"])
        out.append(Reply("gateway", str(row["phone"]), str(row["text"]), _bj(row.get("time")), key))
    return out


def cmcc_mas(body: bytes, content_type: str) -> list[Reply]:
    """China Mobile 云MAS 上行短信 push (UNOFFICIAL: no public specification; the shape of the one integration
    that shows it, docs/notifications.md): JSON (an object or an array) or form fields ``mobile``, ``smsContent``,
    ``sendTime`` (Beijing ``yyyy-MM-dd HH:mm:ss``), ``addSerial`` (the extension the reply was sent to). It has
    no id: a replay is recognised by number, time and text."""
    out = []
    for i, row in enumerate(_rows(body, json_body="json" in content_type or body.lstrip()[:1] in (b"{", b"["))):
        if not isinstance(row, dict) or not row.get("mobile") or "smsContent" not in row:
            raise ValueError(f"第 {i + 1} 条缺少 mobile 或 smsContent")
        out.append(Reply("cmcc_mas", str(row["mobile"]), str(row["smsContent"]), _bj(row.get("sendTime")),
                         _key("cmcc_mas", row["mobile"], row.get("sendTime"), row["smsContent"])))
    return out


PARSERS = {"aliyun": aliyun, "tencent": tencent}
"""Parsers of the body alone; ``gateway`` and ``cmcc_mas`` also take the Content-Type (JSON or form)."""
WITH_TYPE = {"gateway": gateway, "cmcc_mas": cmcc_mas}
ANSWERS = {"aliyun": {"code": 0, "msg": "接收成功"}, "tencent": {"result": 0, "errmsg": "OK"},
           "gateway": {"code": "0", "msg": "ok"}, "cmcc_mas": {"rspcod": "success", "success": True}}
