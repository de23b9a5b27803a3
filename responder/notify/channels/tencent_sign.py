"""Tencent Cloud API 3.0 signing (TC3-HMAC-SHA256), as pure functions.

Source: "签名方法 v3" (cloud.tencent.com/document/api/382/52072). Every input is a
parameter so that the three published revisions of the worked example
reproduce exactly (tests/data/vendor_vectors.json ``tencent_tc3``). The payload is hashed as the
exact bytes sent: build the body once, hash it, send it with ``content=``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping

ALGORITHM = "TC3-HMAC-SHA256"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def utc_date(timestamp: int) -> str:
    """The credential scope date is the UTC date of the timestamp, not the Beijing one."""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m-%d")


def canonical_request(*, method: str, uri: str, query: str, headers: Mapping[str, str],
                      signed_headers: list[str], payload: bytes) -> str:
    lower = {k.lower(): str(v).strip() for k, v in headers.items()}
    # The doc lower-cases header values too (x-tc-action:describeinstances).
    ch = "".join(f"{h}:{lower[h].lower() if h == 'x-tc-action' else lower[h]}\n" for h in signed_headers)
    return "\n".join([method.upper(), uri, query, ch, ";".join(signed_headers), hashlib.sha256(payload).hexdigest()])


def signing_key(secret_key: str, date: str, service: str) -> bytes:
    k_date = _hmac(("TC3" + secret_key).encode(), date)
    k_service = _hmac(k_date, service)
    return _hmac(k_service, "tc3_request")


def sign(*, secret_id: str, secret_key: str, service: str, host: str, action: str, timestamp: int,
         payload: bytes, content_type: str = "application/json; charset=utf-8", method: str = "POST",
         signed_headers: list[str] | None = None) -> dict[str, str]:
    """Return the intermediate values and the Authorization header (keys: canonical_request, string_to_sign, signature, authorization)."""
    signed = signed_headers or ["content-type", "host", "x-tc-action"]
    headers = {"content-type": content_type, "host": host, "x-tc-action": action}
    cr = canonical_request(method=method, uri="/", query="", headers=headers, signed_headers=signed, payload=payload)
    date = utc_date(timestamp)
    scope = f"{date}/{service}/tc3_request"
    sts = f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(cr.encode()).hexdigest()}"
    sig = hmac.new(signing_key(secret_key, date, service), sts.encode(), hashlib.sha256).hexdigest()
    auth = f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={';'.join(signed)}, Signature={sig}"
    return {"canonical_request": cr, "string_to_sign": sts, "signature": sig, "authorization": auth}


def parse_authorization(value: str) -> dict[str, str] | None:
    """Split a TC3 Authorization header (``, ``-separated) for the verifying fake."""
    if not value.startswith(ALGORITHM + " "):
        return None
    out: dict[str, str] = {}
    for part in value[len(ALGORITHM) + 1:].split(","):
        k, _, v = part.strip().partition("=")
        out[k] = v
    return out if {"Credential", "SignedHeaders", "Signature"} <= out.keys() else None
