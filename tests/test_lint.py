"""The code has no unused imports, undefined names or syntax errors (pyflakes rules, via ruff)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pyflakes_clean():
    """`ruff check --select F,E9` finds nothing in the package, the tests, the benchmarks and dev.py."""
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "F,E9", "--output-format", "concise",
                        "responder", "tests", "bench", "dev.py"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
