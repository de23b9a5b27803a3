"""China Mobile 云MAS (移动云MAS) HTTP SMS, the "norsubmit" interface: plain text, Base64 JSON body.

No official public specification could be found; the field set and the ``mac`` rule are
the ones every integration copies (vendors/protocols.md §3, tests/data/vendor_vectors.json
``cmcc_mas_mac_computed``): ``mac = md5(ecName + apId + secretKey + mobiles + content +
sign + addSerial)`` as lower-case hex, the request JSON Base64-encoded and POSTed as the
raw body, success when ``rspcod == "success"`` and ``success`` is true. The secret key
enters the ``mac`` only and is not transmitted (as in the vector); confirm both with the
provincial 云MAS operator during 联调. The gateway does not deduplicate and cannot be
asked whether it sent: a crash between send and record resends, marked 【重发】.
"""

from __future__ import annotations

import base64
import hashlib
import json

from responder.notify.channels._http import HttpClientMixin, json_or_none
from responder.notify.channels.base import Channel, ChannelError, OutgoingMessage, SendResult, trim

# rspcod values that will fail again unchanged (integration sources; not vendor-verified).
PERMANENT = frozenset({"InvalidUsrOrPwd", "IllegalMac", "IllegalSignId", "InvalidMessage", "IllegalMobile",
                       "TooManyMobiles", "IllegalAddSerial"})
TEXT_LIMIT = 500


def mac(ec_name: str, ap_id: str, secret_key: str, mobiles: str, content: str, sign: str, add_serial: str) -> str:
    return hashlib.md5((ec_name + ap_id + secret_key + mobiles + content + sign + add_serial).encode("utf-8")).hexdigest()


def request_body(*, ec_name: str, ap_id: str, secret_key: str, mobiles: str, content: str, sign: str,
                 add_serial: str = "") -> bytes:
    """The raw HTTP body (pure): compact UTF-8 JSON in the vector's key order, Base64-encoded."""
    doc = {"ecName": ec_name, "apId": ap_id, "mobiles": mobiles, "content": content, "sign": sign,
           "addSerial": add_serial, "mac": mac(ec_name, ap_id, secret_key, mobiles, content, sign, add_serial)}
    return base64.b64encode(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


class CmccMasChannel(HttpClientMixin, Channel):
    name = "sms"
    provider = "cmcc_mas"
    text_limit = TEXT_LIMIT

    def __init__(self, *, endpoint: str, ec_name: str, ap_id: str, secret_key: str, sign: str, add_serial: str = "",
                 timeout: float = 10.0, reuse: bool = True):
        self.endpoint, self.ec_name, self.ap_id = endpoint, ec_name, ap_id
        self.secret_key, self.sign, self.add_serial = secret_key, sign, add_serial
        self.timeout, self.reuse = timeout, reuse
        self._client = None

    async def send(self, msg: OutgoingMessage) -> SendResult:
        body = request_body(ec_name=self.ec_name, ap_id=self.ap_id, secret_key=self.secret_key, mobiles=msg.address,
                            content=msg.text, sign=self.sign, add_serial=self.add_serial)
        resp = await self._request("POST", self.endpoint, content=body,
                                   headers={"Content-Type": "text/plain; charset=utf-8"})
        data = json_or_none(resp)
        if resp.status_code == 200 and isinstance(data, dict) and data.get("success") is True \
                and str(data.get("rspcod")) == "success":
            return SendResult(provider_id=str(data.get("msgGroup") or ""), response=trim(resp.text))
        code = str(data.get("rspcod")) if isinstance(data, dict) and data.get("rspcod") else f"HTTP {resp.status_code}"
        permanent = code in PERMANENT or (400 <= resp.status_code < 500 and resp.status_code != 429)
        raise ChannelError(f"云MAS refused: {trim(resp.text, 200)}", permanent=permanent, code=code,
                           response=trim(resp.text), throttled=resp.status_code == 429)
