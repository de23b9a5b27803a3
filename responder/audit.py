"""The tamper-evident audit trail: an append-only SHA-256 hash chain.

Each event's hash covers its own content and the previous event's hash, and the
chain's head (sequence number and hash) is kept in ``meta``. Editing a row,
deleting one, or cutting the tail off all break the chain at a nameable place.

Writers serialise on the head row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
single writer does it for us), in the caller's transaction: an event commits
with the state change it describes, or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from responder.models import AuditEvent, Meta
from responder.timeutil import iso_utc

GENESIS = "0" * 64
HEAD_KEY = "audit_head"


def set_meta(session: Session, key: str, value: str, now: dt.datetime) -> None:
    """Write one key of the service's own state (``meta``) in the caller's transaction."""
    m = session.get(Meta, key)
    if m is None:
        session.add(Meta(key=key, value=value, updated_at=now))
    else:
        m.value, m.updated_at = value, now
        session.add(m)


def canonical(seq: int, at: dt.datetime, actor: str, kind: str, subject: str, data: dict[str, Any], prev: str) -> bytes:
    body = {"seq": seq, "at": iso_utc(at), "actor": actor, "kind": kind, "subject": subject, "data": data, "prev": prev}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def event_hash(seq: int, at: dt.datetime, actor: str, kind: str, subject: str, data: dict[str, Any], prev: str) -> str:
    return hashlib.sha256(canonical(seq, at, actor, kind, subject, data, prev)).hexdigest()


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip so that what we hash is exactly what the JSON column will give back.
    return json.loads(json.dumps(data or {}, ensure_ascii=False, default=str))


def record(session: Session, *, at: dt.datetime, kind: str, subject: str = "", data: dict[str, Any] | None = None,
           actor: str = "system") -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    head = session.exec(select(Meta).where(Meta.key == HEAD_KEY).with_for_update()).one()
    seq_s, prev = head.value.split(":", 1)
    seq = int(seq_s) + 1
    payload = _jsonable(data)
    h = event_hash(seq, at, actor, kind, subject, payload, prev)
    ev = AuditEvent(seq=seq, at=at, actor=actor, kind=kind, subject=subject, data=payload, prev_hash=prev, hash=h)
    session.add(ev)
    head.value = f"{seq}:{h}"
    head.updated_at = at
    session.add(head)
    session.flush()
    return ev


class Batch:
    """Append many events in one transaction, reading and writing the head once.

    The engine takes up to hundreds of steps per ``advance``; locking and
    rewriting the head row per event would dominate its cost.
    """

    def __init__(self, session: Session, *, defer: bool = False) -> None:
        """``defer=True`` collects plain rows and inserts them with one executemany at :meth:`close`."""
        self.session = session
        self.defer = defer
        self.rows: list[dict[str, Any]] = []
        self._head = session.exec(select(Meta).where(Meta.key == HEAD_KEY).with_for_update()).one()
        seq_s, self.prev = self._head.value.split(":", 1)
        self.seq = int(seq_s)
        self.count = 0

    def record(self, *, at: dt.datetime, kind: str, subject: str = "", data: dict[str, Any] | None = None,
               actor: str = "system") -> None:
        self.seq += 1
        payload = _jsonable(data)
        h = event_hash(self.seq, at, actor, kind, subject, payload, self.prev)
        row = {"seq": self.seq, "at": at, "actor": actor, "kind": kind, "subject": subject, "data": payload,
               "prev_hash": self.prev, "hash": h}
        if self.defer:
            self.rows.append(row)
        else:
            self.session.add(AuditEvent(**row))
        self.prev = h
        self.count += 1
        self._at = at

    def close(self) -> None:
        if self.rows:
            from sqlalchemy import insert

            self.session.connection().execute(insert(AuditEvent), self.rows)
            self.rows = []
        if self.count:
            self._head.value = f"{self.seq}:{self.prev}"
            self._head.updated_at = self._at
            self.session.add(self._head)


def head(session: Session) -> tuple[int, str]:
    """The chain head as recorded in ``meta``: (sequence, hash)."""
    m = session.get(Meta, HEAD_KEY)
    if m is None:
        return 0, GENESIS
    seq, h = m.value.split(":", 1)
    return int(seq), h


def head_at(session: Session, until: dt.datetime) -> tuple[int, str]:
    """The chain head as it stood at ``until`` (last event with ``at < until``)."""
    ev = session.exec(select(AuditEvent).where(AuditEvent.at < until).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (ev.seq, ev.hash) if ev else (0, GENESIS)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str | None = None


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; name the first event that does not fit."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_id = None
    while True:
        rows = session.exec(select(AuditEvent).where(AuditEvent.seq >= expected_seq).order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            break
        for ev in rows:
            if ev.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq - 1, prev, expected_seq, ev.id,
                                    f"event seq {expected_seq} is missing (next present is {ev.seq}): deleted")
            if ev.prev_hash != prev:
                return VerifyResult(False, checked, ev.seq, prev, ev.seq, ev.id, "prev_hash does not match the previous event's hash")
            h = event_hash(ev.seq, ev.at, ev.actor, ev.kind, ev.subject, ev.data, ev.prev_hash)
            if h != ev.hash:
                return VerifyResult(False, checked, ev.seq, prev, ev.seq, ev.id, "content does not match its hash: edited")
            prev = ev.hash
            expected_seq += 1
            checked += 1
            last_id = ev.id
    head_seq, head_hash = head(session)
    if head_seq != expected_seq - 1 or head_hash != prev:
        return VerifyResult(False, checked, expected_seq - 1, prev, expected_seq, last_id,
                            f"chain ends at seq {expected_seq - 1} but the recorded head is seq {head_seq}: events removed from the end")
    return VerifyResult(True, checked, head_seq, head_hash)
