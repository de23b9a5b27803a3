"""Shipped data files written from the seed: openness domains (附件2) and units.

Pure loaders: they take a path, return frozen values, and raise
:class:`DataError` naming the file, the entry and what is wrong. The
configuration loader (``responder.config``) calls them and folds their errors
into its own messages.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
"""Mainland China mobile numbers: 11 digits starting 13–19 (no +86 prefix stored)."""

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

RELEASE_KINDS = ("权威发布", "新闻发布会", "吹风会", "媒体采访", "回应")
"""What can stop a clock (rules.md §1.5: AUTHORITATIVE_INFO, PRESS_CONFERENCE, BRIEFING, MEDIA_INTERVIEW, plus 回应)."""

ROLES = ("liaison", "deputy", "principal")
"""Contact roles named by the seed: 联络员, 分管负责同志, 主要负责同志."""

ROLE_NAMES = {"liaison": "联络员", "deputy": "分管负责同志", "principal": "主要负责同志"}


class DataError(ValueError):
    """A shipped or operator data file is wrong; the message names file, entry and problem."""


@dataclass(frozen=True)
class Domain:
    no: int
    name: str
    departments: tuple[str, ...]
    """Lead department first, cooperating departments after it."""
    mark: str = ""
    merged: bool = False
    """True when the seed left the cell blank and the department continues the row above."""

    @property
    def lead(self) -> str:
        return self.departments[0]


@dataclass(frozen=True)
class Contact:
    unit_id: str
    role: str
    name: str
    phone: str | None
    email: str | None

    @property
    def key(self) -> str:
        """Stable identity used in outbox keys and digests: ``unit:role``."""
        return f"{self.unit_id}:{self.role}"


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: str  # office | department | township
    contacts: tuple[Contact, ...] = field(default=())
    upper: str | None = None

    def contact(self, role: str) -> Contact | None:
        for c in self.contacts:
            if c.role == role:
                return c
        return None


def normalise_phone(raw: str) -> str:
    """Strip spaces, dashes and a +86/0086/86 prefix; the result must match :data:`MOBILE_RE`."""
    s = re.sub(r"[\s\-]", "", raw)
    for prefix in ("+86", "0086"):
        if s.startswith(prefix):
            s = s[len(prefix):]
    if len(s) == 13 and s.startswith("86"):
        s = s[2:]
    return s


def read_toml(path: Path, error: type[DataError] = DataError, what: str = "file") -> dict:
    """Read a data file, turning a missing file or bad TOML into ``error`` naming the file."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


_read = read_toml


def load_domains(path: str | Path) -> tuple[Domain, ...]:
    """Load 附件2, resolving the seed's merged cells (blank = same as the row above)."""
    path = Path(path)
    rows = _read(path).get("domain")
    if not isinstance(rows, list) or not rows:
        raise DataError(f"{path}: expected [[domain]] tables")
    out: list[Domain] = []
    previous: tuple[str, ...] = ()
    seen: set[str] = set()
    for i, row in enumerate(rows, 1):
        where = f"{path}: domain #{i}"
        unknown = set(row) - {"no", "name", "departments", "mark"}
        if unknown:
            raise DataError(f"{where}: unknown key(s) {sorted(unknown)}")
        name = row.get("name")
        if not isinstance(name, str) or not name:
            raise DataError(f"{where}: `name` must be a non-empty string")
        if name in seen:
            raise DataError(f"{where}: domain {name!r} listed twice")
        seen.add(name)
        deps = row.get("departments", [])
        if not isinstance(deps, list) or not all(isinstance(d, str) and d for d in deps):
            raise DataError(f"{where} ({name}): `departments` must be a list of names")
        merged = not deps
        if merged:
            if not previous:
                raise DataError(f"{where} ({name}): blank departments on the first row (nothing above to continue)")
            deps = list(previous)
        previous = tuple(deps)
        out.append(Domain(no=int(row.get("no", i)), name=name, departments=tuple(deps),
                          mark=str(row.get("mark", "")), merged=merged))
    return tuple(out)


def load_units(path: str | Path) -> tuple[Unit, ...]:
    """Load units and their contacts, validating phones and e-mail addresses."""
    path = Path(path)
    rows = _read(path).get("unit")
    if not isinstance(rows, list) or not rows:
        raise DataError(f"{path}: expected [[unit]] tables")
    units: list[Unit] = []
    ids: set[str] = set()
    names: set[str] = set()
    for i, row in enumerate(rows, 1):
        uid = row.get("id")
        where = f"{path}: unit #{i}" + (f" ({uid})" if uid else "")
        unknown = set(row) - {"id", "name", "kind", "contact", "upper"}
        if unknown:
            raise DataError(f"{where}: unknown key(s) {sorted(unknown)}")
        if not isinstance(uid, str) or not re.fullmatch(r"[a-z][a-z0-9_-]*", uid):
            raise DataError(f"{where}: `id` must be a lower-case ASCII slug")
        name = row.get("name")
        if not isinstance(name, str) or not name:
            raise DataError(f"{where}: `name` must be a non-empty string")
        kind = row.get("kind")
        if kind not in ("office", "department", "township"):
            raise DataError(f"{where}: `kind` must be office, department or township, not {kind!r}")
        if uid in ids or name in names:
            raise DataError(f"{where}: unit listed twice")
        ids.add(uid)
        names.add(name)
        contacts = []
        for j, c in enumerate(row.get("contact", []), 1):
            cw = f"{where}: contact #{j}"
            unknown = set(c) - {"role", "name", "phone", "email"}
            if unknown:
                raise DataError(f"{cw}: unknown key(s) {sorted(unknown)}")
            role = c.get("role")
            if role not in ROLES:
                raise DataError(f"{cw}: `role` must be one of {', '.join(ROLES)}, not {role!r}")
            phone = c.get("phone")
            if phone is not None:
                norm = normalise_phone(str(phone))
                if not MOBILE_RE.match(norm):
                    raise DataError(f"{cw} ({role}): phone {phone!r} is not a mainland mobile number (11 digits, 13–19…)")
                phone = norm
            email = c.get("email")
            if email is not None and not EMAIL_RE.match(str(email)):
                raise DataError(f"{cw} ({role}): e-mail {email!r} is not an address")
            if phone is None and email is None:
                raise DataError(f"{cw} ({role}): needs a phone or an e-mail")
            contacts.append(Contact(unit_id=uid, role=role, name=str(c.get("name", "")), phone=phone, email=email))
        units.append(Unit(id=uid, name=name, kind=kind, contacts=tuple(contacts), upper=row.get("upper")))
    if not any(u.kind == "office" for u in units):
        raise DataError(f"{path}: no unit of kind 'office' (the county openness office receives summaries)")
    return tuple(units)


def check_domains_against_units(domains: tuple[Domain, ...], units: tuple[Unit, ...], where: str) -> None:
    """Every department named in 附件2 must exist as a unit (so a case can be routed to a person)."""
    names = {u.name for u in units}
    for d in domains:
        for dep in d.departments:
            if dep not in names:
                raise DataError(f"{where}: domain {d.name!r} names department {dep!r}, which is not a unit in the units file")
