"""The ``responder`` command line.

Commands live in ``responder/cli/*_cmd.py``, one module per capability, each
exposing ``COMMANDS`` (or top-level click commands). The group below only
wires them together, so capabilities plug in without touching this file.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from responder import __version__

COMMAND_MODULES = (
    "db_cmd", "status_cmd", "classify_cmd", "ingest_cmd", "case_cmd", "notify_cmd",
    "plan_cmd", "report_cmd", "run_cmd", "web_cmd", "request_cmd",
)

HELP = """responder：县政务公开办舆情回应时限守护服务 / keeps the county's public-opinion response promises.

\b
特别重大、重大突发事件舆情：5小时内发布权威信息（24小时内召开新闻发布会）；
其他舆情：48小时内予以回应。（石政公办〔2022〕1号 附件1 第23项）

\b
Configuration: -c PATH, else $RESPONDER_CONFIG, else ./config/responder.toml,
else /etc/responder/responder.toml. Listing commands accept --json.
"""


class _Main(click.Group):
    """The last line of defence: an operator's slip never ends in a traceback (issue 13).

    Commands validate their arguments and answer specific errors themselves; this
    catches what they missed, prints one line naming the error, and exits 70
    (EX_SOFTWARE) so scripts and systemd see a failure. ``RESPONDER_DEBUG=1``
    lets the traceback through for a developer.
    """

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("RESPONDER_DEBUG"):
                raise
            detail = " ".join(str(exc).split())[:300]
            line = f"错误 / error: 内部错误（{type(exc).__name__}: {detail}）；设置 RESPONDER_DEBUG=1 可查看调用栈"
            click.echo(line.encode("utf-8", "replace").decode("utf-8"), err=True)
            ctx.exit(70)


@click.group(cls=_Main, help=HELP, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-c", "--config", "config", metavar="PATH", help="Configuration file (responder.toml).")
@click.version_option(__version__, prog_name="responder")
def main(config: str | None) -> None:
    pass


def _register() -> None:
    for name in COMMAND_MODULES:
        modname = f"responder.cli.{name}"
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name == modname:
                continue  # capability not built yet
            raise
        cmds = getattr(mod, "COMMANDS", None)
        if cmds is None:
            cmds = [v for v in vars(mod).values() if isinstance(v, click.Command) and v.callback is not None
                    and getattr(v.callback, "__module__", None) == modname]
        for cmd in cmds:
            _add_config_option(cmd)
            main.add_command(cmd)


def _remember_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta["responder.config"] = value


def _add_config_option(cmd: click.Command) -> None:
    """Accept ``-c PATH`` after the subcommand too: ``responder check-config -c FILE``."""
    if not any(isinstance(p, click.Option) and "--config" in p.opts for p in cmd.params):
        cmd.params.append(click.Option(["-c", "--config"], metavar="PATH", expose_value=False, is_eager=True,
                                       callback=_remember_config, help="Configuration file (responder.toml)."))
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            _add_config_option(sub)


_register()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
