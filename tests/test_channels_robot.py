"""The office's group robot (DingTalk), end to end: engine step → outbox → signed POST to a loopback robot."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from responder import db, engine as eng
from responder.config import load
from responder.notify.render import Renderer
from responder.testing.engine import add_item, make_test_settings

UTC = dt.timezone.utc
SECRET = "SECtest0123456789"


class DingTalkRobot:
    """Checks timestamp and sign as DingTalk does (protocols.md §4.2); answers errcode 0 or 310000."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.rejected = 0
        robot = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                q = parse_qs(urlsplit(self.path).query)
                ts, sign = q.get("timestamp", [""])[0], q.get("sign", [""])[0]
                want = base64.b64encode(hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()).decode()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                ok = bool(sign) and sign == want  # parse_qs has already URL-decoded it, as DingTalk does
                if ok:
                    robot.posts.append(body)
                else:
                    robot.rejected += 1
                out = json.dumps({"errcode": 0 if ok else 310000, "errmsg": "ok" if ok else "sign not match"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/robot/send?access_token=abc"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()


@pytest.fixture
def robot():
    r = DingTalkRobot()
    yield r
    r.stop()


def test_a_step_posts_once_to_the_group_with_a_valid_dingtalk_signature(tmp_path, robot, monkeypatch):
    """A case's opening step reaches the office group once, signed as DingTalk requires."""
    monkeypatch.setenv("RESPONDER_ROBOT_WEBHOOK", robot.url)
    monkeypatch.setenv("RESPONDER_ROBOT_SIGN", SECRET)
    base = make_test_settings(tmp_path, sms=False)
    text = base.path.read_text(encoding="utf-8").replace('channels = ["sms", "email"]', 'channels = ["robot"]')
    text += '\n[notify.robot]\nkind = "dingtalk"\nwebhook_secret = "robot_webhook"\nsign_secret = "robot_sign"\n'
    base.path.write_text(text, encoding="utf-8")
    s = load(base.path)
    e = db.make_engine(s.database_url)
    db.upgrade(e)
    t = dt.datetime.now(UTC)
    add_item(e, title="石台县丁香镇一化工厂发生爆炸 已致12人死亡", text="已造成12人死亡。", published_at=t, first_seen_at=t)
    eng.open_cases(e, s, t)
    assert eng.advance(e, s, t).messages == 1
    from responder.notify.channels import build_channels
    from responder.notify import dispatch_due

    channels = build_channels(s)
    rep = asyncio.run(dispatch_due(e, s, channels, Renderer.from_dir(s.data_paths["templates"]), now=t, owner="test"))
    asyncio.run(channels["robot"].aclose())
    assert rep.sent == 1 and robot.rejected == 0 and len(robot.posts) == 1
    assert robot.posts[0]["msgtype"] == "text" and "化工厂" in robot.posts[0]["text"]["content"]


@pytest.mark.parametrize("ts", [1599360473000, 1700000000123, 1234567890000])
def test_dingtalk_signature_survives_url_encoding(ts):
    """The sign placed in the URL decodes back to the Base64 digest, whether or not it contains '+', '/' or '='."""
    from responder.notify.channels.robot import dingtalk_sign

    want = base64.b64encode(hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()).decode()
    got = parse_qs(f"timestamp={ts}&sign={dingtalk_sign(SECRET, ts)}")["sign"][0]
    assert got == want
