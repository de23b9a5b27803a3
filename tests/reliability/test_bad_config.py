"""Every kind of broken configuration is refused by `check-config`, naming the key; what it accepts starts and reloads.

The promise (issue 13, item 5): an operator who runs `responder check-config`
before `systemctl reload` or a restart never meets a configuration that then
fails at start (a crash loop under systemd) or on reload. So each broken
configuration below must be refused by `check-config` with exit 2 and a
problem line naming the file or key at fault, never a traceback; and, as a
property over generated configurations, whatever `check-config` accepts is
started by the service's own start path (``Service.run``) and reloaded by its
own reload path (``Service.reload``), both answering systemd with READY=1.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from responder import db
from responder.cli import main
from responder.config import ConfigError, shipped_config_dir
from responder.service.checks import load_checked
from responder.service.runtime import Service
from responder.service.sdnotify import Notifier

pytestmark = pytest.mark.reliability

SHIPPED = shipped_config_dir()
TEMPLATES = SHIPPED.parent / "templates"


def make_config(root: Path) -> Path:
    """A copy of the shipped configuration and templates under ``root``, state kept there too."""
    d = root / "config"
    shutil.copytree(SHIPPED, d)
    shutil.copytree(TEMPLATES, root / "templates")
    path = d / "responder.toml"
    text = path.read_text(encoding="utf-8").replace('state_dir = "../var"', f'state_dir = "{root / "state"}"')
    path.write_text(text, encoding="utf-8")
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")


HTTP_SMS = 'provider = "http"\nendpoint = "http://127.0.0.1:9/sms"'


def http_gateway(cfg: Path, extra: str = "") -> None:
    edit(cfg, 'provider = "none"', HTTP_SMS + ("\n" + extra if extra else ""))


def database(cfg: Path, url: str, extra: str = "") -> None:
    edit(cfg, 'url = "sqlite:///responder.db"', f'url = "{url}"' + ("\n" + extra if extra else ""))


def a_file(cfg: Path) -> Path:
    f = cfg.parent.parent / "plain-file"
    f.write_text("not a directory", encoding="utf-8")
    return f


# (id, breaks the configuration at `cfg`, a substring the refusal must contain: the key or file at fault)
BROKEN: list[tuple[str, Callable[[Path], None], str]] = [
    # the TOML file itself
    ("not-toml", lambda c: append(c, "= broken"), "not valid TOML"),
    ("missing-file", lambda c: c.unlink(), "configuration file not found"),
    # unknown keys
    ("unknown-key", lambda c: edit(c, "port = 8025", "prot = 8025"), "notify.email.prot"),
    ("unknown-section", lambda c: append(c, "[servce]\ncounty = \"x\""), "servce"),
    ("unknown-source-key", lambda c: edit(c, "interval = 300", "intervall = 300"), "source[0] (sample-opinion).intervall"),
    # wrong types and values
    ("wrong-type", lambda c: edit(c, "sms_per_window = 5", 'sms_per_window = "five"'), "notify.limits.sms_per_window"),
    ("out-of-range-port", lambda c: edit(c, "port = 8025", "port = 70000"), "notify.email.port"),
    ("bad-literal", lambda c: edit(c, 'security = "plain"', 'security = "tls"'), "notify.email.security"),
    ("bad-channel", lambda c: edit(c, 'channels = ["sms", "email"]', 'channels = ["sms", "pager"]'), "notify.channels"),
    ("bad-source-kind", lambda c: edit(c, 'kind = "file"', 'kind = "ftp"'), "source[0] (sample-opinion).kind"),
    ("duplicate-source", lambda c: edit(c, 'name = "sample-incident"', 'name = "sample-opinion"'), "source"),
    ("bad-tick", lambda c: edit(c, "safety_tick_seconds = 60", "safety_tick_seconds = 1"), "schedule.safety_tick_seconds"),
    # bad URLs
    ("garbage-database-url", lambda c: database(c, "not a url at all"), "database.url"),
    ("mysql-database-url", lambda c: database(c, "mysql://responder@127.0.0.1/responder"), "database.url"),
    ("asyncpg-database-url", lambda c: database(c, "postgresql+asyncpg://u@127.0.0.1/r"), "database.url"),
    ("gateway-without-endpoint", lambda c: edit(c, 'provider = "none"', 'provider = "http"'), "notify.sms.endpoint"),
    # bad templates
    ("gateway-field-syntax", lambda c: http_gateway(c, '[notify.sms.fields]\nmobile = "{{ phone "'), "notify.sms.fields.mobile"),
    ("gateway-field-filter", lambda c: http_gateway(c, '[notify.sms.fields]\nmobile = "{{ phone | nosuch }}"'),
     "notify.sms.fields.mobile"),
    ("gateway-header-undefined", lambda c: http_gateway(c, '[notify.sms.headers]\nX-Auth = "{{ secret_token }}"'),
     "notify.sms.headers.X-Auth"),
    ("email-template-syntax", lambda c: (c.parent.parent / "templates/email/overdue.txt").write_text("{% if %}", encoding="utf-8"),
     "overdue"),
    ("sms-template-undefined", lambda c: (c.parent.parent / "templates/sms/reminder.txt").write_text("{{ nope.deeper }}",
                                                                                                       encoding="utf-8"),
     "reminder"),
    ("template-provider-without-codes",
     lambda c: edit(c, 'provider = "none"', 'provider = "aliyun"\nsign_name = "石台县政务公开"\n'
                                            'access_key_id_secret = "ak"\naccess_key_secret_secret = "sk"'),
     "notify.sms.templates"),
    ("quiet-hours", lambda c: edit(c, 'quiet_hours = "22:00-07:30"', 'quiet_hours = "late"'), "notify.quiet_hours"),
    # missing secrets
    ("missing-email-secret", lambda c: edit(c, '# password_secret = "smtp_password"', 'password_secret = "smtp_password_unset"'),
     "notify.email.password_secret"),
    ("missing-robot-secret", lambda c: (edit(c, 'channels = ["sms", "email"]', 'channels = ["sms", "email", "robot"]'),
                                        append(c, '[notify.robot]\nkind = "wecom"')), "notify.robot.webhook_secret"),
    ("missing-database-secret", lambda c: database(c, "postgresql://u@127.0.0.1/r", 'password_secret = "pg_unset"'),
     "database.password_secret"),
    # bad data files: plan, policy, routing, thresholds, units, domains
    ("policy-undefined-ladder", lambda c: edit(c.parent / "policies.toml", 'ladder = "ordinary"', 'ladder = "gentle"'),
     "policies.toml"),
    ("plan-bad-date", lambda c: edit(c.parent / "plan.toml", "end = 2022-07-20", 'end = "the twentieth"'), "data.plan"),
    ("plan-bad-time", lambda c: edit(c.parent / "plan.toml", 'time = "09:00"', 'time = "25:99"'), "data.plan"),
    ("plan-unknown-unit", lambda c: edit(c.parent / "plan.toml", '"fgw", "ggzy"', '"fgw", "nosuchunit", "ggzy"'), "data.plan"),
    ("routing-not-toml", lambda c: append(c.parent / "routing.toml", "[[[["), "routing"),
    ("thresholds-not-toml", lambda c: append(c.parent / "thresholds.toml", "= ="), "thresholds"),
    ("units-missing", lambda c: edit(c, 'units = "units.toml"', 'units = "no-such-units.toml"'), "data.units"),
    ("domains-not-toml", lambda c: append(c.parent / "domains.toml", "[[["), "data.domains"),
    ("office-unit-unknown", lambda c: edit(c, 'office_unit = "office"', 'office_unit = "nowhere"'), "service.office_unit"),
    ("report-recipient-unknown", lambda c: edit(c, '"office:principal", "office:deputy"]', '"office:janitor"]'),
     "report.recipients"),
    # bad times (the weekly slot is Beijing time)
    ("weekly-slot", lambda c: edit(c, 'weekly_report = "mon 08:30"', 'weekly_report = "monday 8.30"'), "schedule.weekly_report"),
    ("weekly-slot-hour", lambda c: edit(c, 'weekly_report = "mon 08:30"', 'weekly_report = "mon 24:30"'), "schedule.weekly_report"),
    # unwritable paths
    ("state-dir-under-a-file", lambda c: edit(c, f'state_dir = "{c.parent.parent / "state"}"',
                                              f'state_dir = "{a_file(c) / "state"}"'), "service.state_dir"),
    ("archive-dir-under-a-file", lambda c: edit(c, 'archive_dir = "archive"', f'archive_dir = "{a_file(c) / "archive"}"'),
     "service.archive_dir"),
    ("sqlite-under-a-file", lambda c: database(c, f"sqlite:///{a_file(c)}/responder.db"), "database.url"),
]


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return make_config(tmp_path)


def test_the_unbroken_copy_passes(cfg):
    """The copy every case starts from passes check-config (so each refusal below is the breakage's)."""
    r = CliRunner().invoke(main, ["check-config", "--json", "-c", str(cfg)])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(("name", "breaks", "key"), BROKEN, ids=[b[0] for b in BROKEN])
def test_check_config_refuses_naming_the_key(cfg, monkeypatch, name, breaks, key):
    """check-config exits 2 with one problem line naming the key or file at fault, and no traceback."""
    for var in ("RESPONDER_SMTP_PASSWORD_UNSET", "RESPONDER_PG_UNSET", "CREDENTIALS_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RESPONDER_AK", "x")
    monkeypatch.setenv("RESPONDER_SK", "y")
    breaks(cfg)
    r = CliRunner().invoke(main, ["check-config", "--json", "-c", str(cfg)])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert r.exit_code == 2, r.output
    out = json.loads(r.output)
    assert out["ok"] is False
    assert any(key in p for p in out["problems"]), out["problems"]


# ---------------------------------------------------------------- the property: accepted ⇒ starts and reloads

VALUES = {
    # key line in responder.toml → candidate replacements, valid and not
    'quiet_hours = "22:00-07:30"': ['quiet_hours = "23:00-06:00"', 'quiet_hours = "22:00"', "quiet_hours = 5"],
    'weekly_report = "mon 08:30"': ['weekly_report = "fri 17:00"', 'weekly_report = "sun 23:59"', 'weekly_report = "xyz"'],
    "sms_per_window = 5": ["sms_per_window = 1", "sms_per_window = 0", "sms_per_window = 50"],
    'provider = "none"': [HTTP_SMS, HTTP_SMS + '\n[notify.sms.fields]\nmobile = "{{ phone }}"\nmsg = "{{ text[:60] }}"',
                          HTTP_SMS + '\n[notify.sms.fields]\nmobile = "{{ phone"', HTTP_SMS + '\nmethod = "GET"\nbody = "form"',
                          'provider = "http"', HTTP_SMS + '\n[notify.sms.headers]\nX-Key = "{{ key | md5 }}"'],
    'channels = ["sms", "email"]': ['channels = ["email"]', 'channels = ["sms", "email", "robot"]', "channels = []"],
    "interval = 300": ["interval = 60", "interval = 0", 'interval = "often"'],
    'log_level = "info"': ['log_level = "debug"', 'log_level = "chatty"'],
}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> str:
    """One migrated SQLite database every generated configuration points at."""
    path = tmp_path_factory.mktemp("prop-db") / "responder.db"
    e = db.make_engine(f"sqlite:///{path}")
    db.upgrade(e)
    e.dispose()
    return f"sqlite:///{path}"


async def next_datagram(sock: socket.socket, want: str, timeout: float = 60) -> list[str]:
    """Datagrams received until one starts with ``want`` (all of them, in order)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout  # STATUS= datagrams keep coming: bound the whole wait, not each datagram
    got: list[str] = []
    while True:
        got.append((await asyncio.wait_for(loop.sock_recv(sock, 65536), max(0.0, deadline - loop.time()))).decode())
        if got[-1].startswith(want):
            return got


async def start_and_reload(cfg: Path, notify_path: Path) -> tuple[list[str], list[str]]:
    """Start the service exactly as `responder run` does after its checks, reload it once, stop it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    sock.setblocking(False)
    try:
        settings = load_checked(cfg, require_secrets=True)
        engine = db.make_engine(settings.database_url)
        svc = Service(cfg, settings, engine, Notifier(environ={"NOTIFY_SOCKET": str(notify_path)}))
        task = asyncio.create_task(svc.run())
        try:
            started = await next_datagram(sock, "READY=1")
            await svc.reload()
            reloaded = await next_datagram(sock, "READY=1")
        finally:
            svc.request_stop()
            assert await asyncio.wait_for(task, 60) == 0
            engine.dispose()
    finally:
        sock.close()
    return started, reloaded


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choice=st.dictionaries(st.sampled_from(sorted(VALUES)), st.integers(min_value=0, max_value=10), max_size=3))
@example(choice={'provider = "none"': 2})  # `{{ phone`: accepted before issue 13's fix, then a crash at every start
@example(choice={'provider = "none"': 1, 'channels = ["sms", "email"]': 1})
def test_whatever_check_config_accepts_starts_and_reloads(tmp_path_factory, migrated, choice):
    """A generated configuration is either refused by check-config, or started and reloaded by the service
    (READY=1 after start, RELOADING=1 then READY=1 after reload, the reload taken, not rejected)."""
    root = tmp_path_factory.mktemp("prop")
    cfg = make_config(root)
    database(cfg, migrated)
    for line, pick in choice.items():
        edit(cfg, line, VALUES[line][pick % len(VALUES[line])])
    r = CliRunner().invoke(main, ["check-config", "--json", "-c", str(cfg)])
    assert r.exit_code in (0, 2) and (r.exception is None or isinstance(r.exception, SystemExit)), r.output
    if r.exit_code == 2:
        with pytest.raises(ConfigError):
            load_checked(cfg, require_secrets=True)
        return
    started, reloaded = asyncio.run(start_and_reload(cfg, root / "notify.sock"))
    assert started[-1].startswith("READY=1")
    assert reloaded[0].startswith("RELOADING=1") and reloaded[-1].startswith("READY=1")
    assert "重载失败" not in reloaded[-1]
