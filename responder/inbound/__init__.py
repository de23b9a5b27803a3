"""Inbound SMS replies (issue 17): "回复 4821 签收" answered from the phone that got the message.

Formats (parsers in :mod:`responder.inbound.formats`, documented with sources in docs/notifications.md)
are turned into :class:`Reply`; :func:`record_replies` stores each once and acts only when the code
names an open case AND the sender's number received an SMS of that case. Everything else is recorded
and shown to the office, never acted on.
"""

from responder.inbound.core import Reply, ensure_code, record_replies

__all__ = ["Reply", "ensure_code", "record_replies"]
