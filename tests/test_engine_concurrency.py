"""Two workers on one PostgreSQL database never take the same step (conditional-UPDATE claims)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlmodel import Session, select

from responder import engine as eng
from responder.classify import Decision
from responder.db import make_engine, transaction
from responder.engine import create_case, policies_for
from responder.models import ClockStep, OutboxMessage
from responder.testing.engine import make_test_settings

UTC = dt.timezone.utc
T0 = dt.datetime(2022, 7, 18, 2, 0, tzinfo=UTC)
ORDINARY = Decision(level=None, level_name=None, category=None, domain="义务教育", department="县教体局",
                    co_departments=(), clock="48h", needs_review=False, reasons=("test",), facts={})


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_workers_never_take_the_same_step(backend, request, tmp_path):
    """Four threads advancing the same 60 due clocks take each step exactly once."""
    e = request.getfixturevalue("sqlite_engine" if backend == "sqlite" else "pg_engine")
    settings = make_test_settings(tmp_path)
    policies = policies_for(settings)
    with transaction(e) as s:
        for i in range(60):
            create_case(s, settings, policies, title=f"case {i}", decision=ORDINARY, start=T0, basis="first_report", now=T0)
    url = e.url.render_as_string(hide_password=False)
    results, errors = [], []

    def worker(n: int) -> None:
        own = make_engine(url)
        try:
            results.append(eng.advance(own, settings, T0 + dt.timedelta(hours=40), owner=f"w{n}"))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with Session(e) as s:
        steps = s.exec(select(ClockStep.clock_id, ClockStep.step_key)).all()
        keys = s.exec(select(OutboxMessage.idem_key)).all()
    assert len(steps) == len(set(steps)) == 120  # opened + the 40%-left reminder, once each
    assert sum(r.steps for r in results) == 120
    assert len(keys) == len(set(keys)) == 60 * (2 + 4)  # opened: liaison; reminder: liaison + deputy; SMS and e-mail each
