"""The Monday job and ``responder report weekly``: Beijing slot whatever the machine's zone, once, reproducible."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from responder import db
from responder.cli import main
from responder.models import AuditEvent, OutboxMessage, WeeklyReport
from responder.report import next_weekly_at, parse_slot, run_weekly_if_due
from responder.testing.engine import make_test_settings
from test_report_weekly import build_week

UTC = dt.timezone.utc
MON_0830_BJ = dt.datetime(2022, 8, 1, 0, 30, tzinfo=UTC)  # Monday 2022-08-01 08:30 Beijing


def test_slot_parsing_and_next_slot_in_utc():
    """"mon 08:30" is Monday 00:30 UTC; the next slot after a slot is a week later; nonsense is refused."""
    assert parse_slot("mon 08:30") == (0, dt.time(8, 30))
    assert parse_slot("Fri 17:05") == (4, dt.time(17, 5))
    for bad in ("monday 08:30", "mon 24:00", "mon 8.30", ""):
        with pytest.raises(ValueError):
            parse_slot(bad)


def test_next_weekly_at_is_monday_0830_beijing(settings_engine, utc_machine):
    """From a Sunday evening (UTC machine) the next slot is Monday 08:30 Beijing = 00:30 UTC, then a week on."""
    settings, _ = settings_engine
    assert next_weekly_at(settings, dt.datetime(2022, 7, 31, 20, 0, tzinfo=UTC)) == MON_0830_BJ
    assert next_weekly_at(settings, MON_0830_BJ - dt.timedelta(seconds=1)) == MON_0830_BJ
    assert next_weekly_at(settings, MON_0830_BJ) == MON_0830_BJ + dt.timedelta(days=7)
    # Sunday 17:00 UTC is already Monday 01:00 in Beijing: the slot is still that Monday's 08:30.
    assert next_weekly_at(settings, dt.datetime(2022, 7, 31, 17, 0, tzinfo=UTC)) == MON_0830_BJ


def test_weekly_job_fires_once_at_monday_0830_beijing_across_a_restart(settings_engine, utc_machine):
    """Nothing at 08:29 Beijing; W30 written at 08:30 (archive, row, e-mails, audit); a restarted daemon does not repeat it."""
    settings, engine = settings_engine
    build_week(engine, settings)
    assert run_weekly_if_due(engine, settings, MON_0830_BJ - dt.timedelta(minutes=1)) is None
    assert run_weekly_if_due(engine, settings, MON_0830_BJ) == "2022-W30"
    engine.dispose()
    engine = db.make_engine(settings.database_url)  # the restart
    assert run_weekly_if_due(engine, settings, MON_0830_BJ + dt.timedelta(minutes=1)) is None
    assert run_weekly_if_due(engine, settings, MON_0830_BJ + dt.timedelta(days=2)) is None
    with Session(engine) as s:
        rows = s.exec(select(WeeklyReport)).all()
        mails = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "weekly_report")).all()
        events = s.exec(select(AuditEvent).where(AuditEvent.kind == "report.weekly")).all()
    assert [r.week for r in rows] == ["2022-W30"] and len(events) == 1
    row = rows[0]
    assert row.generated_at == MON_0830_BJ and row.chain_head == row.figures["chain"]["hash"] and row.chain_seq > 0
    assert sorted((m.recipient, m.channel) for m in mails) == [("office:deputy", "email"), ("office:principal", "email")]
    ctx = mails[0].context
    assert ctx["week"] == "2022-W30" and ctx["summary"] == row.figures["summary"] and "<table" in ctx["html"]
    archive = settings.archive_dir / "2022" / "2022-W30"
    assert ctx["path"] == str(archive / "weekly-2022-W30.html")
    names = sorted(p.name for p in archive.iterdir())
    assert "weekly-2022-W30.html" in names and "weekly-2022-W30.md" in names and "weekly-2022-W30-units.csv" in names
    assert not [n for n in names if n.startswith(".")]
    assert row.files == {n: hashlib.sha256((archive / n).read_bytes()).hexdigest() for n in names}
    assert events[0].data["files"] == row.files
    # A week later the next week is due, and only that one.
    assert run_weekly_if_due(engine, settings, MON_0830_BJ + dt.timedelta(days=7)) == "2022-W31"
    engine.dispose()


def test_the_job_respects_a_configured_slot(tmp_path, utc_machine):
    """With weekly_report = "tue 07:00" nothing is written on Monday, and W30 on Tuesday 07:00 Beijing."""
    settings = make_test_settings(tmp_path)
    text = settings.path.read_text(encoding="utf-8").replace('weekly_report = "mon 08:30"', 'weekly_report = "tue 07:00"')
    settings.path.write_text(text, encoding="utf-8")
    from responder.config import load

    settings = load(settings.path, require_secrets=False)
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    assert run_weekly_if_due(engine, settings, MON_0830_BJ) is None
    tue = dt.datetime(2022, 8, 1, 23, 0, tzinfo=UTC)  # Tuesday 07:00 Beijing
    assert run_weekly_if_due(engine, settings, tue - dt.timedelta(seconds=1)) is None
    assert run_weekly_if_due(engine, settings, tue) == "2022-W30"
    engine.dispose()


def test_cli_makes_any_past_week_identical_to_the_archived_copy(settings_engine, freezer, tmp_path):
    """`report weekly --week 2022-W30` run months later writes the very bytes the Monday job archived."""
    settings, engine = settings_engine
    build_week(engine, settings)
    assert run_weekly_if_due(engine, settings, MON_0830_BJ) == "2022-W30"
    archived = (settings.archive_dir / "2022" / "2022-W30" / "weekly-2022-W30.html").read_bytes()
    freezer.move_to("2022-11-20 03:00:00")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["report", "weekly", "--week", "2022-W30", "--format", "html", "--format", "csv",
                                  "--out", str(out), "-c", str(settings.path)])
    assert r.exit_code == 0, r.output
    assert (out / "weekly-2022-W30.html").read_bytes() == archived
    assert (out / "weekly-2022-W30-units.csv").exists() and not (out / "weekly-2022-W30.md").exists()
    assert "按时率62.5%" in r.output


def test_cli_default_week_is_the_last_complete_one_and_refuses_an_unfinished_week(settings_engine, freezer, tmp_path):
    """Without --week the log is last week's (clock frozen on a Wednesday); the current week is refused."""
    settings, _ = settings_engine
    freezer.move_to("2022-08-03 02:00:00")  # Wednesday 10:00 Beijing of W31
    r = CliRunner().invoke(main, ["report", "weekly", "--format", "md", "--out", str(tmp_path / "o"), "--json",
                                  "-c", str(settings.path)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["week"] == "2022-W30" and doc["files"] == [str(tmp_path / "o" / "weekly-2022-W30.md")]
    r = CliRunner().invoke(main, ["report", "weekly", "--week", "2022-W31", "-c", str(settings.path)])
    assert r.exit_code == 2 and "not over yet" in r.output
    r = CliRunner().invoke(main, ["report", "weekly", "--week", "W31", "-c", str(settings.path)])
    assert r.exit_code == 2 and "ISO week" in r.output
