"""kill -9 at random points of a busy day, many times, on SQLite and PostgreSQL.

Promises (docs/reliability.md, README): after any number of SIGKILLs and restarts —
no clock step is lost or taken twice (the steps equal an uninterrupted reference run's);
no message is lost (each one the reference wrote is delivered, or, if its fate stayed
unknown twice, handed to a person); a message goes twice only where the provider cannot
deduplicate by our key, then at most once more and marked 【重发】; the audit chain is
intact (``responder audit verify``).

``RESPONDER_SOAK_ITERATIONS`` sets the kills per database (a small default for CI);
``RESPONDER_SOAK_SEED`` replays a run; ``RESPONDER_SOAK_REPORT`` appends the figures
(one JSON line per database) to a file for docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path


from responder.channels.base import provider_key
from responder.testing import busyday
from responder.testing.sms_gateway import GatewayStub
from responder.testing.smtp import SmtpSink

from .support import REPEAT, drain, summary

ITERATIONS = int(os.environ.get("RESPONDER_SOAK_ITERATIONS", "3"))
EVENT_LIMIT = 300.0
"""Guard against a hung child only; every wait is on the child's progress file or its exit."""
EXE = str(Path(sys.executable).parent / "responder")


def deliveries(stub: GatewayStub, sink: SmtpSink) -> Counter:
    """(channel, provider key) → copies received; a marked copy counts under ("repeat", …) too."""
    c: Counter = Counter()
    for m in stub.sent:
        c[("sms", m["key"])] += 1
        if m["text"].startswith(REPEAT):
            c[("sms-repeat", m["key"])] += 1
    for r in sink.messages:
        key = str(r.message["Message-ID"]).strip("<>").split("@")[0]
        c[("email", key)] += 1
        if r.subject.startswith(REPEAT):
            c[("email-repeat", key)] += 1
    return c


def test_kill_9_at_random_points_of_a_busy_day(engine, tmp_path, reference):
    """SIGKILL the service's loop at random ticks (and random points within them), restart it, finish the day; compare."""
    seed = int(os.environ.get("RESPONDER_SOAK_SEED") or time.time_ns() % 1_000_000)
    rnd = random.Random(seed)
    url = engine.url.render_as_string(hide_password=False)
    progress = tmp_path / "progress"
    kills = 0
    with SmtpSink() as sink, GatewayStub() as stub:
        cfg = busyday.write_config(tmp_path, database_url=url, smtp_port=sink.port, sms_url=stub.url)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        # Kill points spread over the whole day (several per tick when there are more kills than ticks).
        targets = sorted(rnd.randrange(busyday.TICKS) for _ in range(ITERATIONS))
        for target in targets:
            child = subprocess.Popen([sys.executable, "-m", "responder.testing.busyday", str(cfg), str(progress)],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            child.stdout.readline()  # "started": the child has reconciled and begins its ticks (or died: "")
            end = time.monotonic() + EVENT_LIMIT
            while busyday.progress_of(progress) < target and child.poll() is None and time.monotonic() < end:
                time.sleep(0.01)
            time.sleep(rnd.random() * 0.3)  # somewhere inside the tick: advance, claim, send or record
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                kills += 1
            child.wait(EVENT_LIMIT)
            err = child.stderr.read().decode(errors="replace")
            assert child.returncode in (0, -signal.SIGKILL), f"seed {seed}: the child failed:\n{err[-3000:]}"
        final = subprocess.run([sys.executable, "-m", "responder.testing.busyday", str(cfg), str(progress)], env=env,
                               capture_output=True, text=True, timeout=EVENT_LIMIT)
        assert final.returncode == 0 and "done" in final.stdout, f"seed {seed}:\n{final.stderr[-3000:]}"
        drain(cfg)
        got = deliveries(stub, sink)
    verify = subprocess.run([EXE, "audit", "verify", "--json", "-c", str(cfg)], capture_output=True, text=True,
                            timeout=EVENT_LIMIT)
    run = summary(engine)

    assert run["steps"] == reference["steps"], f"seed {seed}: steps lost or repeated"
    assert run["messages"] == reference["messages"], f"seed {seed}: messages lost or added"
    lost = [r for r in run["rows"] if r.status not in ("sent", "merged", "dead")]
    unconfirmed = [r for r in run["rows"] if r.status == "dead"]
    assert all("人工确认" in (r.last_error or "") for r in unconfirmed), "a dead row that is not an unknown outcome"
    missing = [r for r in run["rows"] if r.status == "sent" and got[(r.channel if r.channel == "sms" else "email",
                                                                        provider_key(r.idem_key))] == 0]
    dup = {k: n for k, n in got.items() if k[0] in ("sms", "email") and n > 1}
    unmarked = {k: n for k, n in dup.items() if got[(k[0] + "-repeat", k[1])] != n - 1 or n > 2}
    figures = {"database": engine.dialect.name, "seed": seed, "runs": kills + 1, "kills": kills,
               "messages": len(run["rows"]), "delivered": sum(n for k, n in got.items() if k[0] in ("sms", "email")),
               "lost": len(lost) + len(missing), "duplicated": sum(n - 1 for n in dup.values()),
               "unmarked_duplicates": len(unmarked), "unconfirmed": len(unconfirmed),
               "steps": sum(run["steps"].values()), "audit_ok": verify.returncode == 0}
    print("SOAK " + json.dumps(figures, ensure_ascii=False))
    if os.environ.get("RESPONDER_SOAK_REPORT"):
        with open(os.environ["RESPONDER_SOAK_REPORT"], "a", encoding="utf-8") as f:
            f.write(json.dumps(figures, ensure_ascii=False) + "\n")
    assert not lost and not missing, f"seed {seed}: lost {[(r.id, r.status) for r in lost]} missing {[r.id for r in missing]}"
    assert not unmarked, f"seed {seed}: sent twice without the mark or more than twice: {unmarked}"
    assert verify.returncode == 0, f"seed {seed}: {verify.stdout} {verify.stderr}"
