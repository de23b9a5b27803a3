"""Shared CLI plumbing: where the configuration is, and how listings print.

Commands stay thin: they parse arguments, call the core or the store, and
print. Every listing command takes ``--json`` (one JSON document, or one JSON
object per line where the issue asks for JSON lines).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

DEFAULT_CONFIG_CANDIDATES = (
    Path("config/responder.toml"),
    Path("/etc/responder/responder.toml"),
)


def resolve_config_path(explicit: str | None) -> Path:
    """``-c`` wins, then ``$RESPONDER_CONFIG``, then ./config/responder.toml, then /etc/responder."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("RESPONDER_CONFIG")
    if env:
        return Path(env)
    for cand in DEFAULT_CONFIG_CANDIDATES:
        if cand.exists():
            return cand
    return DEFAULT_CONFIG_CANDIDATES[0]


def config_path(ctx: click.Context) -> Path:
    """The ``-c`` given after the subcommand, else before it, else the defaults."""
    explicit = ctx.meta.get("responder.config") or ctx.find_root().params.get("config")
    return resolve_config_path(explicit)


def data_paths(ctx: click.Context) -> dict[str, Path]:
    """Paths of the data files named by the configuration, without validating the rest.

    For commands (``classify``) that need only data files and must work even when
    secrets are not set up. Keys: domains, units, plan, thresholds, routing, policies.
    """
    from responder.config import read_data_paths

    return read_data_paths(config_path(ctx))


MAX_ID = 2**31 - 1
"""Row ids are INTEGER on PostgreSQL; a larger number cannot name a row and overflows the driver."""
ID = click.IntRange(1, MAX_ID)
LIMIT = click.IntRange(1, 100_000)
HOURS = click.IntRange(1, 24 * 366 * 10)


class CleanText(click.ParamType):
    """Free text typed by an operator, made storable: argv bytes that are not UTF-8 arrive as lone
    surrogates (surrogateescape) and would fail in the database and the mail; they become U+FFFD."""

    name = "TEXT"

    def convert(self, value, param, ctx):  # type: ignore[override]
        from responder.ingest.normalise import scrub_text

        return scrub_text(str(value))


TEXT = CleanText()


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, default=str))


def write_file(path: Path, content: bytes) -> None:
    """Write an output file, or exit with one clear line (unwritable --out, full disk)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as exc:
        fail(f"无法写入 {path}：{exc.strerror or exc}")


def fail(message: str, code: int = 2) -> None:
    """Print one clear error line to stderr and exit non-zero."""
    click.echo(f"错误 / error: {message}", err=True)
    sys.exit(code)


def load_settings(ctx: click.Context, *, require_secrets: bool = False):  # -> Settings
    """Load the configuration and the data every command needs, or exit with its problems listed.

    The deeper checks (templates, policies, plan, and the classifier that takes
    seconds to build) are ``check-config``'s and the service's, which run them
    before anything can act on a configuration (``responder.service.checks``).
    """
    from responder.config import ConfigError, load

    path = config_path(ctx)
    try:
        return load(path, require_secrets=require_secrets)
    except ConfigError as exc:
        for line in exc.problems:
            click.echo(f"错误 / error: {line}", err=True)
        sys.exit(2)


def open_engine(settings, *, upgrade: bool = False):  # -> Engine
    """An engine on the configured database; refuse (clearly) if the schema is not current."""
    from responder import db

    engine = db.make_engine(settings.database_url, password=settings.secret(settings.file.database.password_secret))
    if upgrade:
        db.upgrade(engine)
        return engine
    try:
        rev = db.current_revision(engine)
    except Exception as exc:  # unreachable server, bad URL
        fail(f"database {db_display(settings.database_url)}: {exc}")
    if rev != db.head_revision():
        fail(f"database schema is at {rev or 'nothing'}, expected {db.head_revision()}: run `responder db upgrade`")
    return engine


def db_display(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def display_width(text: str) -> int:
    """Terminal cells: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal cells (str.ljust counts code points, not cells)."""
    return text + " " * max(0, width - display_width(text))


def clip(text: str, width: int) -> str:
    out, w = "", 0
    for ch in text:
        cw = display_width(ch)
        if w + cw > width:
            return out + "…"
        out, w = out + ch, w + cw
    return out
