"""Store UTC, show Beijing: the machine's own time zone changes nothing people see."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from responder import db, engine as eng
from responder.testing.engine import add_item, make_test_settings

EXE = str(Path(sys.executable).parent / "responder")
UTC = dt.timezone.utc


def test_status_and_show_read_the_same_in_any_server_zone(tmp_path):
    """`status` and `show` print Beijing times whether the server runs in UTC, Shanghai or New York."""
    s = make_test_settings(tmp_path)
    e = db.make_engine(s.database_url)
    db.upgrade(e)
    t = dt.datetime(2022, 7, 18, 6, 0, tzinfo=UTC)  # 14:00 in Beijing
    add_item(e, title="网友反映仁里镇中心小学乱收费", text="家长反映学校收费", published_at=t, first_seen_at=t)
    eng.open_cases(e, s, t)
    outs = []
    for zone in ("UTC", "Asia/Shanghai", "America/New_York"):
        env = dict(os.environ, TZ=zone)
        st = subprocess.run([EXE, "status", "-c", str(s.path), "--as-of", "2022-07-18 15:00"], env=env,
                            capture_output=True, text=True)
        sh = subprocess.run([EXE, "show", "1", "-c", str(s.path)], env=env, capture_output=True, text=True)
        assert st.returncode == 0 and sh.returncode == 0, st.stderr + sh.stderr
        outs.append((st.stdout, sh.stdout))
    assert outs[0] == outs[1] == outs[2]
    assert "07-20 14:00" in outs[0][0]              # the 48-hour deadline, Beijing time
    assert "2022-07-18 14:00" in outs[0][1]          # the first report, Beijing time
