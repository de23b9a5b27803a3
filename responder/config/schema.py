"""What a configuration looks like: the sections of ``responder.toml`` and the validated :class:`Settings`.

Every model forbids unknown keys and is frozen, so a typo is refused at load
and nothing changes a configuration once it is in use.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from responder.config.notify import NotifyConfig
from responder.config.sources import SourceConfig
from responder.data import Domain, Unit


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
    """The operator console: see responder/web and docs/console.md."""

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
    """Per contact role, the one thing the link in an escalation message does (``off``: no link)."""
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
