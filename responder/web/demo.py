"""``responder demo --serve``: the console on the demo's database when the simulation ends.

The demo's clock is virtual (2022-07-18…25); the console continues from the
demo's end and runs at wall speed from there, so the countdowns a newcomer
sees are the ones the simulation left. The accounts are printed: the server
listens on loopback only, and the database is a throwaway.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TextIO

DEMO_ACCOUNTS = (
    ("demo", "operator", None, "演示值班员", "demo-console"),
    ("leader", "leader", None, "演示领导", "demo-console"),
)
DEMO_PASSWORD = "demo-console"
"""Each account's password is this plus ``-2022`` (printed at start; loopback only)."""


def virtual_clock(start: dt.datetime):
    """``start`` plus the wall time elapsed since the server started."""
    t0 = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - t0)


def prepare(state_dir: Path, start: dt.datetime):
    from sqlmodel import Session, select

    from responder import db
    from responder.config import load
    from responder.models import Case, WebUser
    from responder.web.auth import add_user

    settings = load(state_dir / "responder.toml", require_secrets=False)
    engine = db.make_engine(settings.database_url)
    with Session(engine) as s:
        existing = {u.name for u in s.exec(select(WebUser)).all()}
        dept = s.exec(select(Case.department).where(Case.department.is_not(None)).limit(1)).first()
    accounts = list(DEMO_ACCOUNTS)
    unit = settings.unit(dept) if dept else None
    if unit is not None:
        accounts.append(("liaison", "liaison", unit.id, f"{unit.name}联络员（演示）", DEMO_PASSWORD))
    for name, role, unit_id, display, pw in accounts:
        if name not in existing:
            add_user(engine, settings, name=name, role=role, unit_id=unit_id, display_name=display, password=pw + "-2022",
                     now=start)
    return settings, engine, accounts


def serve_demo(state_dir: Path, start: dt.datetime, listen: str, out: TextIO) -> None:
    from responder.web.app import create_app
    from responder.web.server import serve_forever

    settings, engine, accounts = prepare(state_dir, start)
    import secrets

    app = create_app(settings, engine, clock=virtual_clock(start), key=secrets.token_urlsafe(32))

    def ready(url: str) -> None:
        out.write(f"\n操作台（演示数据，时间从演示结束时继续）：{url}\n")
        for name, role, unit_id, display, pw in accounts:
            out.write(f"  用户 {name} / 密码 {pw}-2022（{display}）\n")
        out.write("  Ctrl-C 停止。\n")
        out.flush()

    serve_forever(app, listen, on_ready=ready)
