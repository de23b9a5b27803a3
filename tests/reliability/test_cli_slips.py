"""Operator slips on the command line: every command answers one clear error line and a non-zero exit code,
never a traceback (issue 13, item 8)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from responder import db
from responder.cli import main
from responder.testing.engine import make_test_settings

pytestmark = pytest.mark.reliability

HUGE = str(2**70)
BIG = str(2**63)
UNWRITABLE = "/proc/responder-cannot-write-here"  # refused even to root
URL = "https://www.shitai.gov.cn/qwfb/1"

SLIPS = [
    ["show", HUGE], ["show", BIG], ["show", "0"],
    ["release", HUGE, "--url", URL], ["release", "1", "--url", URL, "--at", "0001-01-01"],
    ["release", "1", "--url", URL, "--at", "9999-12-31 23:59"], ["release", "1", "--url", URL, "--at", "2022-02-30"],
    ["ack", HUGE], ["reclassify", BIG, "I", "--reason", "x"], ["close", HUGE, "--reason", "x"],
    ["close", "1", "--reason", "x", "--kind", "duplicate", "--duplicate-of", HUGE],
    ["confirm-release", HUGE], ["reject-release", HUGE, "--reason", "x"],
    ["outbox", "--limit", HUGE], ["outbox", "--limit", "-1"], ["outbox", "--hours", HUGE], ["outbox", "--hours", "999999999"],
    ["status", "--as-of", "0001-01-01"], ["status", "--as-of", "9999-12-31T23:59:59"], ["status", "--as-of", "0001-01-01T00:00Z"],
    ["report", "weekly", "--week", "9999-W52"], ["report", "weekly", "--week", "0001-W01"],
    ["report", "weekly", "--week", "2022-W99"], ["report", "weekly", "--week", "2022-W30", "--out", UNWRITABLE],
    ["report", "weekly", "--week", "2022-W30", "--out", "/dev/null/x"],
    ["replay", ".", "--from", "0001-01-01", "--to", "0001-01-02"],
    ["replay", ".", "--from", "9999-12-31", "--to", "9999-12-31 23:00"],
    ["demo", "--speed", "nan"], ["demo", "--speed", "-1"], ["demo", "--state-dir", UNWRITABLE],
    ["ingest", "--dry-run", "http://[::1"], ["ingest", "--dry-run", "--mapping", '{"items": 5}', "x.json"],
    ["ingest", "--dry-run", "--mapping", "[1]", "x.json"], ["ingest", "no-such-source"],
    ["db", "upgrade", "--revision", "zzzz"], ["db", "upgrade", "--revision", "-1"],
    ["notify-test", "--to", "\x00", "--channel", "sms"], ["plan", "status", "--unit", "\x00"],
]


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli-slips")
    s = make_test_settings(tmp)
    db.upgrade(db.make_engine(s.database_url))
    return str(s.path)


@pytest.mark.parametrize("args", SLIPS, ids=[" ".join(a)[:60] for a in SLIPS])
def test_a_slip_gets_one_clear_line_and_a_non_zero_exit(config, args) -> None:
    """No traceback, a non-zero exit, and a specific message (never the last-resort "内部错误" handler)."""
    r = CliRunner().invoke(main, [*args, "-c", config])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code not in (0, 70), (r.exit_code, r.output)
    both = r.output + (r.stderr if r.stderr_bytes is not None else "")
    assert "Traceback" not in both and "内部错误" not in both, both
    last = [ln for ln in r.stderr.splitlines() if ln.strip()] or [ln for ln in r.output.splitlines() if ln.strip()]
    assert last, "no message at all"
    assert last[-1].startswith(("错误 / error:", "Error:", "结果：", "{")), last[-1]
    if last[-1].startswith("{"):
        assert '"status": "rejected"' in last[-1] and '"reason"' in last[-1]


def test_the_last_resort_handler_turns_a_bug_into_one_line(config, monkeypatch) -> None:
    """A command that raises an unexpected exception still ends in one line and exit 70, not a traceback;
    RESPONDER_DEBUG=1 lets the traceback through for a developer."""
    from responder.service import status

    def boom(*_a, **_k):
        raise RuntimeError("simulated bug \ud83d")

    monkeypatch.setattr(status, "collect", boom)
    r = CliRunner().invoke(main, ["status", "-c", config])
    assert r.exit_code == 70 and "Traceback" not in r.output
    assert "内部错误（RuntimeError: simulated bug" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    monkeypatch.setenv("RESPONDER_DEBUG", "1")
    r = CliRunner().invoke(main, ["status", "-c", config])
    assert isinstance(r.exception, RuntimeError)
