"""``check-config`` and ``db upgrade|current``."""

from __future__ import annotations

import click

from responder.cli.common import config_path, db_display, echo_json, fail, load_settings


@click.command("check-config")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result.")
@click.pass_context
def check_config(ctx: click.Context, as_json: bool) -> None:
    """Validate the configuration, its data files and its secrets; exit 2 on any problem."""
    from responder.config import ConfigError
    from responder.service.checks import load_checked, run_warnings

    path = config_path(ctx)
    try:
        s = load_checked(path, require_secrets=True)
    except ConfigError as exc:
        if as_json:
            echo_json({"ok": False, "config": str(path), "problems": exc.problems})
        else:
            for line in exc.problems:
                click.echo(f"错误 / error: {line}", err=True)
            click.echo(f"配置有 {len(exc.problems)} 处问题，服务不会启动。", err=True)
        raise SystemExit(2)
    summary = {
        "ok": True, "config": str(path), "database": db_display(s.database_url), "state_dir": str(s.state_dir),
        "sources": len(s.file.source), "units": len(s.units), "domains": len(s.domains),
        "channels": list(s.file.notify.channels), "warnings": run_warnings(s),
    }
    if as_json:
        echo_json(summary)
        return
    click.echo(f"配置有效 / configuration OK: {path}")
    click.echo(f"  数据库 database: {summary['database']}")
    click.echo(f"  状态目录 state dir: {summary['state_dir']}")
    click.echo(f"  信息源 sources: {summary['sources']}  单位 units: {summary['units']}  公开领域 domains: {summary['domains']}")
    click.echo(f"  通知渠道 channels: {', '.join(summary['channels'])}")
    for line in summary["warnings"]:
        click.echo(f"警告 / warning: {line}", err=True)


@click.group("db")
def db_group() -> None:
    """Database schema: create or upgrade in place (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Create the schema from nothing, or upgrade an installed database in place."""
    from responder import db

    s = load_settings(ctx)
    engine = db.make_engine(s.database_url, password=s.secret(s.file.database.password_secret))
    before = db.current_revision(engine)
    from alembic.util import CommandError

    try:
        db.upgrade(engine, revision)
    except CommandError as exc:
        fail(f"--revision {revision!r}: {exc}")
    after = db.current_revision(engine)
    click.echo(f"数据库 {db_display(s.database_url)}: {before or '（空）'} → {after}")


@db_group.command("current")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def db_current(ctx: click.Context, as_json: bool) -> None:
    """Show the schema revision of the database and of this version of responder."""
    from responder import db

    s = load_settings(ctx)
    engine = db.make_engine(s.database_url, password=s.secret(s.file.database.password_secret))
    cur, head = db.current_revision(engine), db.head_revision()
    if as_json:
        echo_json({"current": cur, "head": head, "up_to_date": cur == head})
    else:
        click.echo(f"current: {cur or '（空）'}  head: {head}" + ("" if cur == head else "  → run `responder db upgrade`"))


COMMANDS = [check_config, db_group]
