"""Alibaba Cloud request signing: RPC signature v1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256).

Pure functions: they take every input (including timestamp and nonce) so that
the vendors' published examples can be reproduced byte for byte
(tests/data/vendor_vectors.json: ``aliyun_rpc_v1``, ``aliyun_acs3``).

Sources: Dysmsapi "HTTP协议及签名" (help.aliyun.com/document_detail/56189) for v1;
"V3版本请求体&签名机制" (help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature)
for ACS3. Alibaba labels v1 discontinued and recommends V3; both are accepted by Dysmsapi.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def pe(value: str) -> str:
    """RFC 3986 percent-encoding as Alibaba specifies it: keep ``A-Za-z0-9-_.~``, space → ``%20``, ``*`` → ``%2A``.

    ``urllib.parse.quote``'s default ``safe="/"`` would keep ``/`` and break the signature.
    """
    return quote(str(value), safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    """Sorted (by byte order of the key), percent-encoded ``k=v`` pairs joined by ``&``; ``Signature`` excluded."""
    return "&".join(f"{pe(k)}={pe(v)}" for k, v in sorted(params.items()) if k != "Signature")


def rpc_v1_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    # The canonical query string is encoded a second time inside StringToSign (':' → %3A → %253A).
    return f"{method.upper()}&{pe('/')}&{pe(canonical_query(params))}"


def rpc_v1_signature(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    """Base64(HMAC-SHA1(secret + "&", StringToSign)) — the key carries a trailing ``&``."""
    sts = rpc_v1_string_to_sign(method, params)
    digest = hmac.new((access_key_secret + "&").encode(), sts.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def rpc_v1_common_params(*, access_key_id: str, action: str, version: str, timestamp: str, nonce: str,
                         region: str = "cn-hangzhou", fmt: str = "JSON") -> dict[str, str]:
    return {
        "AccessKeyId": access_key_id, "Action": action, "Format": fmt, "RegionId": region,
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": nonce, "SignatureVersion": "1.0",
        "Timestamp": timestamp, "Version": version,
    }


def acs3_canonical_request(method: str, uri: str, query: Mapping[str, str], headers: Mapping[str, str],
                           signed_headers: list[str], payload_hash: str) -> str:
    cq = "&".join(f"{pe(k)}={pe(v)}" if v != "" else pe(k) for k, v in sorted(query.items()))
    lower = {k.lower(): str(v).strip() for k, v in headers.items()}
    ch = "".join(f"{h}:{lower[h]}\n" for h in signed_headers)
    return "\n".join([method.upper(), uri, cq, ch, ";".join(signed_headers), payload_hash])


def acs3_signed_headers(headers: Mapping[str, str]) -> list[str]:
    """host, content-type and every x-acs-* header, lower-case and sorted (the V3 doc's rule)."""
    names = {k.lower() for k in headers}
    return sorted(n for n in names if n in ("host", "content-type") or n.startswith("x-acs-"))


def acs3_sign(*, method: str, uri: str, query: Mapping[str, str], headers: Mapping[str, str],
              access_key_id: str, access_key_secret: str, body: bytes = b"") -> tuple[str, str, str]:
    """Return (canonical request, signature hex, Authorization header).

    ``headers`` must already hold host, x-acs-action/version/date/signature-nonce;
    ``x-acs-content-sha256`` is expected to equal hex(SHA256(body)). The HMAC key is the
    RAW secret (no ``&``, unlike v1).
    """
    payload_hash = hashlib.sha256(body).hexdigest()
    signed = acs3_signed_headers(headers)
    cr = acs3_canonical_request(method, uri, query, headers, signed, payload_hash)
    sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(cr.encode()).hexdigest()
    sig = hmac.new(access_key_secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
    auth = f"ACS3-HMAC-SHA256 Credential={access_key_id},SignedHeaders={';'.join(signed)},Signature={sig}"
    return cr, sig, auth


def parse_acs3_authorization(value: str) -> dict[str, str] | None:
    """Split ``ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`` (for the verifying fake)."""
    if not value.startswith("ACS3-HMAC-SHA256 "):
        return None
    out: dict[str, str] = {}
    for part in value[len("ACS3-HMAC-SHA256 "):].split(","):
        k, _, v = part.strip().partition("=")
        out[k] = v
    return out if {"Credential", "SignedHeaders", "Signature"} <= out.keys() else None
