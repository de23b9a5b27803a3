"""Group robots: WeCom (企业微信) and DingTalk custom robots, text messages to an office group.

Sources: WeCom developer.work.weixin.qq.com/document/path/91770 (content ≤ 2048 bytes,
20 messages/min per robot); DingTalk open.dingtalk.com/document/robots/customize-robot-security-settings
(sign = urlencode(base64(HMAC-SHA256(secret, f"{ts_ms}\\n{secret}")))). protocols.md §4.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus

from responder.notify.channels._http import HttpClientMixin, json_or_none
from responder.notify.channels.base import Channel, ChannelError, OutgoingMessage, SendResult, trim

WECOM_MAX_BYTES = 2048
THROTTLE = {"45009", "130101"}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def clip_bytes(text: str, limit: int) -> str:
    b = text.encode()
    if len(b) <= limit:
        return text
    return b[: limit - 3].decode(errors="ignore") + "…"


class RobotChannel(HttpClientMixin, Channel):
    name = "robot"

    def __init__(self, *, kind: str, webhook: str, sign_secret: str | None = None, timeout: float = 10.0,
                 reuse: bool = True):
        self.provider = kind
        self.webhook = webhook
        self.sign_secret = sign_secret
        self.timeout = timeout
        self.reuse = reuse
        self._client = None

    async def send(self, msg: OutgoingMessage) -> SendResult:
        text = clip_bytes(("【重发】" if msg.repeat else "") + msg.text, WECOM_MAX_BYTES)
        url = self.webhook
        if self.provider == "dingtalk" and self.sign_secret:
            ts = int(time.time() * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={dingtalk_sign(self.sign_secret, ts)}"
        resp = await self._request("POST", url, json={"msgtype": "text", "text": {"content": text}})
        data = json_or_none(resp)
        code = str(data.get("errcode")) if isinstance(data, dict) else ""
        if resp.status_code == 200 and code == "0":
            return SendResult(response=trim(resp.text))
        if code in THROTTLE or resp.status_code == 429:
            raise ChannelError("robot throttled", permanent=False, throttled=True, code=code, retry_after=60.0)
        raise ChannelError(f"robot refused: {trim(resp.text, 200)}", permanent=resp.status_code < 500 and bool(code),
                           code=code or f"HTTP {resp.status_code}", response=trim(resp.text))
