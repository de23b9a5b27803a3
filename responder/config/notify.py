"""Configuration of notification channels: e-mail, SMS providers, group robots, limits.

Secrets are never values here: a ``*_secret`` key names a secret that comes from
the environment (``RESPONDER_<NAME>``) or from ``$CREDENTIALS_DIRECTORY/<name>``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
    reuse_connection: bool = True
    """Keep one SMTP connection open for a dispatch batch (QUIT at the end of the batch)."""
    connections: int = Field(default=4, ge=1, le=32)
    """SMTP connections used at once: one stalled message does not hold the others back (issue 13)."""


class SmsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    provider: Literal["aliyun", "tencent", "http", "cmcc_mas", "none"] = "none"
    endpoint: str | None = None
    """Override the provider's endpoint (tests, private deployments); required for ``http``."""
    sign_name: str = ""
    access_key_id_secret: str | None = None
    access_key_secret_secret: str | None = None
    sdk_app_id: str | None = None
    region: str = "ap-guangzhou"
    ec_name: str = ""
    """云MAS (cmcc_mas): 企业/集团名称 as registered; ``sign_name`` holds the 签名编码 and
    ``access_key_secret_secret`` names the secret holding the interface password (secretKey)."""
    ap_id: str = ""
    """云MAS: the interface account (接口账号), not the web login."""
    add_serial: str = ""
    """云MAS: extension code; empty for an exact-match service code."""
    templates: dict[str, str] = Field(default_factory=dict)
    """Message kind → the provider's approved template code/id."""
    param_max_len: int = Field(default=35, ge=1)
    """Longest value a template parameter may carry at this provider."""
    link_param: str = Field(default="link", max_length=40)
    """Issue 17: the ``params.toml`` parameter (the registered template's variable) that carries the link's
    token; the template text holds ``<public_url>/l/`` before it. A kind whose table lacks it sends no link
    (``check-config`` warns when links are on). ``""``: no template carries a link."""
    code_param: str = Field(default="code", max_length=40)
    """Issue 17: the parameter that carries the case's reply code (``回复${code}签收``); as ``link_param``."""
    timeout: float = Field(default=10.0, gt=0)
    # generic HTTP gateway
    method: Literal["GET", "POST"] = "POST"
    body: Literal["form", "json"] = "json"
    fields: dict[str, str] = Field(default_factory=dict)
    """Gateway request fields, each a Jinja2 expression over phone/text/key/template/params."""
    token_secret: str | None = None
    success_path: str = ""
    """Dotted path into the gateway's JSON answer whose value means success (e.g. ``rspcod``)."""
    success_value: str = ""
    code_path: str = ""
    """Dotted path of the error code in a non-success answer (defaults to success_path)."""
    id_path: str = ""
    """Dotted path of the gateway's message id (e.g. ``msgGroup``)."""
    throttle_codes: list[str] = Field(default_factory=list)
    """Gateway codes meaning "too fast": retried after a pause, never counted as a failure of the number."""
    permanent_codes: list[str] = Field(default_factory=list)
    """Gateway codes meaning retrying cannot help (bad number, blocked content): escalated at once."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers, each a Jinja2 template over the same variables as ``fields``."""
    idempotent: bool = False
    """The gateway drops a second request carrying the same ``key``: a resend after a crash is harmless."""
    # template providers
    signature: Literal["v3", "v1"] = "v3"
    """Alibaba request signature: V3 (ACS3-HMAC-SHA256, recommended by Alibaba) or RPC v1 (HMAC-SHA1)."""
    query_after_crash: bool = True
    """Ask the provider (QuerySendDetails / PullSmsSendStatusByPhoneNumber) before resending an unknown outcome."""
    text_max_len: int = Field(default=300, ge=10)
    """Longest free text sent through the HTTP gateway (characters, signature included)."""


class LimitsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sms_per_window: int = Field(default=5, ge=1)
    window_minutes: int = Field(default=15, ge=1)
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_seconds: float = Field(default=30.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
    digest_window_seconds: int = Field(default=60, ge=0)
    """Non-urgent messages to one person due within this window are folded into one digest."""
    sms_provider_per_minute: int = Field(default=0, ge=0)
    """All SMS together per minute (the account's quota); 0 means no limit of our own."""
    jitter: float = Field(default=0.2, ge=0, le=1)
    """Backoff jitter as a fraction of the delay (spreads retries after an outage)."""
    lease_seconds: int = Field(default=300, ge=10)
    """How long a claim on a row lasts; an expired ``sending`` row is treated as a crash."""
    concurrency: int = Field(default=8, ge=1)
    """Sends in flight at once per channel (SMTP is always one at a time per connection)."""


class RobotConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    kind: Literal["wecom", "dingtalk", "none"] = "none"
    webhook_secret: str | None = None
    """Names the secret holding the full webhook URL (WeCom key / DingTalk access_token inside)."""
    sign_secret: str | None = None
    """DingTalk 加签 secret (``SEC…``), when the robot has signing turned on."""
    timeout: float = Field(default=10.0, gt=0)


class RepliesConfig(BaseModel):
    """Issue 17: a per-case code at the end of escalation SMS ("回复 4821 签收") and the providers' reply pushes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    token_secret: str = "sms_reply_token"
    """Secret that must be the ``token`` query parameter of ``POST /sms/replies/<provider>`` (the reply URL
    registered with the provider carries it: the providers do not sign their reply pushes)."""
    per_hour: int = Field(default=10, ge=1)
    """Replies from one number per hour that are acted on; more are recorded as throttled."""
    aliyun_queue: str = ""
    """Alibaba pull mode (sites that cannot receive the HTTP push): the SmsUp queue the SMS console names
    (``Alicom-Queue-<uid>-SmsUp``); set, the service takes replies from it with the keys of ``[notify.sms]``."""
    aliyun_mns_endpoint: str = "https://1943695596114318.mns.cn-hangzhou.aliyuncs.com/"
    """Where Alibaba keeps the SMS reply queues (fixed by Alibaba; override for tests or a VPC endpoint)."""
    aliyun_token_endpoint: str = "https://dybaseapi.aliyuncs.com/"
    """Dybaseapi, which hands out the queue's temporary key (QueryTokenForMnsQueue)."""
    pull_interval_seconds: int = Field(default=30, ge=5, le=3600)
    """A pass every this many seconds (a reply's 签收 waits at most this plus the long poll)."""
    pull_wait_seconds: int = Field(default=10, ge=0, le=30)
    """MNS long polling: how long one ReceiveMessage waits for a message (MNS allows 0–30)."""
    pull_batch: int = Field(default=50, ge=1, le=1000)
    """Messages taken in one pass at most (the rest wait for the next pass)."""


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: list[Literal["sms", "email", "robot"]] = Field(default_factory=lambda: ["sms", "email"])
    quiet_hours: str | None = "22:00-07:30"
    """Beijing time; non-urgent (48-hour) reminders wait until it ends. 5-hour and overdue never wait."""
    email: EmailConfig = Field(default_factory=EmailConfig)
    sms: SmsConfig = Field(default_factory=SmsConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    quiet_channels: list[Literal["sms", "email", "robot"]] = Field(default_factory=lambda: ["sms"])
    """Channels whose non-urgent messages wait out the quiet hours (an e-mail does not ring at night)."""
    robot: RobotConfig = Field(default_factory=RobotConfig)
    replies: RepliesConfig = Field(default_factory=RepliesConfig)
    bundle: bool = True
    """Issue 17: urgent case messages to one person go as one SMS / one e-mail listing the cases."""
    bundle_window_s: int = Field(default=60, ge=0, le=600)
    """How long an urgent step may wait for others to the same person (a new 5-hour case's first alert never waits)."""
    bundle_repeat_s: int = Field(default=7200, ge=0, le=7200)
    """Repeats of overdue cases wait for the person's next bundle, at most this long after the last one. Default and
    maximum: the urgent ladder's repeat interval (``every_s = 7200``, config/policies.toml), so with any number of
    overdue cases a person gets one SMS per interval that repeats them all, as they got for one case."""

    @model_validator(mode="after")
    def _bundle_timers(self) -> NotifyConfig:
        if self.bundle_repeat_s and self.bundle_repeat_s < self.bundle_window_s:
            raise ValueError(f"bundle_repeat_s ({self.bundle_repeat_s}) must be at least bundle_window_s "
                             f"({self.bundle_window_s}) or 0")
        return self


def channel_on(notify: NotifyConfig, channel: str) -> bool:
    """The one rule for "is this channel on?": listed in ``channels``, enabled, and given a provider.

    The engine asks it before enqueueing, the dispatcher before sending, the
    loader before demanding secrets and the weekly report before mailing: a
    channel that is off gets no rows at all (not rows that are then cancelled).
    """
    if channel not in notify.channels:
        return False
    if channel == "email":
        return notify.email.enabled
    if channel == "sms":
        return notify.sms.enabled and notify.sms.provider != "none"
    if channel == "robot":
        return notify.robot.enabled and notify.robot.kind != "none"
    return False


def channels_on(notify: NotifyConfig) -> list[str]:
    """The channels messages go to, in the configured order."""
    return [c for c in notify.channels if channel_on(notify, c)]
