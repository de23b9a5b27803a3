"""What a configuration looks like: the sections of ``responder.toml`` and the validated :class:`Settings`.

Every model forbids unknown keys and is frozen, so a typo is refused at load
and nothing changes a configuration once it is in use.
"""

from __future__ import annotations

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
