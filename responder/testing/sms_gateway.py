"""Loopback SMS servers for tests and the demo: a generic HTTP gateway stub and provider fakes.

* :class:`GatewayStub` — the generic gateway shape (``POST /send`` with JSON or form
  fields ``phone``, ``text``, ``key``); can drop repeated keys like an idempotent
  in-house gateway; can print each SMS.
* :class:`AliyunFake` — Dysmsapi ``SendSms`` / ``QuerySendDetails``; verifies the
  RPC v1 and the ACS3 signature as Alibaba does (recomputed from the raw request,
  timestamp within 15 minutes, nonce not reused).
* :class:`TencentFake` — SMS 2021-01-11 ``SendSms`` / ``PullSmsSendStatusByPhoneNumber``;
  verifies TC3-HMAC-SHA256 (timestamp within 5 minutes, credential date = UTC date).

Switches on every server: ``fail_next`` (HTTP 500s), ``throttle_next`` (the provider's
throttling answer), ``invalid_numbers`` (answered as the provider answers a bad
number), ``delay`` (seconds before answering — the send is recorded first, like a
provider that processed the request but answered too late), ``hang`` (the same, until
``release`` is set; ``stalled`` is set when a request is held). Start/stop as context
managers; port 0 gives a free port (``.url``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

from responder.notify.channels import aliyun_sign, tencent_sign

MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: connection reuse is measurable
    disable_nagle_algorithm = True  # headers and body are two writes: Nagle + delayed ACK would add 40 ms each

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server: _Server = self.server.app  # type: ignore[attr-defined]
        try:
            status, headers, payload = server.handle(self.command, self.path, dict(self.headers.items()), body)
        except Exception as exc:  # a bug in a fake must show, not hang the client
            status, headers, payload = 500, {}, json.dumps({"error": repr(exc)}).encode()
        if server.delay:
            time.sleep(server.delay)
        if server.hang:
            # Processed, then no answer until released: the provider that answers after our timeout.
            with server.lock:
                server.stalls += 1
            server.stalled.set()
            server.release.wait(600)
        try:
            self.send_response(status)
            headers = {"Content-Type": "application/json; charset=utf-8", **headers}
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    do_GET = do_POST = do_DELETE = _handle


class _QuietHTTPServer(ThreadingHTTPServer):
    request_queue_size = 128  # the default listen backlog of 5 resets bursts of new connections
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up mid-answer are part of the fault tests


class _Server:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, echo: TextIO | None = None):
        self.host, self.port = host, port
        self.echo = echo
        self.fail_next = 0
        self.throttle_next = 0
        self.invalid_numbers: set[str] = set()
        self.delay = 0.0
        self.hang = False
        self.release = threading.Event()
        self.stalled = threading.Event()
        self.stalls = 0
        self.requests = 0
        self.sent: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self):
        self._httpd = _QuietHTTPServer((self.host, self.port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.app = self  # type: ignore[attr-defined]
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _say(self, phone: str, text: str) -> None:
        if self.echo is not None:
            self.echo.write(f"── 短信 → {phone}\n   {text}\n")
            self.echo.flush()

    def _take(self, attr: str) -> bool:
        with self.lock:
            n = getattr(self, attr)
            if n:
                setattr(self, attr, n - 1)
                return True
            return False

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError


def _j(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


# ---------------------------------------------------------------- generic gateway


class GatewayStub(_Server):
    """``POST /send`` (JSON or form) or ``GET /send?…``: answers ``{"code": "0", "msg": "ok", "id": …}``."""

    def __init__(self, *, dedupe: bool = False, token: str | None = None, **kw: Any):
        super().__init__(**kw)
        self.dedupe = dedupe
        self.token = token
        self.keys: dict[str, str] = {}

    def handle(self, method, path, headers, body):
        with self.lock:
            self.requests += 1
        u = urlsplit(path)
        if method == "GET":
            fields = dict(parse_qsl(u.query))
        elif "json" in headers.get("Content-Type", headers.get("content-type", "")):
            fields = json.loads(body or b"{}")
        else:
            fields = dict(parse_qsl(body.decode()))
        if self.token is not None and headers.get("Authorization", headers.get("authorization")) != f"Bearer {self.token}":
            return 401, {}, _j({"code": "AUTH", "msg": "bad token"})
        if self._take("fail_next"):
            return 500, {}, b"internal error"
        if self._take("throttle_next"):
            return 200, {}, _j({"code": "THROTTLED", "msg": "too fast"})
        phone, text, key = str(fields.get("phone", "")), str(fields.get("text", "")), str(fields.get("key", ""))
        m = MOBILE.match(phone)
        if not m or phone in self.invalid_numbers:
            self.rejected.append(fields)
            return 200, {}, _j({"code": "INVALID_NUMBER", "msg": f"invalid number {phone}"})
        with self.lock:
            if self.dedupe and key and key in self.keys:
                return 200, {}, _j({"code": "0", "msg": "duplicate ignored", "id": self.keys[key]})
            mid = f"gw-{len(self.sent) + 1}"
            self.keys[key] = mid
            self.sent.append({"phone": phone, "text": text, "key": key, "id": mid, "fields": fields})
        self._say(phone, text)
        return 200, {}, _j({"code": "0", "msg": "ok", "id": mid})


# ---------------------------------------------------------------- Alibaba Cloud


class AliyunFake(_Server):
    """Dysmsapi as Alibaba runs it, as far as the signature, the codes and the answers go."""

    def __init__(self, *, keys: dict[str, str] | None = None, templates: set[str] | None = None,
                 sign_names: set[str] | None = None, max_skew: float = 900.0, **kw: Any):
        super().__init__(**kw)
        self.keys = keys or {"testid": "testsecret"}
        self.templates = templates
        self.sign_names = sign_names
        self.max_skew = max_skew
        self.nonces: set[str] = set()
        self.signature_versions: list[str] = []

    def _err(self, status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
        return status, {}, _j({"Code": code, "Message": message, "RequestId": str(uuid.uuid4()),
                               "Recommend": "https://next.api.aliyun.com/troubleshoot"})

    def _check_time(self, ts: str) -> bool:
        try:
            t = dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        except ValueError:
            return False
        return abs((dt.datetime.now(dt.timezone.utc) - t).total_seconds()) <= self.max_skew

    def _nonce_ok(self, nonce: str) -> bool:
        with self.lock:
            if not nonce or nonce in self.nonces:
                return False
            self.nonces.add(nonce)
            return True

    def handle(self, method, path, headers, body):
        with self.lock:
            self.requests += 1
        h = {k.lower(): v for k, v in headers.items()}
        u = urlsplit(path)
        # Percent-decoding only ('+' stays '+'), exactly as the canonical string was built.
        query = {unquote(k): unquote(v) for k, _, v in (p.partition("=") for p in u.query.split("&") if p)}
        auth = h.get("authorization", "")
        if auth.startswith("ACS3-HMAC-SHA256"):
            parsed = aliyun_sign.parse_acs3_authorization(auth)
            secret = self.keys.get(parsed["Credential"]) if parsed else None
            if not parsed or secret is None:
                return self._err(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
            if h.get("x-acs-content-sha256") != hashlib.sha256(body).hexdigest():
                return self._err(400, "SignatureDoesNotMatch", "content sha256 mismatch")
            if not self._check_time(h.get("x-acs-date", "")):
                return self._err(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
            signed = parsed["SignedHeaders"].split(";")
            if any(n not in h for n in signed) or not {"host", "x-acs-action", "x-acs-date"} <= set(signed):
                return self._err(400, "SignatureDoesNotMatch", "signed headers incomplete")
            cr = aliyun_sign.acs3_canonical_request(method, u.path or "/", query, {n: h[n] for n in signed}, signed,
                                                    hashlib.sha256(body).hexdigest())
            sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(cr.encode()).hexdigest()
            expect = hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expect, parsed["Signature"]):
                return self._err(400, "SignatureDoesNotMatch", f"Specified signature is not matched with our calculation. server string to sign is:{sts}")
            if not self._nonce_ok(h.get("x-acs-signature-nonce", "")):
                return self._err(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            action, params = h.get("x-acs-action", ""), query
            self.signature_versions.append("v3")
        else:
            params = dict(query)
            if method == "POST" and body:
                params.update({unquote(k): unquote(v) for k, _, v in (p.partition("=") for p in body.decode().split("&") if p)})
            secret = self.keys.get(params.get("AccessKeyId", ""))
            if secret is None:
                return self._err(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
            if not self._check_time(params.get("Timestamp", "")):
                return self._err(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
            got = params.pop("Signature", "")
            expect = aliyun_sign.rpc_v1_signature(method, params, secret)
            if not hmac.compare_digest(expect, got):
                return self._err(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
            if not self._nonce_ok(params.get("SignatureNonce", "")):
                return self._err(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            action = params.get("Action", "")
            self.signature_versions.append("v1")
        if self._take("fail_next"):
            return 500, {}, _j({"Code": "InternalError", "Message": "The request processing has failed due to some unknown error."})
        if self._take("throttle_next"):
            return self._err(400, "Throttling.User", "Request was denied due to user flow control.")
        if action == "SendSms":
            return self._send(params)
        if action == "QuerySendDetails":
            return self._query(params)
        return self._action(action, params)

    def _action(self, action: str, params: dict[str, str]):
        """Further actions of subclasses (``responder.testing.mns``: Dybaseapi's queue token)."""
        return self._err(404, "InvalidApi.NotFound", f"Specified api is not found: {action}")

    def _send(self, p: dict[str, str]):
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not p.get(name):
                return self._err(400, f"Missing{name}", f"{name} is mandatory for this action.")
        m = MOBILE.match(p["PhoneNumbers"])
        if not m or p["PhoneNumbers"] in self.invalid_numbers:
            self.rejected.append(p)
            return 200, {}, _j({"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": str(uuid.uuid4())})
        if self.templates is not None and p["TemplateCode"] not in self.templates:
            return 200, {}, _j({"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法", "RequestId": str(uuid.uuid4())})
        if self.sign_names is not None and p["SignName"] not in self.sign_names:
            return 200, {}, _j({"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "签名不合法", "RequestId": str(uuid.uuid4())})
        try:
            params = json.loads(p.get("TemplateParam") or "{}")
        except ValueError:
            return 200, {}, _j({"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法", "RequestId": str(uuid.uuid4())})
        biz = f"{len(self.sent) + 1:06d}^0"
        with self.lock:
            self.sent.append({"phone": m.group(1), "template": p["TemplateCode"], "params": params, "sign": p["SignName"],
                              "out_id": p.get("OutId", ""), "biz_id": biz, "at": dt.datetime.now(dt.timezone.utc)})
        self._say(m.group(1), f"{p['SignName']} {p['TemplateCode']} {json.dumps(params, ensure_ascii=False)}")
        return 200, {}, _j({"Code": "OK", "Message": "OK", "BizId": biz, "RequestId": str(uuid.uuid4())})

    def _query(self, p: dict[str, str]):
        phone = p.get("PhoneNumber", "")
        day = p.get("SendDate", "")
        bj = dt.timezone(dt.timedelta(hours=8))
        dtos = [{"PhoneNum": s["phone"], "SendStatus": 3, "ErrCode": "DELIVERED", "TemplateCode": s["template"],
                 "Content": json.dumps(s["params"], ensure_ascii=False), "SendDate": s["at"].astimezone(bj).strftime("%Y-%m-%d %H:%M:%S"),
                 "OutId": s["out_id"]}
                for s in self.sent if s["phone"] == phone and s["at"].astimezone(bj).strftime("%Y%m%d") == day]
        return 200, {}, _j({"Code": "OK", "Message": "OK", "TotalCount": len(dtos), "RequestId": str(uuid.uuid4()),
                            "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos}})


# ---------------------------------------------------------------- Tencent Cloud


class TencentFake(_Server):
    """sms.tencentcloudapi.com as far as TC3 verification, the answer shapes and the codes go."""

    def __init__(self, *, keys: dict[str, str] | None = None, app_id: str = "1400006666",
                 templates: set[str] | None = None, max_skew: float = 300.0, **kw: Any):
        super().__init__(**kw)
        self.keys = keys or {"AKIDEXAMPLE": "SECRETEXAMPLE"}
        self.app_id = app_id
        self.templates = templates
        self.max_skew = max_skew

    def _err(self, code: str, message: str, status: int = 200):
        return status, {}, _j({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}})

    def handle(self, method, path, headers, body):
        with self.lock:
            self.requests += 1
        h = {k.lower(): v for k, v in headers.items()}
        parsed = tencent_sign.parse_authorization(h.get("authorization", ""))
        if parsed is None:
            return self._err("AuthFailure.InvalidAuthorization", "Authorization is invalid")
        secret_id, date, service, term = (parsed["Credential"].split("/") + ["", "", "", ""])[:4]
        secret = self.keys.get(secret_id)
        if secret is None:
            return self._err("AuthFailure.SecretIdNotFound", "SecretId not found")
        try:
            ts = int(h.get("x-tc-timestamp", ""))
        except ValueError:
            return self._err("AuthFailure.InvalidAuthorization", "bad timestamp")
        if abs(time.time() - ts) > self.max_skew:
            return self._err("AuthFailure.SignatureExpire", "signature expired")
        if date != tencent_sign.utc_date(ts) or service != "sms" or term != "tc3_request":
            return self._err("AuthFailure.SignatureFailure", "credential scope mismatch")
        signed = parsed["SignedHeaders"].split(";")
        if any(n not in h for n in signed) or "content-type" not in signed or "host" not in signed:
            return self._err("AuthFailure.SignatureFailure", "signed headers incomplete")
        cr = tencent_sign.canonical_request(method=method, uri=urlsplit(path).path or "/", query=urlsplit(path).query,
                                            headers={n: h[n] for n in signed}, signed_headers=signed, payload=body)
        sts = f"TC3-HMAC-SHA256\n{ts}\n{date}/sms/tc3_request\n{hashlib.sha256(cr.encode()).hexdigest()}"
        expect = hmac.new(tencent_sign.signing_key(secret, date, "sms"), sts.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expect, parsed["Signature"]):
            return self._err("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        if self._take("fail_next"):
            return 500, {}, b"<html>502 Bad Gateway</html>"
        if self._take("throttle_next"):
            return self._err("RequestLimitExceeded", "请求的次数超过了频率限制。")
        try:
            req = json.loads(body)
        except ValueError:
            return self._err("FailedOperation.JsonParseFail", "body is not JSON")
        action = h.get("x-tc-action", "")
        if action == "SendSms":
            return self._send(req)
        if action == "PullSmsSendStatusByPhoneNumber":
            return self._pull(req)
        return self._err("InvalidAction", f"unknown action {action}")

    def _send(self, req: dict[str, Any]):
        if req.get("SmsSdkAppId") != self.app_id:
            return self._err("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId verify fail")
        if self.templates is not None and str(req.get("TemplateId")) not in self.templates:
            return self._err("FailedOperation.TemplateIncorrectOrUnapproved", "template not approved")
        out = []
        for number in req.get("PhoneNumberSet") or []:
            m = MOBILE.match(number)
            if not m or number in self.invalid_numbers or (m and m.group(1) in self.invalid_numbers):
                self.rejected.append(req)
                out.append({"SerialNo": "", "PhoneNumber": number, "Fee": 0, "SessionContext": req.get("SessionContext", ""),
                            "Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "手机号格式错误", "IsoCode": "CN"})
                continue
            serial = f"2433:{uuid.uuid4().int % 10**20}"
            with self.lock:
                self.sent.append({"phone": m.group(1), "template": str(req.get("TemplateId")),
                                  "params": list(req.get("TemplateParamSet") or []), "sign": req.get("SignName"),
                                  "session": req.get("SessionContext", ""), "serial": serial, "at": time.time()})
            self._say(m.group(1), f"{req.get('SignName')} {req.get('TemplateId')} {req.get('TemplateParamSet')}")
            out.append({"SerialNo": serial, "PhoneNumber": number, "Fee": 1, "SessionContext": req.get("SessionContext", ""),
                        "Code": "Ok", "Message": "send success", "IsoCode": "CN"})
        return 200, {}, _j({"Response": {"SendStatusSet": out, "RequestId": str(uuid.uuid4())}})

    def _pull(self, req: dict[str, Any]):
        m = MOBILE.match(str(req.get("PhoneNumber", "")))
        phone = m.group(1) if m else ""
        begin = int(req.get("BeginTime") or 0)
        rows = [{"UserReceiveTime": int(s["at"]), "CountryCode": "86", "SubscriberNumber": s["phone"],
                 "PhoneNumber": "+86" + s["phone"], "SerialNo": s["serial"], "ReportStatus": "SUCCESS",
                 "Description": "用户短信接收成功", "SessionContext": s["session"]}
                for s in self.sent if s["phone"] == phone and s["at"] >= begin]
        return 200, {}, _j({"Response": {"PullSmsSendStatusSet": rows, "RequestId": str(uuid.uuid4())}})


def print_sms(server: _Server, stream: TextIO | None = None) -> None:
    """Print every SMS a server received (for the demo's end-of-run summary)."""
    out = stream or sys.stdout
    for s in server.sent:
        out.write(f"── 短信 → {s['phone']}\n   {s.get('text') or s.get('params')}\n")


__all__ = ["GatewayStub", "AliyunFake", "TencentFake", "print_sms"]
