"""The reliability suite: every promise of docs/reliability.md, proved by injecting the fault.

Everything in this folder carries the ``reliability`` marker, so the folder runs with the
normal suite and alone (``pytest -m reliability``). Scenarios wait on events (a request held
at a fake, a log record, a row's state), never on the machine's speed.
"""

from __future__ import annotations

from pathlib import Path

import asyncio
import shutil

import pytest

from responder import db
from responder.testing import busyday
from responder.testing.sms_gateway import GatewayStub
from responder.testing.smtp import SmtpSink

from .support import drain, summary

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="session")
def reference(tmp_path_factory, sqlite_template):
    """The busy day without a fault: the steps and messages every interrupted run must end up with."""
    tmp = tmp_path_factory.mktemp("reference")
    shutil.copyfile(sqlite_template, tmp / "ref.db")
    with SmtpSink() as sink, GatewayStub() as stub:
        cfg = busyday.write_config(tmp, database_url=f"sqlite:///{tmp / 'ref.db'}", smtp_port=sink.port, sms_url=stub.url)
        asyncio.run(busyday.resume(cfg, tmp / "progress"))
        drain(cfg)
    engine = db.make_engine(f"sqlite:///{tmp / 'ref.db'}")
    out = summary(engine)
    engine.dispose()
    assert out["steps"] and all(r.status in ("sent", "merged") for r in out["rows"])
    return out
