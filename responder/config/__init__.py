"""The configuration: the ground floor every other room reads, and which reads nothing above it.

``schema`` says what ``responder.toml`` may hold, ``notify`` and ``sources`` are
its channel and feed sections, ``loader`` reads the file, its data files and its
secrets. Checks that need the rest of the service (templates, classifier,
policies, plan) live in ``responder.service.checks``, which runs them on top of
:func:`load`; this package must never import them (tests/test_architecture.py).
"""

from __future__ import annotations

from responder.config.loader import (
    ConfigError,
    format_validation_error,
    load,
    read_data_paths,
    read_secret,
    resolve_state_dir,
    shipped_config_dir,
)
from responder.config.notify import EmailConfig, LimitsConfig, NotifyConfig, RobotConfig, SmsConfig
from responder.config.schema import (
    DatabaseConfig,
    DataConfig,
    FileConfig,
    ReportConfig,
    ScheduleConfig,
    ServiceConfig,
    Settings,
    WebConfig,
)
from responder.config.sources import JsonMapping, SourceConfig

__all__ = [
    "ConfigError", "DataConfig", "DatabaseConfig", "EmailConfig", "FileConfig", "JsonMapping", "LimitsConfig",
    "NotifyConfig", "ReportConfig", "RobotConfig", "ScheduleConfig", "ServiceConfig", "Settings", "SmsConfig",
    "SourceConfig", "WebConfig", "format_validation_error", "load", "read_data_paths", "read_secret", "resolve_state_dir",
    "shipped_config_dir",
]
