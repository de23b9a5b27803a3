"""``responder notify-test`` sends through the real channel; ``responder outbox --json`` shows it."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

from click.testing import CliRunner

from responder.cli import main
from responder.testing.sms_gateway import GatewayStub
from responder.testing.smtp import SmtpSink

warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
REPO = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path, smtp_port: int, gateway_url: str) -> Path:
    cfg = tmp_path / "config"
    shutil.copytree(REPO / "config", cfg)
    text = (cfg / "responder.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[\[source\]\].*?(?=\n\[notify\])", "", text, flags=re.S)
    text = text.replace('state_dir = "../var"', f'state_dir = "{tmp_path / "var"}"')
    text = text.replace('templates = "../templates"', f'templates = "{REPO / "templates"}"')
    text = text.replace("port = 8025", f"port = {smtp_port}")
    text = re.sub(r'^provider = "none".*$', f'provider = "http"\nendpoint = "{gateway_url}send"\nsuccess_path = "code"\n'
                  'success_value = "0"', text, count=1, flags=re.M)
    (cfg / "responder.toml").write_text(text, encoding="utf-8")
    return cfg / "responder.toml"


def test_notify_test_sends_email_and_sms_and_outbox_lists_them(tmp_path):
    """notify-test --channel email|sms delivers to the sink and the gateway; outbox --json lists both as recent."""
    with SmtpSink() as sink, GatewayStub() as gw:
        path = _config(tmp_path, sink.port, gw.url)
        r = CliRunner()
        up = r.invoke(main, ["-c", str(path), "db", "upgrade"])
        assert up.exit_code == 0, up.output
        res = r.invoke(main, ["-c", str(path), "notify-test", "--to", "office:liaison", "--channel", "email", "--json"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.output)["ok"] is True and sink.messages[0].rcpt_tos == ["office.liaison@shitai.example"]
        res = r.invoke(main, ["-c", str(path), "notify-test", "--to", "office:deputy", "--channel", "sms"])
        assert res.exit_code == 0, res.output
        assert gw.sent[0]["phone"] == "13800000002" and "测试" in gw.sent[0]["text"]
        res = r.invoke(main, ["-c", str(path), "outbox", "--json"])
        doc = json.loads(res.output)
        assert {x["channel"] for x in doc["recent"]} == {"sms", "email"} and doc["pending"] == [] == doc["failed"]
        gw.invalid_numbers.add("13800000003")
        res = r.invoke(main, ["-c", str(path), "notify-test", "--to", "office:principal", "--channel", "sms"])
        assert res.exit_code == 1 and "发送失败" in res.output


def test_notify_test_unknown_contact_is_a_clear_error(tmp_path):
    """An unknown --to names what is expected instead of a traceback."""
    with SmtpSink() as sink, GatewayStub() as gw:
        path = _config(tmp_path, sink.port, gw.url)
        res = CliRunner().invoke(main, ["-c", str(path), "notify-test", "--to", "nobody", "--channel", "sms"])
    assert res.exit_code == 2 and "unit:role" in res.output
