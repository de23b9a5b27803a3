"""The reliability suite: every promise of docs/reliability.md, proved by injecting the fault.

Everything in this folder carries the ``reliability`` marker, so the folder runs with the
normal suite and alone (``pytest -m reliability``). Scenarios wait on events (a request held
at a fake, a log record, a row's state), never on the machine's speed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.reliability)
