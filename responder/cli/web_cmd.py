"""``responder web`` (the operator console as its own process) and ``responder user`` (its accounts)."""

from __future__ import annotations

import os

import click

from responder.cli.common import echo_json, fail, load_settings, open_engine


@click.command("web")
@click.option("--listen", default=None, metavar="HOST:PORT",
              help="Address to serve on (default: [web] listen, else 127.0.0.1:8080).")
@click.pass_context
def web(ctx: click.Context, listen: str | None) -> None:
    """Serve the operator console (pages and forms over the same database as `run`)."""
    from responder.web.app import create_app
    from responder.web.server import DEFAULT_LISTEN, parse_listen, serve_forever

    from responder import logs

    settings = load_settings(ctx)
    logs.configure(settings.file.service.log_level, settings.file.service.log_format, secrets=list(settings.secrets.values()))
    engine = open_engine(settings)
    listen = listen or settings.file.web.listen or DEFAULT_LISTEN
    try:
        parse_listen(listen)
    except ValueError as exc:
        fail(str(exc))
    app = create_app(settings, engine)
    serve_forever(app, listen, on_ready=lambda url: click.echo(f"操作台已启动：{url}（Ctrl-C 停止）"))


@click.group("user")
def user() -> None:
    """Console accounts: add, passwd, disable, list."""


def _password(prompt: bool) -> str:
    """From $RESPONDER_NEW_PASSWORD (scripts), else asked twice without echo."""
    pw = os.environ.get("RESPONDER_NEW_PASSWORD")
    if pw:
        return pw
    return click.prompt("密码 / password", hide_input=True, confirmation_prompt=True)


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["operator", "liaison", "leader"]), required=True,
              help="operator: everything; liaison: own unit's cases; leader: read-only.")
@click.option("--unit", "unit_id", default=None, help="A liaison's unit (id or name from units.toml).")
@click.option("--display-name", default="", help="The person's name as recorded on every action (e.g. 王芳).")
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str, unit_id: str | None, display_name: str) -> None:
    """Create an account; the password is read from the terminal (or $RESPONDER_NEW_PASSWORD)."""
    from responder.timeutil import utcnow
    from responder.web.auth import AccountError, add_user

    settings = load_settings(ctx)
    engine = open_engine(settings)
    try:
        add_user(engine, settings, name=name, role=role, unit_id=unit_id, display_name=display_name,
                 password=_password(True), now=utcnow())
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"已添加用户 {name}（{role}）")


@user.command("passwd")
@click.argument("name")
@click.pass_context
def user_passwd(ctx: click.Context, name: str) -> None:
    """Set a new password (and re-enable the account); the person's open sessions end."""
    from responder.timeutil import utcnow
    from responder.web.auth import AccountError, set_password

    settings = load_settings(ctx)
    try:
        set_password(open_engine(settings), name, _password(True), now=utcnow())
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"已更新用户 {name} 的密码")


@user.command("disable")
@click.argument("name")
@click.pass_context
def user_disable(ctx: click.Context, name: str) -> None:
    """Disable an account at once (its sessions end); `passwd` enables it again."""
    from responder.timeutil import utcnow
    from responder.web.auth import AccountError, disable_user

    settings = load_settings(ctx)
    try:
        disable_user(open_engine(settings), name, now=utcnow())
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"已停用用户 {name}")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """Accounts with role, unit, state and last login (never the hash)."""
    from responder.timeutil import fmt_bj, iso_utc
    from responder.web.auth import list_users

    rows = list_users(open_engine(load_settings(ctx)))
    data = [{"name": u.name, "display_name": u.display_name, "role": u.role, "unit": u.unit_id, "disabled": u.disabled,
             "last_login_at": iso_utc(u.last_login_at)} for u in rows]
    if as_json:
        echo_json(data)
        return
    if not data:
        click.echo("还没有用户：responder user add NAME --role operator")
    for u, d in zip(rows, data):
        click.echo(f"{d['name']:<16} {d['display_name']:<8} {d['role']:<9} {d['unit'] or '—':<10} "
                   f"{'已停用' if d['disabled'] else '启用'}  最近登录 {fmt_bj(u.last_login_at)}")


COMMANDS = [web, user]
