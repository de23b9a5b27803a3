"""Console accounts and login attempts (issue 16).

Accounts are local (``responder user add``); the password is stored only as an
argon2 hash. ``password_changed_at`` is copied into the session cookie, so a
password change or a disabled account ends every session at once, without a
server-side session store. Login attempts live in the database so the rate
limit survives restarts and holds across the ``run`` and ``web`` processes.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from responder.models.common import utc_field, utc_required


class WebUser(SQLModel, table=True):
    __tablename__ = "web_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    """Login name (ASCII); recorded with the display name on every action."""
    display_name: str = Field(default="", max_length=60)
    role: str = Field(max_length=20)  # operator | liaison | leader
    unit_id: str | None = Field(default=None, max_length=100)
    """A liaison's unit (units.toml id): the cases they see and act on."""
    password_hash: str = Field(default="", max_length=200)
    disabled: bool = False
    created_at: dt.datetime = utc_required()
    password_changed_at: dt.datetime = utc_required()
    last_login_at: dt.datetime | None = utc_field()


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = utc_required(index=True)
    name: str = Field(default="", max_length=60, index=True)
    address: str = Field(default="", max_length=64, index=True)
    ok: bool = False
