"""Commands load only what they use: read-only commands never build the classifier.

Building the classifier loads jieba's dictionary (seconds); `status` and `show`
are what an operator types when something is on fire, so they must not pay for
it. Each command runs in a fresh interpreter, as an operator runs it, and the
test looks at what that interpreter imported.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from responder import db
from responder.testing.engine import add_item, make_test_settings

PROBE = """
import json, sys
from responder.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.modules if m == "jieba" or m.startswith("responder.classify")
               or m.startswith("apscheduler") or m == "responder.service.checks")
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def run_probe(*argv: str) -> dict:
    r = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120)
    return json.loads(r.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """A configuration and a migrated database holding one open case."""
    from responder import engine as eng

    tmp = tmp_path_factory.mktemp("startup")
    s = make_test_settings(tmp)
    e = db.make_engine(s.database_url)
    db.upgrade(e)
    t = dt.datetime(2022, 7, 18, 2, 0, tzinfo=dt.timezone.utc)
    add_item(e, title="石台县丁香镇一化工厂发生爆炸 已致12人死亡", text="已造成12人死亡。", published_at=t, first_seen_at=t)
    assert eng.open_cases(e, s, t).cases_opened == [1]
    e.dispose()
    return s.path


@pytest.mark.parametrize("argv", [["--version"], ["status", "--json"], ["show", "1"], ["show", "1", "--json"]])
def test_read_only_commands_do_not_build_the_classifier(populated, argv):
    """`--version`, `status --json` and `show` answer without importing the classifier, jieba or the checks."""
    out = run_probe("-c", str(populated), *argv) if argv != ["--version"] else run_probe("--version")
    assert out["code"] in (0, None)
    assert out["heavy"] == []


def test_check_config_still_builds_the_classifier(populated):
    """`check-config` runs every check, the classifier's included (so a bad routing file is refused there)."""
    out = run_probe("-c", str(populated), "check-config")
    assert out["code"] in (0, None)
    assert "jieba" in out["heavy"] and "responder.service.checks" in out["heavy"]
