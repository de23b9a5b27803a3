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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from responder.config_notify import NotifyConfig
from responder.config_sources import SourceConfig
from responder.data import DataError, Domain, Unit, check_domains_against_units, load_domains, load_units


class ConfigError(Exception):
    """The configuration cannot be used. ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    county: str = "石台县"
    office_unit: str = "office"
    """Unit id of the county openness office (县政务公开办): receives summaries and failures."""
    state_dir: str = "var"
    """Relative to the config file; ``$STATE_DIRECTORY`` (systemd StateDirectory=) wins when set."""
    archive_dir: str = "archive"
    """Relative to state_dir: weekly logs are written here."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"
    metrics_port: int = Field(default=0, ge=0, le=65535)
    """Prometheus text endpoint on 127.0.0.1; 0 disables it."""
    metrics_host: str = "127.0.0.1"
    public_base_url: str = ""
    """Shown in messages as a link to the case, when set."""


class DatabaseConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = "sqlite:///responder.db"
    """SQLite (relative paths live under state_dir) or postgresql://…"""
    password_secret: str | None = None


class DataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    domains: str = "domains.toml"
    units: str = "units.toml"
    plan: str = "plan.toml"
    thresholds: str = "thresholds.toml"
    routing: str = "routing.toml"
    policies: str = "policies.toml"
    gazetteer: str = "gazetteer.toml"
    templates: str = "../templates"


class ScheduleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    weekly_report: str = "mon 08:30"
    """Beijing time: day-of-week and HH:MM of the weekly compliance log."""
    safety_tick_seconds: int = Field(default=60, ge=5)
    dispatch_interval_seconds: int = Field(default=5, ge=1)
    self_check_seconds: int = Field(default=300, ge=10)


class ReportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    recipients: list[str] = Field(default_factory=lambda: ["office:principal", "office:deputy"])
    """Contact keys ``unit:role`` that receive the weekly log by e-mail."""
    formats: list[Literal["html", "csv", "md", "xlsx"]] = Field(default_factory=lambda: ["html", "csv", "md"])
    ledger_recipients: list[str] | None = None
    """Contact keys ``unit:role`` that receive the monthly response ledger (回应台账); None: ``recipients``."""
    ledger_formats: list[Literal["xlsx", "csv", "html", "json"]] = Field(default_factory=lambda: ["xlsx", "html"])
    ledger_at: str = "1 08:30"
    """Beijing time: day of the month (1–28) and HH:MM when last month's ledger is archived and e-mailed."""


class WebConfig(BaseModel):
    """The operator console (issue 16): see responder/web and docs/console.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    listen: str = ""
    """``host:port``; when set, ``responder run`` serves the console too. ``responder web`` defaults to 127.0.0.1:8080."""
    secret_key_secret: str = "web_secret_key"
    """Secret that signs session cookies; unset: a random key per process (sessions end at restart)."""
    public_url: str = ""
    """The console's address as people reach it (links in messages)."""
    cookie_secure: bool = False
    """Send the session cookie only over HTTPS (set it behind a TLS reverse proxy)."""
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses of reverse proxies whose ``proxy_user_header`` names the user; empty: header ignored."""
    proxy_user_header: str = "X-Remote-User"
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    links: dict[str, Literal["ack", "release", "off"]] = Field(
        default_factory=lambda: {"liaison": "release", "deputy": "ack", "principal": "ack"})
    """Issue 17: per contact role, the one thing the link in an escalation message does (``off``: no link)."""
    link_hours: int = Field(default=72, ge=1, le=24 * 30)
    """A link expires this long after it was sent, or when its case closes, whichever is first."""

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        host, sep, port = v.rpartition(":")
        if v and (not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535):
            raise ValueError("expected host:port, e.g. 127.0.0.1:8080")
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: list[str]) -> list[str]:
        import ipaddress

        for p in v:
            ipaddress.ip_network(p, strict=False)  # ValueError names the bad address
        return v


class FileConfig(BaseModel):
    """The top level of ``responder.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: ServiceConfig = Field(default_factory=ServiceConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    source: list[SourceConfig] = Field(default_factory=list)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    web: WebConfig = Field(default_factory=WebConfig)

    @field_validator("source")
    @classmethod
    def _unique_sources(cls, v: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for s in v:
            if s.name in seen:
                raise ValueError(f"source name {s.name!r} is used twice")
            seen.add(s.name)
        return v


@dataclass(frozen=True)
class Settings:
    """A validated configuration: the file's values, resolved paths, data, and secrets."""

    path: Path
    file: FileConfig
    state_dir: Path
    archive_dir: Path
    database_url: str
    data_paths: dict[str, Path]
    domains: tuple[Domain, ...]
    units: tuple[Unit, ...]
    secrets: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def unit(self, key: str) -> Unit | None:
        """Find a unit by id or by name (operators type either)."""
        for u in self.units:
            if u.id == key or u.name == key:
                return u
        return None

    def secret(self, name: str | None) -> str | None:
        return self.secrets.get(name) if name else None

    @property
    def office(self) -> Unit:
        u = self.unit(self.file.service.office_unit)
        assert u is not None  # validated at load
        return u


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
    if "email" in cfg.notify.channels and cfg.notify.email.enabled:
        refs += _secret_refs(cfg.notify.email, "notify.email.")
    if "sms" in cfg.notify.channels and cfg.notify.sms.enabled and cfg.notify.sms.provider != "none":
        refs += _secret_refs(cfg.notify.sms, "notify.sms.")
    if "robot" in cfg.notify.channels:
        refs += _secret_refs(cfg.notify.robot, "notify.robot.")
    if cfg.notify.replies.enabled:  # issue 17: the secret in the providers' reply URL
        refs += _secret_refs(cfg.notify.replies, "notify.replies.")
    for i, src in enumerate(cfg.source):  # issue 17: a pushed source's token or HMAC key
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
    return Path(__file__).resolve().parent.parent / "config"


def resolve_state_dir(path: Path, service: ServiceConfig, environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("STATE_DIRECTORY"):
        # systemd may pass several, colon-separated; the first is ours.
        return Path(env["STATE_DIRECTORY"].split(":")[0])
    p = Path(service.state_dir)
    return p if p.is_absolute() else (path.parent / p).resolve()


Validator = Any  # Callable[[Settings], list[str]]
EXTRA_VALIDATORS: list[tuple[str, Validator]] = []
"""Capability checks run by :func:`load` after the core ones: (name, fn(settings) -> problems)."""


def register_validator(name: str, fn: Validator) -> None:
    """Capabilities register their data-file checks here (thresholds, policies, plan, templates)."""
    if all(n != name for n, _ in EXTRA_VALIDATORS):
        EXTRA_VALIDATORS.append((name, fn))


def load(path: str | Path, *, environ: dict[str, str] | None = None, require_secrets: bool = True,
         deep: bool = True) -> Settings:
    """Load and validate everything; raise :class:`ConfigError` listing every problem found."""
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
    from responder.db import normalise_url

    settings = Settings(
        path=path, file=cfg, state_dir=state_dir, archive_dir=state_dir / cfg.service.archive_dir,
        database_url=normalise_url(cfg.database.url, state_dir), data_paths=data_paths,
        domains=domains, units=units, secrets=secrets,
    )
    if deep and not problems:
        _load_capability_validators()
        for name, fn in EXTRA_VALIDATORS:
            try:
                problems.extend(fn(settings))
            except Exception as exc:  # a validator must not hide the others
                problems.append(f"{path}: {name}: {exc}")
    if problems:
        raise ConfigError(problems)
    return settings


def _load_capability_validators() -> None:
    """Import the modules that register validators (kept lazy: start-up cost, import cycles)."""
    import importlib

    for mod in ("responder.validators",):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
