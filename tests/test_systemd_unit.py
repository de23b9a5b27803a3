"""The shipped systemd unit: it verifies, and its hardening rates OK or better."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parent.parent / "systemd" / "responder.service"
ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed on this machine")


def installed_copy(tmp_path: Path) -> Path:
    """The unit as installed, pointing at this checkout's responder executable."""
    exe = Path(sys.executable).parent / "responder"
    text = UNIT.read_text().replace("/opt/responder/venv/bin/responder", str(exe))
    p = tmp_path / "responder.service"
    p.write_text(text)
    return p


def test_unit_verifies(tmp_path):
    """`systemd-analyze verify` accepts the unit with no warning."""
    r = subprocess.run([ANALYZE, "verify", str(installed_copy(tmp_path))], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


def test_security_exposure_is_ok_or_better(tmp_path):
    """`systemd-analyze security` rates the hardening OK (below 2.0, as the README states)."""
    r = subprocess.run([ANALYZE, "security", "--offline=yes", str(installed_copy(tmp_path))], capture_output=True, text=True)
    m = re.search(r"Overall exposure level for responder\.service: (\d+\.\d+) (\w+)", r.stdout)
    assert m, r.stdout[-500:] + r.stderr
    assert float(m.group(1)) < 2.0 and m.group(2) in ("OK", "SAFE", "PERFECT")


def test_unit_names_notify_watchdog_and_no_restart_on_config_errors():
    """Type=notify with a watchdog, SIGHUP reload, and no crash loop on configuration errors."""
    text = UNIT.read_text()
    for line in ("Type=notify", "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID", "RestartPreventExitStatus=2 3 4",
                 "DynamicUser=yes", "StateDirectory=responder", "ProtectSystem=strict", "NoNewPrivileges=yes"):
        assert line in text, line
