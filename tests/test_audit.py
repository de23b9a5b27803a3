"""The audit trail is a hash chain that names the first event that does not fit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from responder import audit
from responder.db import transaction

T0 = dt.datetime(2022, 7, 18, 1, 0, tzinfo=dt.timezone.utc)


def _fill(engine, n=5):
    for i in range(n):
        with transaction(engine) as s:
            audit.record(s, at=T0 + dt.timedelta(minutes=i), kind="test.event", subject=f"case:{i}", data={"i": i, "文字": "中文"})


def test_chain_verifies_when_untouched(engine):
    """An untouched chain verifies and its head is the last event."""
    _fill(engine)
    with transaction(engine) as s:
        res = audit.verify(s)
        assert res.ok and res.checked == 5
        assert res.head_seq == 5 and res.head_hash == audit.head(s)[1]


def test_edit_behind_the_back_is_named(engine):
    """Editing one row's data is reported at exactly that event."""
    _fill(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET subject = 'case:99' WHERE seq = 3"))
    with transaction(engine) as s:
        res = audit.verify(s)
    assert not res.ok and res.first_bad_seq == 3 and "edited" in res.problem


def test_deleted_row_is_named(engine):
    """Deleting a row in the middle is reported as a missing sequence number."""
    _fill(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    with transaction(engine) as s:
        res = audit.verify(s)
    assert not res.ok and res.first_bad_seq == 2 and "deleted" in res.problem


def test_truncated_tail_is_detected(engine):
    """Removing the newest events is caught by the recorded head."""
    _fill(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq >= 4"))
    with transaction(engine) as s:
        res = audit.verify(s)
    assert not res.ok and "removed from the end" in res.problem


def test_rolled_back_event_leaves_no_trace(engine):
    """An event whose transaction rolls back does not advance the head."""
    _fill(engine, 2)
    try:
        with transaction(engine) as s:
            audit.record(s, at=T0, kind="test.event")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with transaction(engine) as s:
        assert audit.head(s)[0] == 2 and audit.verify(s).ok


def test_head_at_a_past_instant(engine):
    """The head as it stood at a past instant ignores later events."""
    _fill(engine, 4)
    with transaction(engine) as s:
        seq, _ = audit.head_at(s, T0 + dt.timedelta(minutes=2))
    assert seq == 2
