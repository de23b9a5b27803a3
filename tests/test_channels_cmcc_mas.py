"""China Mobile 云MAS: the computed example reproduced byte for byte, and a send to a loopback gateway
that decodes the Base64 body and checks the mac as the gateway does."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from responder.notify.channels.base import ChannelError, OutgoingMessage
from responder.notify.channels.cmcc_mas import CmccMasChannel, mac, request_body

VEC = json.loads((Path(__file__).resolve().parent / "data" / "vendor_vectors.json").read_text(encoding="utf-8"))["cmcc_mas_mac_computed"]


def test_mac_and_body_reproduce_the_vector():
    """mac and the Base64 body equal vendor_vectors.json cmcc_mas_mac_computed exactly."""
    i = VEC["inputs"]
    args = dict(ec_name=i["ecName"], ap_id=i["apId"], secret_key=i["secretKey"], mobiles=i["mobiles"],
                content=i["content"], sign=i["sign"], add_serial=i["addSerial"])
    assert mac(**args) == VEC["expected_mac"]
    assert request_body(**args).decode() == VEC["example_http_body_base64"]


class FakeMas:
    def __init__(self, secret: str) -> None:
        self.secret, self.sent, self.rejected = secret, [], []
        fake = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                doc = json.loads(base64.b64decode(self.rfile.read(int(self.headers["Content-Length"]))))
                want = hashlib.md5((doc["ecName"] + doc["apId"] + fake.secret + doc["mobiles"] + doc["content"]
                                    + doc["sign"] + doc["addSerial"]).encode()).hexdigest()
                if doc["mac"] == want:
                    fake.sent.append(doc)
                    out = {"rspcod": "success", "success": True, "msgGroup": f"mg-{len(fake.sent)}"}
                else:
                    fake.rejected.append(doc)
                    out = {"rspcod": "IllegalMac", "success": False, "msgGroup": ""}
                b = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sms/norsubmit"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def gateway():
    g = FakeMas("Passw0rd!")
    yield g
    g.httpd.shutdown()


def send(ch: CmccMasChannel, text: str):
    async def go():
        try:
            return await ch.send(OutgoingMessage(key="k1", address="13800138000", kind="overdue", text=text))
        finally:
            await ch.aclose()
    return asyncio.run(go())


def test_send_is_accepted_with_the_right_secret(gateway):
    """A message reaches the gateway, its mac checks out, and the batch id comes back."""
    ch = CmccMasChannel(endpoint=gateway.url, ec_name="石台县人民政府办公室", ap_id="stzwgk", secret_key="Passw0rd!",
                        sign="AbCdEf123")
    res = send(ch, "【石台县政务公开】案件#4 已超时，请立即处理。")
    assert res.provider_id == "mg-1" and gateway.sent[0]["content"].startswith("【石台县政务公开】")
    assert "secretKey" not in gateway.sent[0]


def test_wrong_secret_is_a_permanent_failure(gateway):
    """An IllegalMac answer is permanent: retrying with the same password cannot succeed."""
    ch = CmccMasChannel(endpoint=gateway.url, ec_name="x", ap_id="y", secret_key="wrong", sign="s")
    with pytest.raises(ChannelError) as exc:
        send(ch, "测试")
    assert exc.value.permanent and exc.value.code == "IllegalMac" and gateway.rejected
