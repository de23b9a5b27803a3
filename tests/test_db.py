"""Schema migrations: from nothing and from the previous revision, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlmodel import Session

from responder import db
from responder.models import Meta
from responder.testing import databases

UTC = dt.timezone.utc


def _revisions():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request, tmp_path):
    """An empty database with no schema at all."""
    if request.param == "sqlite":
        e = db.make_engine(f"sqlite:///{tmp_path}/fresh.db")
        yield e
        e.dispose()
    else:
        import os

        if os.environ.get("RESPONDER_SKIP_PG") == "1":
            pytest.skip("PostgreSQL skipped explicitly (RESPONDER_SKIP_PG=1)")
        url, name = databases.create_pg_database()
        e = db.make_engine(url)
        yield e
        e.dispose()
        databases.drop_pg_database(name)


def test_upgrade_creates_the_schema_from_nothing_and_matches_the_models(empty_engine):
    """`db upgrade` on an empty database reaches head and the schema equals the models."""
    assert db.current_revision(empty_engine) is None
    db.upgrade(empty_engine)
    assert db.current_revision(empty_engine) == db.head_revision()
    assert db.schema_drift(empty_engine) == []


def test_upgrade_from_the_previous_revision_keeps_data(empty_engine):
    """A database at the previous revision, with data, upgrades in place without losing it."""
    revs = _revisions()
    assert len(revs) >= 2
    db.upgrade(empty_engine, revs[-2])
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO source (name, kind, role, url, consecutive_failures, items_total) "
                          "VALUES ('portal', 'rss', 'release', 'https://x', 0, 0)"))
    db.upgrade(empty_engine)
    assert db.current_revision(empty_engine) == db.head_revision()
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT url FROM source WHERE name = 'portal'")).scalar_one() == "https://x"


def test_timestamps_round_trip_as_aware_utc(engine):
    """A Beijing-time value is stored as UTC and comes back aware UTC on both databases."""
    from responder.timeutil import BEIJING

    bj = dt.datetime(2022, 7, 15, 14, 0, tzinfo=BEIJING)
    with Session(engine) as s:
        s.add(Meta(key="t", value="", updated_at=bj))
        s.commit()
    with Session(engine) as s:
        got = s.get(Meta, "t").updated_at
    assert got.tzinfo is not None and got.utcoffset() == dt.timedelta(0) and got == bj
    assert got.hour == 6


def test_naive_datetimes_are_refused(sqlite_engine):
    """A naive datetime is a bug (whose zone?) and is refused on the way in."""
    from sqlalchemy.exc import StatementError

    with Session(sqlite_engine) as s:
        s.add(Meta(key="n", value="", updated_at=dt.datetime(2022, 7, 15, 14, 0)))
        with pytest.raises(StatementError, match="naive datetime"):
            s.commit()


def test_sqlite_runs_in_wal_mode(sqlite_engine):
    """The embedded database uses WAL so readers never block the writer."""
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_db_upgrade_cli_creates_the_schema(tmp_path):
    """`responder db upgrade` on a fresh state directory creates the database at head."""
    from click.testing import CliRunner

    from responder.cli import main
    from responder.testing.engine import make_test_settings

    s = make_test_settings(tmp_path)
    r = CliRunner().invoke(main, ["db", "upgrade", "-c", str(s.path)])
    assert r.exit_code == 0, r.output
    assert db.head_revision() in r.output
    r = CliRunner().invoke(main, ["db", "current", "--json", "-c", str(s.path)])
    assert '"up_to_date": true' in r.output
