"""Tencent Cloud SMS (API 2021-01-11): SendSms, and PullSmsSendStatusByPhoneNumber after a crash.

Source: cloud.tencent.com/document/api/382/55981 (SendSms), 382/52072 (signature v3),
error codes from tencentcloud-sdk-python sms/v20210111/errorcodes.py; protocols.md §2.
HTTP 200 does not mean sent: both ``Response.Error`` and every
``SendStatusSet[i].Code == "Ok"`` are checked. Our key travels as ``SessionContext``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from urllib.parse import urlsplit

from responder.notify.channels import tencent_sign
from responder.notify.channels._http import HttpClientMixin, json_or_none, retry_after
from responder.notify.channels.base import Channel, ChannelError, OutgoingMessage, SendResult, classify_code, trim
from responder.timeutil import utcnow

ENDPOINT = "https://sms.tencentcloudapi.com/"
VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"

THROTTLE = frozenset({"RequestLimitExceeded", "LimitExceeded.DeliveryFrequencyLimit",
                      "LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberOneHourLimit",
                      "LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.PhoneNumberSameContentDailyLimit"})
THROTTLE_WAIT = {"LimitExceeded.PhoneNumberThirtySecondLimit": 30.0, "LimitExceeded.PhoneNumberOneHourLimit": 3600.0,
                 "LimitExceeded.PhoneNumberDailyLimit": 3600.0 * 6,
                 "LimitExceeded.PhoneNumberSameContentDailyLimit": 3600.0 * 6}
RETRY = frozenset({"InternalError", "InternalError.Timeout", "InternalError.SendAndRecvFail",
                   "InternalError.RequestTimeException", "AuthFailure.SignatureExpire", "FailedOperation.JsonParseFail"})
PERMANENT_PREFIXES = ("InvalidParameter", "FailedOperation", "UnauthorizedOperation", "AuthFailure",
                      "MissingParameter", "UnsupportedOperation", "LimitExceeded.AppDailyLimit")


class TencentSmsChannel(HttpClientMixin, Channel):
    name = "sms"
    provider = "tencent"
    uses_templates = True
    can_query = True

    def __init__(self, *, secret_id: str, secret_key: str, sdk_app_id: str, sign_name: str,
                 region: str = "ap-guangzhou", endpoint: str | None = None, timeout: float = 10.0,
                 param_limit: int = 12, reuse: bool = True, query_after_crash: bool = True,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.region = region
        self.endpoint = endpoint or ENDPOINT
        self.host = urlsplit(self.endpoint).netloc
        self.timeout = timeout
        self.param_limit = param_limit
        self.reuse = reuse
        self.can_query = query_after_crash
        self.clock = clock
        self._client = None

    async def _call(self, action: str, payload: dict) -> tuple[dict, object]:
        # Hash exactly the bytes we send (protocols.md §0.7): build them once.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        ts = int(self.clock().timestamp())
        signed = tencent_sign.sign(secret_id=self.secret_id, secret_key=self.secret_key, service="sms", host=self.host,
                                   action=action, timestamp=ts, payload=body, content_type=CONTENT_TYPE)
        headers = {"Content-Type": CONTENT_TYPE, "X-TC-Action": action, "X-TC-Version": VERSION,
                   "X-TC-Timestamp": str(ts), "X-TC-Region": self.region, "Authorization": signed["authorization"]}
        resp = await self._request("POST", self.endpoint, content=body, headers=headers)
        data = json_or_none(resp)
        if resp.status_code >= 500 or not isinstance(data, dict) or not isinstance(data.get("Response"), dict):
            permanent, throttled = classify_code("", http_status=resp.status_code, default_permanent=False)
            raise ChannelError(f"HTTP {resp.status_code}: {trim(resp.text, 200)}", permanent=permanent,
                               code=f"HTTP {resp.status_code}", throttled=throttled,
                               retry_after=retry_after(resp, 60.0) if throttled else None, response=trim(resp.text))
        return data["Response"], resp

    def _error(self, code: str, message: str, resp) -> ChannelError:
        permanent, throttled = classify_code(code, throttle=THROTTLE, retry=RETRY, permanent_prefixes=PERMANENT_PREFIXES,
                                             default_permanent=False)
        return ChannelError(message or code, permanent=permanent, code=code, throttled=throttled,
                            retry_after=THROTTLE_WAIT.get(code, 60.0) if throttled else None, response=trim(resp.text))

    async def send(self, msg: OutgoingMessage) -> SendResult:
        if not msg.template_code:
            raise ChannelError(f"no Tencent template id for message kind {msg.kind!r} (notify.sms.templates)",
                               permanent=True, code="no-template")
        payload = {"PhoneNumberSet": ["+86" + msg.address], "SmsSdkAppId": self.sdk_app_id,
                   "SignName": self.sign_name, "TemplateId": msg.template_code,
                   "TemplateParamSet": list(msg.params.values()), "SessionContext": msg.provider_key}
        r, resp = await self._call("SendSms", payload)
        if "Error" in r:
            e = r["Error"]
            raise self._error(str(e.get("Code", "")), str(e.get("Message", "")), resp)
        statuses = r.get("SendStatusSet") or []
        if not statuses:
            raise ChannelError("no SendStatusSet in the answer", permanent=False, code="empty", unknown=True,
                               response=trim(resp.text))
        st = statuses[0]
        if st.get("Code") == "Ok":  # sic: "Ok", not "OK"
            return SendResult(provider_id=st.get("SerialNo"), response=trim(resp.text))
        raise self._error(str(st.get("Code", "")), str(st.get("Message", "")), resp)

    async def query(self, msg: OutgoingMessage, *, since: dt.datetime) -> bool | None:
        """Look for our SessionContext among the number's receipts since the interrupted attempt."""
        payload = {"BeginTime": int(since.timestamp()) - 60, "Offset": 0, "Limit": 100,
                   "PhoneNumber": "+86" + msg.address, "SmsSdkAppId": self.sdk_app_id}
        try:
            r, _resp = await self._call("PullSmsSendStatusByPhoneNumber", payload)
        except ChannelError:
            return None
        if "Error" in r:
            return None
        return any(s.get("SessionContext") == msg.provider_key for s in r.get("PullSmsSendStatusSet") or [])
