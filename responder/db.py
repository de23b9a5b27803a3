"""Database engine, transactions and schema migrations.

SQLite (WAL, one file under the state directory) is the embedded default;
PostgreSQL is selected by the URL. The same code path serves both: SQL that
differs between them lives here or behind SQLAlchemy, nowhere else.

The schema is created and upgraded only by Alembic (``responder db upgrade``);
tests use the same migrations, so what the tests see is what an installed
service gets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

SQLITE_BUSY_TIMEOUT_MS = 5000


def normalise_url(url: str, state_dir: Path | None = None) -> str:
    """Make a relative SQLite path relative to ``state_dir``; pick the psycopg 3 driver for PostgreSQL."""
    u = make_url(url)
    if u.drivername == "sqlite" and u.database and u.database != ":memory:":
        p = Path(u.database)
        if not p.is_absolute() and state_dir is not None:
            p = state_dir / p
        u = u.set(database=str(p))
    elif u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def make_engine(url: str, *, password: str | None = None, echo: bool = False) -> Engine:
    """Create an engine with the settings responder relies on.

    SQLite: WAL (readers never block the writer), ``synchronous=NORMAL`` (safe
    with WAL, ~3× faster commits — see perf-notes), a busy timeout instead of
    instant ``database is locked`` errors, foreign keys on, and explicit BEGIN
    so that pysqlite's implicit transaction handling cannot split our
    transactions.
    """
    u = make_url(url)
    if password is not None and u.password is None:
        u = u.set(password=password)
    if u.drivername.startswith("sqlite"):
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(u, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A write transaction takes the write lock up front: a deferred one that reads
            # first and writes later gets SQLITE_BUSY at once (no busy wait) when another
            # writer holds the lock. Read-only sessions stay deferred so they never block.
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(u, echo=echo, pool_pre_ping=True)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception.

    Everything a state change causes (audit event, outbox rows) is written in
    the same session, so it commits or vanishes together.
    """
    bind = engine.execution_options(sqlite_immediate=True) if is_sqlite(engine) else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine_or_url: Engine | str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if isinstance(engine_or_url, str):
        cfg.set_main_option("sqlalchemy.url", engine_or_url.replace("%", "%%"))
    else:
        cfg.attributes["engine"] = engine_or_url
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create the schema from nothing, or upgrade it in place, to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def schema_drift(engine: Engine) -> list[Any]:
    """Differences between the migrated database and the models (empty when in sync)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from responder.models import metadata

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        return compare_metadata(ctx, metadata)


def display_url(url: str) -> str:
    """The URL with its password hidden, for logs and status."""
    return make_url(url).render_as_string(hide_password=True)
