"""CSRF protection: one random token per session, required in every POST form.

The session cookie is SameSite=Lax and HttpOnly, which already stops most
cross-site posts; the token is the check that does not depend on the browser.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

FIELD = "csrf_token"


def token(session: dict[str, Any]) -> str:
    """The session's token, created on first use (the login form has one too)."""
    t = session.get("csrf")
    if not t:
        t = session["csrf"] = secrets.token_urlsafe(32)
    return t


def valid(session: dict[str, Any], form: Any) -> bool:
    expected = session.get("csrf")
    got = form.get(FIELD) if form is not None else None
    return bool(expected) and isinstance(got, str) and hmac.compare_digest(expected, got)
