"""Configuration of notification channels (owned by the notification capability, issue 6).

Secrets are never values here: a ``*_secret`` key names a secret that comes from
the environment (``RESPONDER_<NAME>``) or from ``$CREDENTIALS_DIRECTORY/<name>``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EmailConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=465, ge=1, le=65535)
    security: Literal["ssl", "starttls", "plain"] = "ssl"
    username: str | None = None
    password_secret: str | None = None
    from_addr: str = "responder@localhost"
    from_name: str = "舆情回应提醒"
    timeout: float = Field(default=20.0, gt=0)
    message_id_domain: str = "responder.local"
    ca_file: str | None = None
    """Extra CA bundle (PEM) to trust, e.g. for a government mail server with a private CA."""


class SmsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    provider: Literal["aliyun", "tencent", "http", "none"] = "none"
    endpoint: str | None = None
    """Override the provider's endpoint (tests, private deployments); required for ``http``."""
    sign_name: str = ""
    access_key_id_secret: str | None = None
    access_key_secret_secret: str | None = None
    sdk_app_id: str | None = None
    region: str = "ap-guangzhou"
    templates: dict[str, str] = Field(default_factory=dict)
    """Message kind → the provider's approved template code/id."""
    param_max_len: int = Field(default=35, ge=1)
    """Longest value a template parameter may carry at this provider."""
    timeout: float = Field(default=10.0, gt=0)
    # generic HTTP gateway
    method: Literal["GET", "POST"] = "POST"
    body: Literal["form", "json"] = "json"
    fields: dict[str, str] = Field(default_factory=dict)
    """Gateway request fields, each a Jinja2 expression over phone/text/key/template/params."""
    token_secret: str | None = None
    success_path: str = ""
    success_value: str = ""


class LimitsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sms_per_window: int = Field(default=5, ge=1)
    window_minutes: int = Field(default=15, ge=1)
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_seconds: float = Field(default=30.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
    digest_window_seconds: int = Field(default=60, ge=0)
    """Non-urgent messages to one person due within this window are folded into one digest."""


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: list[Literal["sms", "email", "robot"]] = Field(default_factory=lambda: ["sms", "email"])
    quiet_hours: str | None = "22:00-07:30"
    """Beijing time; non-urgent (48-hour) reminders wait until it ends. 5-hour and overdue never wait."""
    email: EmailConfig = Field(default_factory=EmailConfig)
    sms: SmsConfig = Field(default_factory=SmsConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
