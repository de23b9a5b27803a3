"""The response ledger in the console (issue 18): month-end archives with downloads and a ledger for any period."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest
from sqlmodel import Session

from responder.models import LedgerReport
from responder.report.ledger import ledger_for, parse_period
from responder.report.ledger_render import render_ledger
from test_web_console import client, logged_in, token
from web_support import HOSTILE, build_world


@pytest.fixture
def world(tmp_path, engine):
    return build_world(tmp_path, engine)


def _period(world) -> tuple[str, str]:
    day = (world.now + dt.timedelta(hours=8)).date()
    return (day - dt.timedelta(days=3)).isoformat(), day.isoformat()


def _archive(world, tmp_path, content: bytes = b'{"rows": []}\n') -> str:
    folder = tmp_path / "archive" / "ledger" / "2022-07"
    folder.mkdir(parents=True)
    (folder / "ledger-2022-07.json").write_bytes(content)
    (folder / "secret.txt").write_text("no", encoding="utf-8")
    with Session(world.engine) as s:
        s.add(LedgerReport(month="2022-07", generated_at=world.now, path=str(folder),
                           files={"ledger-2022-07.json": hashlib.sha256(b'{"rows": []}\n').hexdigest()},
                           summary={"text": "2022年7月：共 3 件 " + HOSTILE}))
        s.commit()
    return str(folder)


def test_archives_are_listed_and_download_only_recorded_names(world, tmp_path):
    """Operators and leaders see the archived months; a recorded file downloads as an attachment, anything else is 404."""
    _archive(world, tmp_path)
    for name in ("wang", "zhao"):
        c = logged_in(world, name)
        page = c.get("/ledgers").text
        assert "2022-07" in page and "ledger-2022-07.json" in page and "ledger-changed" not in page
        assert "<script>window.__pwned" not in page and "&lt;script&gt;" in page  # the summary is text
        r = c.get("/ledgers/2022-07/ledger-2022-07.json")
        assert r.status_code == 200 and r.content == b'{"rows": []}\n'
        assert r.headers["content-disposition"].startswith("attachment") and r.headers["x-ledger-sha256-match"] == "yes"
        assert c.get("/ledgers/2022-07/secret.txt").status_code == 404
        assert c.get("/ledgers/2022-07/..%2Fsecret.txt").status_code == 404
        assert c.get("/ledgers/..%2F..%2Fetc/ledger-2022-07.json").status_code == 404


def test_a_changed_archive_file_is_flagged(world, tmp_path):
    """A file whose bytes no longer match the recorded SHA-256 carries a warning on the page and in the download."""
    _archive(world, tmp_path, content=b'{"rows": ["edited"]}\n')
    c = logged_in(world, "zhao")
    page = c.get("/ledgers").text
    assert "ledger-changed" in page and "已被改动" in page
    assert c.get("/ledgers/2022-07/ledger-2022-07.json").headers["x-ledger-sha256-match"] == "no"


def test_a_ledger_for_any_period_is_the_cli_ledger(world):
    """The form's JSON download is byte-identical to ``report ledger --format json``'s file; CSV tables come zipped."""
    c = logged_in(world, "wang")
    t = token(c.get("/ledgers").text)
    f, to = _period(world)
    r = c.post("/ledgers/build", data={"csrf_token": t, "from": f, "to": to, "unit": "", "format": "json"})
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment"), r.text
    with Session(world.engine) as s:
        expected = render_ledger(ledger_for(s, world.settings, parse_period(f, to)), "json")
    assert r.content == next(iter(expected.values()))
    assert {row["case_id"] for row in json.loads(r.content)["rows"]} == {world.fire_id, world.school_id}
    r = c.post("/ledgers/build", data={"csrf_token": t, "from": f, "to": to, "unit": "", "format": "csv"})
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert r.status_code == 200 and len(names) > 1 and all(n.endswith(".csv") for n in names)
    r = c.post("/ledgers/build", data={"csrf_token": t, "from": f, "to": to, "format": "xlsx"})
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_bad_periods_and_missing_tokens_are_refused(world):
    """Bad dates, an unknown unit or format: 400 with the message on the form; no token: 403; not logged in: login."""
    c = logged_in(world, "wang")
    t = token(c.get("/ledgers").text)
    f, to = _period(world)
    for data, status in [({"from": "2022-13-01", "to": to, "format": "json"}, 400),
                         ({"from": to, "to": f, "format": "json"}, 400),
                         ({"from": f, "to": to, "format": "pdf"}, 400),
                         ({"from": f, "to": to, "unit": "nope", "format": "json"}, 400)]:
        r = c.post("/ledgers/build", data={"csrf_token": t, **data})
        assert r.status_code == status and 'id="form-ledger"' in r.text and 'role="alert"' in r.text, data
    assert c.post("/ledgers/build", data={"from": f, "to": to, "format": "json"}).status_code == 403
    anon = client(world)
    assert anon.get("/ledgers").status_code == 303
    assert anon.post("/ledgers/build", data={"from": f, "to": to, "format": "json"}).status_code == 401


def test_a_liaison_gets_only_their_units_ledger(world, tmp_path):
    """A liaison sees no county-wide archive, and a forged unit in the form still yields their own unit's ledger."""
    _archive(world, tmp_path)
    li = logged_in(world, "li")
    page = li.get("/ledgers").text
    assert "2022-07" not in page and 'name="unit"' not in page
    assert li.get("/ledgers/2022-07/ledger-2022-07.json").status_code == 403
    f, to = _period(world)
    r = li.post("/ledgers/build", data={"csrf_token": token(page), "from": f, "to": to, "unit": world.school_unit,
                                        "format": "json"})
    lg = json.loads(r.content)
    assert r.status_code == 200 and lg["summary"]["unit"] == world.fire_unit
    ids = {row["case_id"] for row in lg["rows"]}
    assert world.school_id not in ids and world.fire_id in ids
