"""The system clock stepped back and forth (NTP correction, a wrong RTC after a reboot, an operator's `date -s`).

Promise (docs/reliability.md): time is a parameter, so a pass run at an earlier ``now`` than
one already run takes nothing twice, and a pass run after a jump forward takes what is due
by then — exactly what a clock that only went forward to the same instants would have done.
Proof: the busy day ticked through a sequence that jumps back and forth ends with the same
steps and the same messages as the day ticked through that sequence's running maximum, and
no message reaches anyone twice.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter

from responder import db
from responder.testing import busyday
from responder.testing.sms_gateway import GatewayStub
from responder.testing.smtp import SmtpSink

from .support import drain, summary

TICKS = 45  # 15 hours: openings, reminders, the 5-hour overdue notices and their repeats


def stepped(n: int) -> list[int]:
    """Tick indices with the clock stepped back (every 7th tick, by 3) and forward (every 11th, by 3, then back)."""
    seq: list[int] = []
    for i in range(n):
        seq.append(i)
        if i % 7 == 6:
            seq += [i - 3, i - 2, i - 3]
        if i % 11 == 5 and i + 3 < n:
            seq.append(i + 3)
    return seq


def envelope(seq: list[int]) -> list[int]:
    out: list[int] = []
    for i in seq:
        out.append(max(i, out[-1]) if out else i)
    return out


def day(engine_url: str, tmp, indices: list[int]) -> tuple[dict, Counter]:
    times = busyday.schedule(TICKS)
    with SmtpSink() as sink, GatewayStub() as stub:
        cfg = busyday.write_config(tmp, database_url=engine_url, smtp_port=sink.port, sms_url=stub.url)

        async def go() -> None:
            ctx = busyday.context(cfg, owner="clock-steps")
            try:
                await busyday.run(ctx, [times[i] for i in indices])
            finally:
                for ch in ctx.channels.values():
                    await ch.aclose()
                ctx.engine.dispose()

        asyncio.run(go())
        drain(cfg, times[-1])
        copies = Counter([("sms", m["key"]) for m in stub.sent] + [("email", str(r.message["Message-ID"])) for r in sink.messages])
    engine = db.make_engine(engine_url)
    try:
        return summary(engine), copies
    finally:
        engine.dispose()


def test_clock_stepped_back_and_forth_loses_and_repeats_nothing(engine, tmp_path, sqlite_template):
    """Steps and messages equal the forward-only run's; every message arrives exactly once."""
    seq = stepped(TICKS)
    assert any(b < a for a, b in zip(seq, seq[1:])) and any(b > a + 1 for a, b in zip(seq, seq[1:]))
    (tmp_path / "ref").mkdir()
    shutil.copyfile(sqlite_template, tmp_path / "ref" / "ref.db")
    ref, ref_copies = day(f"sqlite:///{tmp_path / 'ref' / 'ref.db'}", tmp_path / "ref", envelope(seq))
    (tmp_path / "run").mkdir()
    run, copies = day(engine.url.render_as_string(hide_password=False), tmp_path / "run", seq)
    assert sum(ref["steps"].values()) > 20 and sum(ref["messages"].values()) > 100
    assert run["steps"] == ref["steps"]
    assert run["messages"] == ref["messages"]
    assert all(r.status in ("sent", "merged") for r in run["rows"])
    assert max(copies.values()) == 1 and sum(copies.values()) == sum(ref_copies.values())
