"""Shared fixtures: real databases (SQLite per test; PostgreSQL per session), frozen time.

PostgreSQL is required: the suite runs the store contract on both databases. If
the server is unreachable the PostgreSQL tests ERROR (never silently skip);
set RESPONDER_SKIP_PG=1 to skip them explicitly (the skip is then reported).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from responder.testing import corpus, databases

REPO = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc


def pytest_report_header(config: pytest.Config) -> str:
    """Say once, at the top, whether the corpus tests run (they need the corpus outside the repository)."""
    why = corpus.problem()
    if why is None:
        return f"corpus: {corpus.configured()} (RESPONDER_CORPUS)"
    return f"!! corpus tests {'will FAIL' if corpus.must_run() else 'are SKIPPED'}: {why}"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Repeat it at the end, where a reader of a passing run looks."""
    why = corpus.problem()
    if why is not None:
        outcome = "FAILED" if corpus.must_run() else "were SKIPPED"
        terminalreporter.write_line(f"!! corpus tests {outcome}: {why}", yellow=True, bold=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.sqlite_template(tmp_path_factory.mktemp("dbtemplate"))


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path):
    """A migrated SQLite database file of this test's own."""
    engine = databases.sqlite_copy(sqlite_template, tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_database():
    if os.environ.get("RESPONDER_SKIP_PG") == "1":
        pytest.skip("PostgreSQL tests skipped explicitly (RESPONDER_SKIP_PG=1)")
    from responder import db

    url, name = databases.create_pg_database()
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    databases.drop_pg_database(name)


@pytest.fixture
def pg_engine(pg_database: str):
    """The session's migrated PostgreSQL database, emptied for this test."""
    from responder import db

    engine = db.make_engine(pg_database)
    databases.truncate_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest):
    """The same test on SQLite and on PostgreSQL (the store contract holds on both)."""
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")


@pytest.fixture
def now() -> dt.datetime:
    """A fixed instant for core functions that take ``now``: 2022-07-15 10:00 Beijing."""
    return dt.datetime(2022, 7, 15, 2, 0, tzinfo=UTC)


@pytest.fixture
def utc_machine(monkeypatch):
    """The machine's own zone is UTC (as on most servers): the scheduled jobs must find their Beijing slot anyway."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def settings(tmp_path: Path):
    """The shipped test configuration in this test's directory (a test file may define its own instead)."""
    from responder.testing.engine import make_test_settings

    return make_test_settings(tmp_path)


@pytest.fixture
def settings_engine(settings):
    """The test settings and a migrated database at their ``database_url`` (the jobs' tests restart on it)."""
    from responder import db

    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    yield settings, engine
    engine.dispose()
