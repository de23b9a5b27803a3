"""Run ``responder`` as a plain install (no test extras) would, inside the test environment.

The test venv has the test extras installed, so a command that needs one of them would
pass here and die for a user who installed only the package (issue 12: the demo's SMTP
sink imported a test-only dependency). This runner refuses to import the modules that only
the test extras bring, as pyproject.toml declares them, and then runs the CLI.

Usage: python tests/base_install.py ARGS...   (the arguments of ``responder``)
"""

from __future__ import annotations

import importlib.abc
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path


def _dist(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_only_modules() -> set[str]:
    """Top-level modules provided only by distributions in the ``test`` extra and not in the dependencies."""
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_dist(r) for r in project["dependencies"]}
    test_only = {_dist(r) for r in project["optional-dependencies"]["test"]} - runtime
    return {module for module, dists in importlib.metadata.packages_distributions().items()
            if all(_dist(d) in test_only for d in dists)}


class _Refuse(importlib.abc.MetaPathFinder):
    def __init__(self, blocked: set[str]):
        self.blocked = blocked

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (only the test extras install it)", name=name)
        return None


def main() -> None:
    sys.meta_path.insert(0, _Refuse(test_only_modules()))
    from responder.cli import main as cli

    sys.argv = ["responder", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()
