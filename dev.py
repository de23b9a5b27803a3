#!/usr/bin/env python3
"""Set up and run responder from a fresh checkout, with nothing but Python.

    python3 dev.py demo     # create .venv, install, run the whole service on embedded defaults
    python3 dev.py test     # create .venv, install with test extras, run the whole test suite

Options: --venv DIR (default .venv), and anything after ``--`` goes to the command
(``python3 dev.py test -- -k engine``). The interpreter running this script is
the one the virtual environment is made from.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def sh(*cmd: str, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def ensure_venv(path: Path, extras: str) -> Path:
    py = path / "bin" / "python"
    stamp = path / f".installed-{extras or 'base'}"
    if not py.exists():
        print(f"creating virtual environment {path} with {sys.executable}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(path)
    newest = max((ROOT / "pyproject.toml").stat().st_mtime, 0)
    if not stamp.exists() or stamp.stat().st_mtime < newest:
        target = f".[{extras}]" if extras else "."
        if sh(str(py), "-m", "pip", "install", "-q", "--upgrade", "pip") != 0:
            sys.exit("pip upgrade failed")
        if sh(str(py), "-m", "pip", "install", "-q", "-e", target) != 0:
            sys.exit("installing responder failed")
        stamp.touch()
    return py


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.5):
            return True
    except OSError:
        return False


def main(argv: list[str]) -> int:
    args, rest = (argv[: argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    venv_dir = ROOT / ".venv"
    if "--venv" in args:
        i = args.index("--venv")
        venv_dir = Path(args[i + 1]).resolve()
        del args[i: i + 2]
    if not args or args[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    if args[0] == "demo":
        py = ensure_venv(venv_dir, "")
        return sh(str(py), "-m", "responder", "demo", *rest)
    py = ensure_venv(venv_dir, "test")
    env = dict(os.environ)
    strict = env.get("RESPONDER_REQUIRE_ALL") == "1"
    if not reachable("127.0.0.1", 5432) and env.get("RESPONDER_SKIP_PG") != "1":
        if strict:
            sys.exit("PostgreSQL is not reachable on 127.0.0.1:5432 and RESPONDER_REQUIRE_ALL=1")
        print("!! PostgreSQL is not reachable on 127.0.0.1:5432: its tests will be SKIPPED (RESPONDER_SKIP_PG=1).", flush=True)
        env["RESPONDER_SKIP_PG"] = "1"
    if not (shutil.which("chromium") or shutil.which("chromium-browser")) and env.get("RESPONDER_SKIP_CHROMIUM") != "1":
        if strict:
            sys.exit("chromium is not installed and RESPONDER_REQUIRE_ALL=1 (apt-get install chromium)")
        print("!! chromium is not installed: the report rendering test will be SKIPPED (RESPONDER_SKIP_CHROMIUM=1).", flush=True)
        env["RESPONDER_SKIP_CHROMIUM"] = "1"
    return sh(str(py), "-m", "pytest", *rest, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
