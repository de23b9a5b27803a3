"""A generic HTTP SMS gateway: China Mobile 云MAS-style platforms and in-house gateways.

The request is described in the configuration: URL, method, a form or JSON
body whose fields are Jinja2 templates over ``phone``, ``text``, ``key``,
``template``, ``params`` and ``token``, and where in the answer success, the
error code and the message id are. No provider signing scheme is assumed; a
gateway that needs one (云MAS ``mac``) can compute it with the ``md5`` filter.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from responder.notify.channels._http import HttpClientMixin, json_or_none, retry_after
from responder.notify.channels.base import Channel, ChannelError, OutgoingMessage, SendResult, classify_code, trim

DEFAULT_FIELDS = {"phone": "{{ phone }}", "text": "{{ text }}", "key": "{{ key }}"}


def _env() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    env.filters["md5"] = lambda s: hashlib.md5(str(s).encode()).hexdigest()
    env.filters["tojson_compact"] = lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return env


def dig(data: Any, path: str) -> Any:
    """``a.b.0.c`` into nested dicts and lists; None when any step is missing."""
    node = data
    for part in path.split(".") if path else []:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


class HttpGatewayChannel(HttpClientMixin, Channel):
    name = "sms"
    provider = "http"

    def __init__(self, *, url: str, method: str = "POST", body: str = "json", fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None, token: str | None = None, success_path: str = "",
                 success_value: str = "", code_path: str = "", id_path: str = "",
                 throttle_codes: list[str] | tuple[str, ...] = (), permanent_codes: list[str] | tuple[str, ...] = (),
                 idempotent: bool = False, text_limit: int = 300, timeout: float = 10.0, reuse: bool = True):
        env = _env()
        self.url = url
        self.method = method.upper()
        self.body = body
        self.fields = {k: env.from_string(v) for k, v in (fields or DEFAULT_FIELDS).items()}
        self.headers = {k: env.from_string(v) for k, v in (headers or {}).items()}
        self.token = token or ""
        self.success_path, self.success_value = success_path, success_value
        self.code_path = code_path or success_path
        self.id_path = id_path
        self.throttle_codes = frozenset(throttle_codes)
        self.permanent_codes = frozenset(permanent_codes)
        self.dedupes = idempotent
        self.text_limit = text_limit
        self.timeout = timeout
        self.reuse = reuse
        self._client = None

    def build_request(self, msg: OutgoingMessage) -> dict[str, Any]:
        """The httpx keyword arguments for ``msg`` (pure; the gateway fake and the tests use it)."""
        vars_ = {"phone": msg.address, "text": msg.text, "key": msg.provider_key, "template": msg.template_code,
                 "params": msg.params, "token": self.token, "kind": msg.kind, "repeat": msg.repeat}
        values = {k: t.render(vars_) for k, t in self.fields.items()}
        headers = {k: t.render(vars_) for k, t in self.headers.items()}
        if self.method == "GET":
            return {"params": values, "headers": headers}
        if self.body == "form":
            return {"data": values, "headers": headers}
        return {"content": json.dumps(values, ensure_ascii=False).encode(),
                "headers": {"Content-Type": "application/json; charset=utf-8", **headers}}

    async def send(self, msg: OutgoingMessage) -> SendResult:
        try:
            kw = self.build_request(msg)
        except Exception as exc:  # a field template that does not fit this message
            raise ChannelError(f"gateway request template failed: {exc}", permanent=True, code="config") from None
        resp = await self._request(self.method, self.url, **kw)
        data = json_or_none(resp)
        if resp.status_code == 429 or resp.status_code >= 400:
            permanent, throttled = classify_code("", http_status=resp.status_code)
            raise ChannelError(f"HTTP {resp.status_code}: {trim(resp.text, 200)}", permanent=permanent,
                               code=f"HTTP {resp.status_code}", throttled=throttled,
                               retry_after=retry_after(resp, 60.0) if throttled else None, response=trim(resp.text))
        if self.success_path:
            got = dig(data, self.success_path)
            if str(got) != self.success_value and not (isinstance(got, bool) and str(got).lower() == self.success_value.lower()):
                code = str(dig(data, self.code_path) if data is not None else "")
                if code in self.throttle_codes:
                    raise ChannelError(f"gateway throttled: {code}", permanent=False, throttled=True, code=code,
                                       retry_after=retry_after(resp, 60.0), response=trim(resp.text))
                permanent = code in self.permanent_codes
                raise ChannelError(f"gateway refused: {trim(resp.text, 200)}", permanent=permanent, code=code,
                                   response=trim(resp.text))
        pid = dig(data, self.id_path) if self.id_path else None
        return SendResult(provider_id=str(pid) if pid is not None else None, response=trim(resp.text))
