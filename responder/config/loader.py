"""Loading and validating the configuration: one TOML file plus the data files it names.

The service refuses to start half-configured. Every problem becomes one line
that names the file, the key and what is wrong (``ConfigError``); an unknown
key gets a "did you mean" from the known ones. Secrets never live in the TOML:
a ``*_secret`` key names a secret read from ``RESPONDER_<NAME>`` or from
``$CREDENTIALS_DIRECTORY/<name>`` (systemd ``LoadCredential=``).

This is the only module that reads configuration files and the environment.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from responder.config.notify import channels_on
from responder.config.schema import DataConfig, FileConfig, ServiceConfig, Settings
from responder.data import DataError, Domain, Unit, check_domains_against_units, load_domains, load_units
from responder.db import normalise_url


SUPPORTED_DATABASES = (("sqlite", "pysqlite"), ("postgresql", "psycopg"))
"""The two databases the suite runs on (tests/conftest.py); anything else would fail only at start."""


class ConfigError(Exception):
    """The configuration cannot be used. ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# ---------------------------------------------------------------- errors


def _loc(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """Render a pydantic location as a TOML key path, naming array entries by their ``name``."""
    parts: list[str] = []
    node: Any = raw
    for p in loc:
        if isinstance(p, int):
            label = f"[{p}]"
            if isinstance(node, list) and p < len(node) and isinstance(node[p], dict) and "name" in node[p]:
                label = f"[{p}] ({node[p]['name']})"
            parts.append(label)
            node = node[p] if isinstance(node, list) and p < len(node) else None
        else:
            parts.append(("." if parts else "") + str(p))
            node = node.get(p) if isinstance(node, dict) else None
    return "".join(parts)


def _model_for(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: Any = FileConfig
    for p in loc:
        if isinstance(p, int):
            continue
        f = getattr(model, "model_fields", {}).get(p)
        if f is None:
            return None
        ann = f.annotation
        args = getattr(ann, "__args__", ())
        cand = [a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        model = cand[0] if cand else None
        if model is None:
            return None
    return model


def format_validation_error(path: Path, exc: ValidationError, raw: dict[str, Any]) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = _loc(loc, raw)
        if err["type"] == "extra_forbidden":
            parent = _model_for(loc[:-1])
            hint = ""
            if parent is not None:
                close = difflib.get_close_matches(str(loc[-1]), list(parent.model_fields), n=1)
                if close:
                    hint = f" (did you mean {close[0]!r}?)"
                else:
                    hint = f" (known keys: {', '.join(parent.model_fields)})"
            problems.append(f"{path}: {key}: unknown key{hint}")
        elif err["type"] == "missing":
            problems.append(f"{path}: {key}: required key is missing")
        else:
            got = err.get("input")
            shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
            problems.append(f"{path}: {key}: {err['msg']}{shown}")
    return problems


# ---------------------------------------------------------------- secrets


def read_secret(name: str, environ: dict[str, str] | None = None) -> str | None:
    """``RESPONDER_<NAME>`` from the environment, else ``$CREDENTIALS_DIRECTORY/<name>``."""
    env = os.environ if environ is None else environ
    var = "RESPONDER_" + name.upper().replace("-", "_").replace(".", "_")
    if env.get(var):
        return env[var]
    cred_dir = env.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        p = Path(cred_dir) / name
        if p.is_file():
            return p.read_text(encoding="utf-8").strip()
    return None


def _secret_refs(model: BaseModel, prefix: str = "") -> list[tuple[str, str]]:
    """All (key path, secret name) pairs of enabled sections."""
    out: list[tuple[str, str]] = []
    if getattr(model, "enabled", True) is False:
        return out
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            out.extend(_secret_refs(value, key + "."))
        elif name.endswith("_secret") and isinstance(value, str) and value:
            out.append((key, value))
    return out


def _required_secret_refs(cfg: FileConfig) -> list[tuple[str, str]]:
    refs = _secret_refs(cfg.database, "database.")
    for channel in channels_on(cfg.notify):
        refs += _secret_refs(getattr(cfg.notify, channel), f"notify.{channel}.")
    if cfg.notify.replies.enabled:  # the secret in the providers' reply URL
        refs += _secret_refs(cfg.notify.replies, "notify.replies.")
    for i, src in enumerate(cfg.source):  # a pushed source's token or HMAC key
        if src.enabled and src.push is not None:
            refs += _secret_refs(src.push, f"source[{i}] ({src.name}).push.")
    return refs


# ---------------------------------------------------------------- loading


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError([f"{path}: configuration file not found (use -c PATH or $RESPONDER_CONFIG)"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None


def _parse(path: Path) -> tuple[FileConfig, dict[str, Any]]:
    raw = _read_toml(path)
    try:
        return FileConfig.model_validate(raw), raw
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc, raw)) from None


def _data_paths(path: Path, data: DataConfig) -> dict[str, Path]:
    base = path.parent
    return {k: (base / v).resolve() for k, v in data.model_dump().items()}


def read_data_paths(path: str | Path) -> dict[str, Path]:
    """Only the data-file paths (for commands such as ``classify`` that need nothing else).

    Falls back to the shipped ``config/`` directory when no configuration file exists.
    """
    path = Path(path)
    if not path.exists():
        return _data_paths(shipped_config_dir() / "responder.toml", DataConfig())
    cfg, _ = _parse(path)
    return _data_paths(path, cfg.data)


def shipped_config_dir() -> Path:
    """The repository's ``config/`` directory (source checkout / editable install)."""
    return Path(__file__).resolve().parents[2] / "config"


def resolve_state_dir(path: Path, service: ServiceConfig, environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("STATE_DIRECTORY"):
        # systemd may pass several, colon-separated; the first is ours.
        return Path(env["STATE_DIRECTORY"].split(":")[0])
    p = Path(service.state_dir)
    return p if p.is_absolute() else (path.parent / p).resolve()


def load(path: str | Path, *, environ: dict[str, str] | None = None, require_secrets: bool = True) -> Settings:
    """Load the file and the data every command needs; raise :class:`ConfigError` listing every problem found.

    The checks that need the rest of the service (policies, classifier, templates,
    plan) are not run here: ``responder.service.checks.load_checked`` runs them for
    ``check-config``, the service's start and its reload.
    """
    path = Path(path)
    cfg, _raw = _parse(path)
    problems: list[str] = []
    data_paths = _data_paths(path, cfg.data)

    domains: tuple[Domain, ...] = ()
    units: tuple[Unit, ...] = ()
    try:
        domains = load_domains(data_paths["domains"])
    except DataError as exc:
        problems.append(f"{path}: data.domains: {exc}")
    try:
        units = load_units(data_paths["units"])
    except DataError as exc:
        problems.append(f"{path}: data.units: {exc}")
    if domains and units:
        try:
            check_domains_against_units(domains, units, f"{path}: data.domains")
        except DataError as exc:
            problems.append(str(exc))
    unit_ids = {u.id for u in units}
    if units and cfg.service.office_unit not in unit_ids:
        problems.append(f"{path}: service.office_unit: unit {cfg.service.office_unit!r} does not exist in {data_paths['units']}")
    if units:
        contact_keys = {c.key for u in units for c in u.contacts}
        for i, r in enumerate(cfg.report.recipients):
            if r not in contact_keys:
                problems.append(f"{path}: report.recipients[{i}]: contact {r!r} does not exist (expected unit:role, e.g. office:principal)")

    secrets: dict[str, str] = {}
    for key, name in _required_secret_refs(cfg):
        value = read_secret(name, environ)
        if value is None:
            if require_secrets:
                var = "RESPONDER_" + name.upper().replace("-", "_").replace(".", "_")
                problems.append(f"{path}: {key}: secret {name!r} is not set (set ${var} or provide it as a systemd credential named {name!r})")
        else:
            secrets[name] = value

    state_dir = resolve_state_dir(path, cfg.service, environ)
    database_url = ""
    try:
        database_url = normalise_url(cfg.database.url, state_dir)
    except ArgumentError:
        problems.append(f"{path}: database.url: {cfg.database.url!r} is not a database URL "
                        "(expected sqlite:///PATH or postgresql://USER@HOST/NAME)")
    else:
        u = make_url(database_url)
        if (u.get_backend_name(), u.get_driver_name()) not in SUPPORTED_DATABASES:
            problems.append(f"{path}: database.url: {u.drivername!r} is not supported "
                            "(responder runs on SQLite or on PostgreSQL through psycopg 3: sqlite:///… or postgresql://…)")
    settings = Settings(
        path=path, file=cfg, state_dir=state_dir, archive_dir=state_dir / cfg.service.archive_dir,
        database_url=database_url, data_paths=data_paths,
        domains=domains, units=units, secrets=secrets,
    )
    if problems:
        raise ConfigError(problems)
    return settings

