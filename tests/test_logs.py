"""Logs are one JSON event per line and never carry a secret or a phone number from feed text."""

from __future__ import annotations

import io
import json
import logging

import structlog

from responder import logs


def test_secrets_and_phone_numbers_never_reach_the_log():
    """A configured secret is replaced, a mobile number masked, stdlib records come out as JSON too."""
    out = io.StringIO()
    logs.configure("info", "json", secrets=["s3cret-Token-123"], stream=out)
    structlog.get_logger("t").info("sent", detail="password s3cret-Token-123 used", text="联系电话13912345678")
    logging.getLogger("some.library").warning("connect to smtp with s3cret-Token-123 failed")
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert len(lines) == 2
    blob = json.dumps(lines, ensure_ascii=False)
    assert "s3cret-Token-123" not in blob and "***" in blob
    assert "13912345678" not in blob
    assert lines[1]["level"] == "warning" and lines[1]["logger"] == "some.library"
