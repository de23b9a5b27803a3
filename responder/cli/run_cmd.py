"""``run`` (the daemon), ``demo`` (the whole service on a virtual clock) and ``replay``."""

from __future__ import annotations

import datetime as dt

import click

from responder.cli.common import config_path
from responder.cli.timeparse import TIME


@click.command("run")
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the service in the foreground (as systemd does): poll, classify, clock, escalate, report."""
    from responder.service.runtime import main as run_main

    raise SystemExit(run_main(config_path(ctx)))


def _finite(_ctx: click.Context, _param: click.Parameter, value: float) -> float:
    if value != value or value in (float("inf"), float("-inf")):  # FloatRange lets nan through
        raise click.BadParameter("must be a finite number of virtual seconds per real second")
    return value


@click.command("demo")
@click.option("--state-dir", type=click.Path(file_okay=False), default=None,
              help="Keep the demo's configuration (DIR/responder.toml), database and archive here.")
@click.option("--speed", type=click.FloatRange(0, 1e9), callback=_finite, default=4 * 3600.0, show_default=True,
              help="Virtual seconds per real second (0: as fast as possible).")
@click.option("--json", "as_json", is_flag=True, help="End with one JSON line that sums the run up.")
@click.option("--serve", is_flag=True, help="Then leave the operator console running on the demo's state (Ctrl-C stops).")
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT", help="With --serve: where.")
def demo(state_dir: str | None, speed: float, as_json: bool, serve: bool, listen: str) -> None:
    """Watch the whole service work for a virtual week (2022-07-18…25) in about a minute.

    Needs only a plain install of responder (no test extras; once installed, no network and no
    database server): SQLite in a temporary directory, the bundled sample feeds, a loopback SMTP
    sink (aiosmtpd, a runtime dependency) and a loopback SMS gateway stub (standard library), both
    printing what they receive. With --serve the operator console then runs on the demo's state.
    """
    from responder.service.demo import run_demo

    if serve and state_dir is None:
        import tempfile

        state_dir = tempfile.mkdtemp(prefix="responder-demo-")
    run_demo(state_dir=state_dir, speed=speed, as_json=as_json)
    if serve:
        import sys
        from pathlib import Path

        from responder.service.demo import DEMO_END
        from responder.web.demo import serve_demo

        serve_demo(Path(state_dir).resolve(), DEMO_END.astimezone(dt.timezone.utc), listen, sys.stdout)


@click.command("replay")
@click.argument("feeds", type=click.Path(exists=True, file_okay=False))
@click.option("--from", "start", type=TIME, required=True, help="Virtual start (Beijing time if no zone).")
@click.option("--to", "end", type=TIME, required=True, help="Virtual end.")
@click.option("--state-dir", type=click.Path(file_okay=False), default=None)
@click.option("--json", "as_json", is_flag=True)
def replay(feeds: str, start: dt.datetime, end: dt.datetime, state_dir: str | None, as_json: bool) -> None:
    """What would the service have done? Run a folder of recorded feeds through it between two times."""
    from responder.service.demo import run_replay

    if end <= start:
        raise click.BadParameter("--to must be after --from")
    run_replay(feeds=feeds, start=start, end=end, state_dir=state_dir, as_json=as_json)


COMMANDS = [run, demo, replay]
