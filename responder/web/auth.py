"""Console accounts, roles and the login rate limit.

Three roles (issue 16): ``operator`` — the office, everything; ``liaison`` — a
department's or township's 联络员, only the cases of their own unit, and only
the actions a unit takes on its own case (record its release, acknowledge,
confirm or reject a proposed match of its release); ``leader`` — reads every
page, acts on nothing. Reclassifying and closing stay with the office.

The scope of a liaison is applied in the SQL of every list (``case_scope``) and
checked again in every POST handler (``may_act``), so a forged form for another
unit's case is refused even though the page never offered it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_
from sqlmodel import Session, select

from responder.db import transaction
from responder.models import Case, LoginAttempt, WebUser

ROLES = {"operator": "政务公开办值班员", "liaison": "单位联络员", "leader": "领导（只读）"}
NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,60}$")
MIN_PASSWORD = 10
ACTIONS = ("release", "ack", "proposal", "reclassify", "close")
LIAISON_ACTIONS = frozenset({"release", "ack", "proposal"})

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")


class AccountError(ValueError):
    """A user command or login that cannot be done; the message says why (Chinese, for people)."""


@dataclass(frozen=True)
class Person:
    """Who is acting, as every page and handler sees it."""

    id: int
    name: str
    display_name: str
    role: str
    unit_id: str | None
    stamp: str

    @property
    def actor(self) -> str:
        """What the audit trail records: the person's name and login."""
        return f"{self.display_name}（{self.name}）" if self.display_name and self.display_name != self.name else self.name

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def may(self, action: str) -> bool:
        if self.role == "operator":
            return True
        return self.role == "liaison" and action in LIAISON_ACTIONS


def person_of(u: WebUser) -> Person:
    return Person(u.id, u.name, u.display_name or u.name, u.role, u.unit_id, stamp_of(u))


def stamp_of(u: WebUser) -> str:
    """Changes when the password changes: sessions signed with an older stamp end."""
    return str(int(u.password_changed_at.timestamp()))


# ---------------------------------------------------------------- unit scope


def unit_names(settings: Any, unit_id: str) -> list[str]:
    """The spellings a case's ``department`` may carry for this unit (id and Chinese name)."""
    u = settings.unit(unit_id)
    return [unit_id] if u is None else [u.id, u.name]


def case_scope(settings: Any, person: Person) -> Any:
    """A SQL condition on :class:`Case` limiting what ``person`` sees (``None``: everything).

    A case whose department is unknown or empty belongs to the office (engine's
    ``unit_for_department``), so an office liaison sees those too.
    """
    if person.role != "liaison":
        return None
    names = unit_names(settings, person.unit_id or "")
    cond = Case.department.in_(names)
    if person.unit_id == settings.office.id:
        known = [n for u in settings.units for n in (u.id, u.name)]
        cond = or_(cond, Case.department.is_(None), Case.department.not_in(known))
    return cond


def case_unit(settings: Any, case: Case) -> str:
    from responder.engine.rules import unit_for_department

    return unit_for_department(settings, case.department).id


def may_see(settings: Any, person: Person, case: Case) -> bool:
    return person.role != "liaison" or case_unit(settings, case) == person.unit_id


def may_act(settings: Any, person: Person, case: Case, action: str) -> bool:
    """Checked by every POST handler before calling the core."""
    return person.may(action) and may_see(settings, person, case)


# ---------------------------------------------------------------- accounts


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")
    return _hasher.hash(password)


def add_user(engine: Any, settings: Any, *, name: str, role: str, password: str, display_name: str = "",
             unit_id: str | None = None, now: dt.datetime) -> WebUser:
    if not NAME_RE.match(name):
        raise AccountError("登录名只能用字母、数字、点、下划线和连字符（2–60个）")
    if role not in ROLES:
        raise AccountError(f"角色应为 {'、'.join(ROLES)}")
    if role == "liaison":
        u = settings.unit(unit_id) if unit_id else None
        if u is None:
            raise AccountError("联络员必须用 --unit 指定所属单位（units.toml 中的 id 或名称）")
        unit_id = u.id
    elif unit_id:
        u = settings.unit(unit_id)
        if u is None:
            raise AccountError(f"单位 {unit_id!r} 不存在")
        unit_id = u.id
    pw = hash_password(password)
    with transaction(engine) as s:
        if s.exec(select(WebUser).where(WebUser.name == name)).first() is not None:
            raise AccountError(f"用户 {name} 已存在")
        user = WebUser(name=name, display_name=display_name or name, role=role, unit_id=unit_id, password_hash=pw,
                       created_at=now, password_changed_at=now)
        s.add(user)
        from responder import audit

        audit.record(s, at=now, kind="web.user_added", subject=f"web_user:{name}",
                     data={"role": role, "unit": unit_id, "display_name": user.display_name})
        return user


def set_password(engine: Any, name: str, password: str, *, now: dt.datetime) -> None:
    pw = hash_password(password)
    with transaction(engine) as s:
        user = _get(s, name)
        user.password_hash, user.password_changed_at, user.disabled = pw, now, False
        s.add(user)
        from responder import audit

        audit.record(s, at=now, kind="web.password_set", subject=f"web_user:{name}")


def disable_user(engine: Any, name: str, *, now: dt.datetime) -> None:
    with transaction(engine) as s:
        user = _get(s, name)
        user.disabled, user.password_changed_at = True, now
        s.add(user)
        from responder import audit

        audit.record(s, at=now, kind="web.user_disabled", subject=f"web_user:{name}")


def list_users(engine: Any) -> list[WebUser]:
    with Session(engine) as s:
        return list(s.exec(select(WebUser).order_by(WebUser.name)).all())


def _get(s: Session, name: str) -> WebUser:
    user = s.exec(select(WebUser).where(WebUser.name == name)).first()
    if user is None:
        raise AccountError(f"用户 {name} 不存在")
    return user


def load_person(engine: Any, user_id: int | None = None, *, name: str | None = None) -> Person | None:
    """The active account by id or name, or None (unknown or disabled)."""
    with Session(engine) as s:
        u = s.get(WebUser, user_id) if user_id is not None else s.exec(select(WebUser).where(WebUser.name == name)).first()
        return None if u is None or u.disabled else person_of(u)


# ---------------------------------------------------------------- login


def login(engine: Any, web: Any, *, name: str, password: str, address: str, now: dt.datetime) -> Person:
    """Check a password under the rate limit; every attempt is recorded, refused ones too.

    The limit counts failures per login name and per client address within the
    window (both in the database), so waiting out a restart does not reset it.
    """
    since = now - dt.timedelta(minutes=web.login_window_minutes)
    name = name.strip()[:60]
    limited, person = False, None
    with transaction(engine) as s:
        by_name = s.exec(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.name == name, LoginAttempt.ok.is_(False), LoginAttempt.at >= since)).one()
        by_addr = s.exec(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.address == address, LoginAttempt.ok.is_(False), LoginAttempt.at >= since)).one()
        limited = by_name >= web.login_max_failures or by_addr >= web.login_max_failures * 4
        user = None if limited else s.exec(select(WebUser).where(WebUser.name == name)).first()
        ok = False
        if not limited:
            try:
                ok = bool(_hasher.verify(user.password_hash if user else _DUMMY_HASH, password)) and user is not None
            except (VerificationError, InvalidHashError):
                ok = False
            ok = ok and not user.disabled
        s.add(LoginAttempt(at=now, name=name, address=address[:64], ok=ok))
        if ok:
            user.last_login_at = now
            s.add(user)
            person = person_of(user)
    if limited:
        raise AccountError(f"登录失败次数过多，请 {web.login_window_minutes} 分钟后再试")
    if person is None:
        raise AccountError("用户名或密码不正确")
    return person
