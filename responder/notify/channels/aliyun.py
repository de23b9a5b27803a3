"""Alibaba Cloud SMS (Dysmsapi 2017-05-25): SendSms, and QuerySendDetails after a crash.

Source: help.aliyun.com/document_detail/55284 (SendSms), 419277 (QuerySendDetails),
101346 (error codes), 48054 (gateway errors); see ../shared/vendors/protocols.md §1.
SendSms is not idempotent (the doc says so), so our key travels as ``OutId`` and a
crash is resolved by finding that OutId in QuerySendDetails before resending.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from responder.notify.channels import aliyun_sign
from responder.notify.channels._http import HttpClientMixin, json_or_none, retry_after
from responder.notify.channels.base import Channel, ChannelError, OutgoingMessage, SendResult, classify_code, trim
from responder.timeutil import BEIJING, utcnow

ENDPOINT = "https://dysmsapi.aliyuncs.com/"
VERSION = "2017-05-25"

THROTTLE = frozenset({"Throttling.User", "Throttling.Api", "Throttling", "isv.BUSINESS_LIMIT_CONTROL"})
RETRY = frozenset({"isp.SYSTEM_ERROR", "SignatureNonceUsed", "InvalidTimeStamp.Expired", "ServiceUnavailable",
                   "InternalError"})
PERMANENT = frozenset({"isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.TEMPLATE_MISSING_PARAMETERS",
                       "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL", "isv.INVALID_PARAMETERS",
                       "isv.DAY_LIMIT_CONTROL", "isv.MONTH_LIMIT_CONTROL", "isv.OUT_OF_SERVICE",
                       "isv.AMOUNT_NOT_ENOUGH", "isp.RAM_PERMISSION_DENY", "SignatureDoesNotMatch",
                       "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.Inactive"})
# BUSINESS_LIMIT_CONTROL is per-number flow control (e.g. 5/hour): wait for the next window (protocols.md §1.4).
THROTTLE_WAIT = {"isv.BUSINESS_LIMIT_CONTROL": 3600.0}


class AliyunSmsChannel(HttpClientMixin, Channel):
    name = "sms"
    provider = "aliyun"
    uses_templates = True
    can_query = True

    def __init__(self, *, access_key_id: str, access_key_secret: str, sign_name: str, endpoint: str | None = None,
                 signature: str = "v3", timeout: float = 10.0, param_limit: int = 35, reuse: bool = True,
                 query_after_crash: bool = True, clock: Callable[[], dt.datetime] = utcnow):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.endpoint = endpoint or ENDPOINT
        self.signature = signature
        self.timeout = timeout
        self.param_limit = param_limit
        self.reuse = reuse
        self.can_query = query_after_crash
        self.clock = clock
        self._client = None

    def _url_and_headers(self, action: str, params: dict[str, str]) -> tuple[str, str, dict[str, str]]:
        """Sign ``params`` for ``action``: returns (method, pre-encoded URL, headers)."""
        return signed_rpc(endpoint=self.endpoint, action=action, params=params, access_key_id=self.access_key_id,
                          access_key_secret=self.access_key_secret, signature=self.signature, now=self.clock())

    async def send(self, msg: OutgoingMessage) -> SendResult:
        if not msg.template_code:
            raise ChannelError(f"no Alibaba template code for message kind {msg.kind!r} (notify.sms.templates)",
                               permanent=True, code="no-template")
        params = {
            "PhoneNumbers": msg.address, "SignName": self.sign_name, "TemplateCode": msg.template_code,
            "TemplateParam": json.dumps(msg.params, ensure_ascii=False, separators=(",", ":")),
            "OutId": msg.provider_key,
        }
        method, url, headers = self._url_and_headers("SendSms", params)
        resp = await self._request(method, url, headers=headers)
        body = json_or_none(resp)
        code = str(body.get("Code", "")) if isinstance(body, dict) else ""
        if resp.status_code == 200 and code == "OK":
            return SendResult(provider_id=body.get("BizId"), response=trim(resp.text))
        raise self._error(resp.status_code, code, body, resp)

    def _error(self, status: int, code: str, body, resp) -> ChannelError:
        message = str(body.get("Message", "")) if isinstance(body, dict) else trim(resp.text, 200)
        permanent, throttled = classify_code(code, http_status=status, throttle=THROTTLE, retry=RETRY,
                                             permanent=PERMANENT, permanent_prefixes=("isv.",),
                                             default_permanent=False)
        wait = retry_after(resp, THROTTLE_WAIT.get(code, 60.0)) if throttled else None
        return ChannelError(message or f"HTTP {status}", permanent=permanent, code=code or f"HTTP {status}",
                            throttled=throttled, retry_after=wait, response=trim(resp.text))

    async def query(self, msg: OutgoingMessage, *, since: dt.datetime) -> bool | None:
        """Look for our OutId among the number's sends of that (Beijing) day (QuerySendDetails)."""
        days = {since.astimezone(BEIJING).strftime("%Y%m%d"), self.clock().astimezone(BEIJING).strftime("%Y%m%d")}
        try:
            for day in sorted(days):
                params = {"PhoneNumber": msg.address, "SendDate": day, "PageSize": "50", "CurrentPage": "1"}
                method, url, headers = self._url_and_headers("QuerySendDetails", params)
                resp = await self._request(method, url, headers=headers)
                body = json_or_none(resp)
                if resp.status_code != 200 or not isinstance(body, dict) or body.get("Code") != "OK":
                    return None
                dtos = (body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
                if any(d.get("OutId") == msg.provider_key for d in dtos):
                    return True
            return False
        except ChannelError:
            return None


def signed_rpc(*, endpoint: str, action: str, params: dict[str, str], access_key_id: str, access_key_secret: str,
               signature: str, now: dt.datetime, version: str = VERSION) -> tuple[str, str, dict[str, str]]:
    """One Alibaba Cloud RPC call (Dysmsapi here, Dybaseapi for the reply queue's token), signed with RPC v1
    or V3: returns (method, pre-encoded URL, headers)."""
    ts = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = uuid.uuid4().hex
    base = endpoint.rstrip("/") + "/"
    if signature == "v1":
        q = {**aliyun_sign.rpc_v1_common_params(access_key_id=access_key_id, action=action, version=version,
                                                 timestamp=ts, nonce=nonce), **params}
        q["Signature"] = aliyun_sign.rpc_v1_signature("GET", q, access_key_secret)
        # Pre-encoded with the RFC 3986 encoder: httpx's params= would turn spaces into '+'.
        return "GET", base + "?" + "&".join(f"{aliyun_sign.pe(k)}={aliyun_sign.pe(v)}" for k, v in q.items()), {}
    host = urlsplit(base).netloc
    headers = {"host": host, "x-acs-action": action, "x-acs-version": version, "x-acs-date": ts,
               "x-acs-signature-nonce": nonce, "x-acs-content-sha256": aliyun_sign.EMPTY_SHA256}
    _cr, _sig, auth = aliyun_sign.acs3_sign(method="POST", uri="/", query=params, headers=headers,
                                           access_key_id=access_key_id, access_key_secret=access_key_secret)
    headers["Authorization"] = auth
    del headers["host"]  # httpx sets Host itself, to the same value
    cq = "&".join(f"{aliyun_sign.pe(k)}={aliyun_sign.pe(v)}" for k, v in sorted(params.items()))
    return "POST", base + "?" + cq, headers
