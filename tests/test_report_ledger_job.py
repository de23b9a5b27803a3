"""The month-end job: last month's response ledger archived, recorded and e-mailed once, at a Beijing slot."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlmodel import Session, select

from responder import db
from responder.models import AuditEvent, LedgerReport, OutboxMessage
from responder.notify.render import Renderer
from responder.report.ledger_job import (
    ledger_archive_file, list_ledger_archives, next_ledger_at, parse_ledger_at, run_ledger_if_due, validate_ledger_config,
)
from responder.config import shipped_config_dir
from responder.testing.engine import make_test_settings
from test_report_ledger import build_july

UTC = dt.timezone.utc
TEMPLATES = shipped_config_dir().parent / "templates"
SLOT = dt.datetime(2022, 8, 1, 0, 30, tzinfo=UTC)  # 1 August 08:30 Beijing


def test_slot_parsing_and_next_slot():
    """"1 08:30" is the 1st at 08:30 Beijing; days past 28 and nonsense are refused."""
    assert parse_ledger_at("1 08:30") == (1, dt.time(8, 30)) and parse_ledger_at("28 23:59") == (28, dt.time(23, 59))
    for bad in ("31 08:30", "0 08:30", "1 24:00", "mon 08:30", ""):
        with pytest.raises(ValueError):
            parse_ledger_at(bad)


def test_next_ledger_at_is_the_first_of_the_month_0830_beijing(settings_engine, utc_machine):
    """From 31 July 23:00 UTC (already 1 August in Beijing) the next slot is 00:30 UTC; after it, 1 September."""
    settings, _ = settings_engine
    assert next_ledger_at(settings, dt.datetime(2022, 7, 31, 15, 0, tzinfo=UTC)) == SLOT
    assert next_ledger_at(settings, SLOT - dt.timedelta(seconds=1)) == SLOT
    assert next_ledger_at(settings, SLOT) == dt.datetime(2022, 9, 1, 0, 30, tzinfo=UTC)


def test_month_end_job_runs_once_across_a_restart_and_mails_through_the_outbox(settings_engine, utc_machine):
    """Nothing at 08:29; July written at 08:30 (archive, row, e-mails, audit); a restarted daemon does not repeat it;
    the archive list and file access are what the console uses."""
    settings, engine = settings_engine
    build_july(engine, settings)
    assert run_ledger_if_due(engine, settings, SLOT - dt.timedelta(minutes=1)) is None
    assert run_ledger_if_due(engine, settings, SLOT) == "2022-07"
    engine.dispose()
    engine = db.make_engine(settings.database_url)  # the restart
    assert run_ledger_if_due(engine, settings, SLOT + dt.timedelta(minutes=1)) is None
    assert run_ledger_if_due(engine, settings, SLOT + dt.timedelta(days=20)) is None
    with Session(engine) as s:
        rows = s.exec(select(LedgerReport)).all()
        mails = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "weekly_report")).all()
        events = s.exec(select(AuditEvent).where(AuditEvent.kind == "report.ledger")).all()
        archives = list_ledger_archives(s)
    assert [r.month for r in rows] == ["2022-07"] and len(events) == 1
    row = rows[0]
    assert row.summary["total"]["matters"] == 8 and row.chain_seq > 0
    assert sorted(m.recipient for m in mails) == ["office:deputy", "office:principal"]
    assert all(m.channel == "email" and m.idem_key.startswith("ledger:2022-07") for m in mails)
    archive = settings.archive_dir / "ledger" / "2022" / "2022-07"
    names = sorted(p.name for p in archive.iterdir())
    assert names == ["ledger-2022-07.html", "ledger-2022-07.xlsx"]
    assert row.files == {n: hashlib.sha256((archive / n).read_bytes()).hexdigest() for n in names}
    assert archives[0]["month"] == "2022-07" and [f["name"] for f in archives[0]["files"]] == names
    with Session(engine) as s:
        data, intact = ledger_archive_file(s, "2022-07", "ledger-2022-07.xlsx")
        assert intact and data == (archive / "ledger-2022-07.xlsx").read_bytes()
        assert ledger_archive_file(s, "2022-07", "../../responder.toml") is None
        assert ledger_archive_file(s, "../x", "ledger-2022-07.xlsx") is None
    # The mail says what it is: the ledger, not the weekly log.
    subject, text, _ = Renderer.from_dir(TEMPLATES).render_email("weekly_report", {**mails[0].context,
                                                                                   "recipient_name": "王"})
    assert "舆情回应台账" in subject and "合规日志" not in subject and "2022年7月" in subject
    engine.dispose()


def test_recipients_and_slot_are_validated(tmp_path):
    """A recipient without such a unit or contact, or a slot on the 31st, is a configuration problem."""
    settings = make_test_settings(tmp_path, extra_toml="")
    assert validate_ledger_config(settings) == []
    text = settings.path.read_text(encoding="utf-8").replace('ledger_at = "1 08:30"', 'ledger_at = "31 08:30"')
    text = text.replace('# ledger_recipients = ["office:principal"]', 'ledger_recipients = ["office:nobody", "nounit:liaison"]')
    settings.path.write_text(text, encoding="utf-8")
    from responder.config import ConfigError
    from responder.service.checks import load_checked

    with pytest.raises(ConfigError) as err:
        load_checked(settings.path, require_secrets=False)
    text = str(err.value)
    assert "31 08:30" in text and "'office' has no 'nobody' contact" in text and "'nounit:liaison'" in text
