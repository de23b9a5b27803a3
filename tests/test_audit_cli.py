"""`responder audit verify`: an intact chain passes; a row edited or deleted behind the service's back is named."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import Session, select

from responder import db
from responder import engine as eng
from responder.cli import main
from responder.models import AuditEvent
from responder.testing.engine import add_item, make_test_settings

UTC = dt.timezone.utc
T0 = dt.datetime(2022, 7, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
def service(tmp_path):
    """A configured service database with a few real events (case opened, clock started, steps, a release)."""
    settings = make_test_settings(tmp_path)
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    add_item(engine, title="网友反映仁里镇中心小学乱收费", text="有家长反映仁里镇中心小学收取补课费。", published_at=T0,
             first_seen_at=T0)
    cid = eng.open_cases(engine, settings, T0).cases_opened[0]
    eng.advance(engine, settings, T0)
    eng.record_release(engine, settings, cid, kind="回应", url="https://www.shitai.gov.cn/1", now=T0 + dt.timedelta(hours=3))
    yield settings, engine
    engine.dispose()


def verify(settings, *extra):
    return CliRunner().invoke(main, ["audit", "verify", *extra, "-c", str(settings.path)])


def events(engine):
    with Session(engine) as s:
        return s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()


def test_intact_chain_verifies(service):
    """Every event of real activity fits: exit 0 and the head is printed."""
    settings, engine = service
    evs = events(engine)
    assert len(evs) >= 4
    r = verify(settings)
    assert r.exit_code == 0, r.output
    assert f"{len(evs)} events" in r.output and evs[-1].hash in r.output
    doc = json.loads(verify(settings, "--json").output)
    assert doc["ok"] is True and doc["checked"] == len(evs) and doc["head_seq"] == evs[-1].seq


def test_a_row_edited_behind_the_services_back_is_named(service):
    """UPDATE of one event's data in SQL (not through responder) → exit 1 naming that event's seq and id."""
    settings, engine = service
    victim = events(engine)[2]
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'someone-else' WHERE id = :id"), {"id": victim.id})
    r = verify(settings)
    assert r.exit_code == 1
    assert f"seq {victim.seq} (id {victim.id})" in r.output and "edited" in r.output
    doc = json.loads(verify(settings, "--json").output)
    assert doc["ok"] is False and doc["first_bad_seq"] == victim.seq and doc["first_bad_id"] == victim.id


def test_a_deleted_row_and_a_cut_tail_are_named(service):
    """Deleting an event in the middle names the missing seq; deleting the last one is caught by the recorded head."""
    settings, engine = service
    evs = events(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": evs[-1].id})
    r = verify(settings, "--json")
    assert r.exit_code == 1 and "removed from the end" in json.loads(r.output)["problem"]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": evs[1].id})
    doc = json.loads(verify(settings, "--json").output)
    assert doc["first_bad_seq"] == evs[1].seq and "deleted" in doc["problem"]
