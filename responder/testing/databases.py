"""Migrated databases for tests: a SQLite file per test, a PostgreSQL database per session.

Both go through the real Alembic migrations. SQLite: migrate once into a
template file, then copy it per test (fast). PostgreSQL: create a fresh
database per session on the server at ``RESPONDER_TEST_PG_URL`` (default:
the local server, trust auth), migrate it once, and truncate between tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from responder import db

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GENESIS_HEAD = "0:" + "0" * 64


def pg_admin_url() -> str:
    return os.environ.get("RESPONDER_TEST_PG_URL", DEFAULT_PG_URL)


def sqlite_template(dir: Path) -> Path:
    path = dir / "template.db"
    if not path.exists():
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        engine.dispose()
    return path


def sqlite_copy(template: Path, dest_dir: Path) -> Engine:
    dest = dest_dir / "responder.db"
    shutil.copyfile(template, dest)
    return db.make_engine(f"sqlite:///{dest}")


def create_pg_database() -> tuple[str, str]:
    """Create a uniquely named database; return (its URL, its name). Raises if the server is unreachable."""
    admin = make_url(pg_admin_url())
    name = f"responder_test_{uuid.uuid4().hex[:10]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return admin.set(database=name).render_as_string(hide_password=False), name


def drop_pg_database(name: str) -> None:
    eng = create_engine(make_url(pg_admin_url()), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


def truncate_all(engine: Engine) -> None:
    """Empty every table (keeping the schema) and reset the audit chain head."""
    from responder.models import metadata

    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in reversed(metadata.sorted_tables):
                conn.execute(text(f'DELETE FROM "{t.name}"'))
        conn.execute(text("INSERT INTO meta (key, value, updated_at) VALUES ('audit_head', :v, '1970-01-01 00:00:00')"),
                     {"v": GENESIS_HEAD})
