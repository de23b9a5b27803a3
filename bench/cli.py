#!/usr/bin/env python3
"""Benchmark what an operator waits for: `responder --version`, `status --json` and `show`.

Each command runs as a fresh process (as an operator runs it) on a populated
database: the demo's state after its virtual week (13 items, 10 cases, ~700
messages), made once with `responder demo --speed 0` unless `--state-dir` names
one already made. Beside them, in the same run, the bare interpreter's start
(`python -c pass`) is the floor nothing can beat on this machine.

    python bench/cli.py [--runs 5] [--state-dir DIR]

Figures are the median wall time of ``--runs`` runs. Target (issue 15):
`status --json` under one second. Last line: one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--state-dir", default=None, help="A demo state directory to reuse (made here when absent).")
    args = ap.parse_args()
    py = sys.executable
    state = Path(args.state_dir) if args.state_dir else Path(tempfile.mkdtemp(prefix="responder-bench-cli-"))
    cfg = state / "responder.toml"
    if not cfg.exists():
        print(f"making a populated database: responder demo --state-dir {state} --speed 0", flush=True)
        subprocess.run([py, "-m", "responder", "demo", "--state-dir", str(state), "--speed", "0", "--json"], check=True,
                       stdout=subprocess.DEVNULL)
    rx = [py, "-m", "responder", "-c", str(cfg)]
    figures = {
        "python_pass_s": wall([py, "-c", "pass"], args.runs),
        "version_s": wall([py, "-m", "responder", "--version"], args.runs),
        "status_json_s": wall([*rx, "status", "--json", "--as-of", "2022-07-25 09:00"], args.runs),
        "show_s": wall([*rx, "show", "1"], args.runs),
        "show_json_s": wall([*rx, "show", "1", "--json"], args.runs),
    }
    figures = {k: round(v, 3) for k, v in figures.items()}
    figures["runs"] = args.runs
    figures["status_json_under_1s"] = figures["status_json_s"] < 1.0
    base = figures["python_pass_s"]
    for k in ("version_s", "status_json_s", "show_s", "show_json_s"):
        print(f"{k:<16} {figures[k]:6.3f} s   ({figures[k] - base:+.3f} s over the bare interpreter, {base:.3f} s)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
