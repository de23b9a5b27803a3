"""Providers down, failing, slow and hanging: what the office's messages go through.

Promises (docs/reliability.md): a provider that is down or refuses loses no message and
causes no duplicate; a provider that may have taken a message but did not say so (a timeout
or a dropped connection after the request was sent) gets the message at most once more,
marked 【重发】 — or, where it drops repeated keys, again with the same key and unmarked; a
hanging provider never stops a clock.
"""

from __future__ import annotations

import datetime as dt

from responder.testing.sms_gateway import GatewayStub
from responder.testing.smtp import SmtpSink

from .support import NOW, REPEAT, attempts, dispatch, gateway, mail, put, rows

H = dt.timedelta(hours=1)


def test_smtp_down_then_refusing_then_back_delivers_once_unmarked(engine):
    """SMTP down (connection refused), then 451, then up: one e-mail, unmarked — nothing reached the server before."""
    sink = SmtpSink()
    put(engine, "c:1", channels=("email",))
    cfg = mail(sink)
    assert dispatch(engine, cfg).retried == 1
    with sink:
        sink.fail_next = 1
        assert dispatch(engine, cfg, now=NOW + H).retried == 1 and sink.messages == []
        assert dispatch(engine, cfg, now=NOW + 2 * H).sent == 1
        assert dispatch(engine, cfg, now=NOW + 3 * H).claimed == 0
    assert len(sink.messages) == 1 and not sink.messages[0].subject.startswith(REPEAT)
    assert rows(engine)[0].status == "sent" and not rows(engine)[0].outcome_unknown


def test_sms_gateway_down_then_500_then_back_sends_once_unmarked(engine):
    """Gateway down, then HTTP 500 twice, then up: one SMS, unmarked."""
    stub = GatewayStub()
    put(engine, "c:1")
    stub.start()
    cfg = gateway(stub)
    stub.stop()
    assert dispatch(engine, cfg).retried == 1
    stub.start()
    try:
        stub.fail_next = 2
        for i in (1, 2):
            assert dispatch(engine, cfg, now=NOW + i * H).retried == 1
        assert dispatch(engine, cfg, now=NOW + 3 * H).sent == 1
    finally:
        stub.stop()
    assert [m["text"].startswith(REPEAT) for m in stub.sent] == [False]


def test_slow_smtp_and_gateway_within_their_timeouts_deliver_once(engine):
    """A slow provider that answers within the timeout is simply slow: one message each, no retry."""
    with SmtpSink() as sink, GatewayStub() as stub:
        sink.stall_seconds = 0.3
        stub.delay = 0.3
        put(engine, "c:1", channels=("email",))
        assert dispatch(engine, mail(sink, timeout=30)).sent == 1
        put(engine, "c:2")
        assert dispatch(engine, gateway(stub, timeout=30)).sent == 1
    assert len(sink.messages) == 1 and len(stub.sent) == 1


def test_smtp_hanging_after_data_is_an_unknown_outcome_resent_once_marked(engine):
    """A mail server that takes the message and then hangs past the timeout: the outcome is unknown.

    The retry is marked 【重发】 (issue 13: three e-mails went twice unmarked), and when the
    marked copy hangs too, no third copy goes: the row gives up and the office is asked.
    """
    with SmtpSink() as sink:
        sink.hang = "after"
        try:
            put(engine, "c:1", channels=("email",))
            cfg = mail(sink, timeout=0.5)
            r1 = dispatch(engine, cfg)
            assert r1.retried == 1 and rows(engine)[0].outcome_unknown
            r2 = dispatch(engine, cfg, now=NOW + H)
            assert r2.repeats == 1
            r3 = dispatch(engine, cfg, now=NOW + 2 * H)
            assert r3.unconfirmed == 1 and r3.claimed == 1
            assert dispatch(engine, cfg, now=NOW + 5 * H).claimed <= 2  # only the office's notices, by SMS/e-mail
        finally:
            sink.release.set()
        subjects = [m.subject for m in sink.messages if "丁香镇" in m.subject]
    assert len(subjects) == 2 and not subjects[0].startswith(REPEAT) and subjects[1].startswith(REPEAT)
    row = rows(engine, "reminder")[0]
    assert row.status == "dead" and "人工确认" in row.last_error
    assert rows(engine, "delivery_failure"), "the office is told that the message's fate is unknown"
    assert [(a.outcome, a.repeat) for a in attempts(engine) if a.outbox_id == row.id] == [("unknown", False), ("unknown", True)]


def test_smtp_hanging_before_taking_the_message_is_retried_marked_at_most_once(engine):
    """A server that hangs after the body without taking it: the client cannot tell, so the retry is marked; one copy arrives."""
    with SmtpSink() as sink:
        sink.hang = "before"
        try:
            put(engine, "c:1", channels=("email",))
            cfg = mail(sink, timeout=0.5)
            assert dispatch(engine, cfg).retried == 1
        finally:
            sink.release.set()
        sink.hang = ""
        assert dispatch(engine, cfg, now=NOW + H).sent == 1
    assert [m.subject.startswith(REPEAT) for m in sink.messages] == [True]


def test_gateway_answering_after_its_timeout_sends_at_most_once_more(engine):
    """The SMS gateway processes each request but answers after the timeout (issue 13: 22 extra copies of 41).

    However often the dispatcher comes back, the person gets the SMS at most twice, the
    second marked 【重发】; then the row gives up and the office is asked to confirm.
    """
    with GatewayStub() as stub:
        stub.hang = True
        try:
            put(engine, "c:1")
            cfg = gateway(stub, timeout=0.3)
            for i in range(6):
                dispatch(engine, cfg, now=NOW + i * H)
        finally:
            stub.release.set()
    texts = [m["text"] for m in stub.sent if m["phone"] == rows(engine, "reminder")[0].address]
    assert len(texts) == 2 and not texts[0].startswith(REPEAT) and texts[1].startswith(REPEAT)
    assert rows(engine, "reminder")[0].status == "dead"


def test_idempotent_gateway_hanging_gets_the_same_key_unmarked_and_one_sms(engine):
    """A gateway that drops repeated keys: after a timeout the retry carries the same key, unmarked; one SMS arrives."""
    with GatewayStub(dedupe=True) as stub:
        stub.hang = True
        try:
            put(engine, "c:1")
            cfg = gateway(stub, timeout=0.3, idempotent=True)
            assert dispatch(engine, cfg).retried == 1
        finally:
            stub.release.set()
        stub.hang = False
        rep = dispatch(engine, cfg, now=NOW + H)
        assert rep.sent == 1 and rep.repeats == 0
        assert stub.requests == 2 and len(stub.sent) == 1 and not stub.sent[0]["text"].startswith(REPEAT)
