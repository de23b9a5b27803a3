"""Delivery channels: SMS (Alibaba Cloud, Tencent Cloud, a generic HTTP gateway), e-mail, group robots.

``build_channels`` is the one place that turns configuration and secrets into
channel objects; everything else sees the :class:`~responder.channels.base.Channel`
contract only.
"""

from __future__ import annotations

from typing import Any

from responder.channels.base import Channel, ChannelError, OutgoingMessage, SendResult, provider_key

__all__ = ["Channel", "ChannelError", "OutgoingMessage", "SendResult", "provider_key", "build_channels",
           "channel_problems", "deliberately_off"]


def deliberately_off(settings: Any, channel: str) -> bool:
    """The operator turned this channel off (not listed, disabled, or SMS provider ``none``)."""
    n = settings.file.notify
    if channel not in n.channels:
        return True
    if channel == "email":
        return not n.email.enabled
    if channel == "sms":
        return not n.sms.enabled or n.sms.provider == "none"
    if channel == "robot":
        return not n.robot.enabled or n.robot.kind == "none"
    return True


def channel_problems(settings: Any, *, check_secrets: bool = True) -> list[str]:
    """Why a channel the configuration turns on cannot be built (missing secrets, endpoint, app id)."""
    problems: list[str] = []
    n = settings.file.notify
    if not deliberately_off(settings, "sms"):
        s = n.sms
        if s.provider in ("aliyun", "tencent"):
            for key in ("access_key_id_secret", "access_key_secret_secret"):
                if not getattr(s, key):
                    problems.append(f"notify.sms.{key}: required for provider {s.provider!r}")
                elif check_secrets and settings.secret(getattr(s, key)) is None:
                    problems.append(f"notify.sms.{key}: secret {getattr(s, key)!r} is not set")
            if not s.sign_name:
                problems.append(f"notify.sms.sign_name: required for provider {s.provider!r} (the approved 签名)")
            if s.provider == "tencent" and not s.sdk_app_id:
                problems.append("notify.sms.sdk_app_id: required for provider 'tencent' (SmsSdkAppId)")
        if s.provider == "http" and not s.endpoint:
            problems.append("notify.sms.endpoint: required for provider 'http' (the gateway URL)")
        if s.provider == "cmcc_mas":
            for key, what in (("endpoint", "the provincial gateway URL, e.g. http://host:port/sms/norsubmit"),
                              ("ec_name", "企业名称"), ("ap_id", "接口账号"), ("sign_name", "签名编码"),
                              ("access_key_secret_secret", "the secret holding the interface password")):
                if not getattr(s, key):
                    problems.append(f"notify.sms.{key}: required for provider 'cmcc_mas' ({what})")
            if s.access_key_secret_secret and check_secrets and settings.secret(s.access_key_secret_secret) is None:
                problems.append(f"notify.sms.access_key_secret_secret: secret {s.access_key_secret_secret!r} is not set")
    if not deliberately_off(settings, "robot"):
        r = n.robot
        if not r.webhook_secret or (check_secrets and settings.secret(r.webhook_secret) is None):
            problems.append("notify.robot.webhook_secret: the webhook URL secret is not set")
    return problems


def build_channels(settings: Any, *, reuse: bool = True) -> dict[str, Channel]:
    """Channels the configuration turns on and that can be built; see :func:`channel_problems` for the rest."""
    n = settings.file.notify
    out: dict[str, Channel] = {}
    bad = " ".join(channel_problems(settings))
    if not deliberately_off(settings, "email"):
        from responder.channels.email import EmailChannel

        e = n.email
        out["email"] = EmailChannel(
            host=e.host, port=e.port, security=e.security, username=e.username,
            password=settings.secret(e.password_secret), from_addr=e.from_addr, from_name=e.from_name,
            timeout=e.timeout, message_id_domain=e.message_id_domain, ca_file=e.ca_file,
            reuse=reuse and e.reuse_connection, connections=e.connections)
    if not deliberately_off(settings, "sms") and "notify.sms" not in bad:
        s = n.sms
        if s.provider == "aliyun":
            from responder.channels.aliyun import AliyunSmsChannel

            out["sms"] = AliyunSmsChannel(
                access_key_id=settings.secret(s.access_key_id_secret), access_key_secret=settings.secret(s.access_key_secret_secret),
                sign_name=s.sign_name, endpoint=s.endpoint, signature=s.signature, timeout=s.timeout,
                param_limit=s.param_max_len, reuse=reuse, query_after_crash=s.query_after_crash)
        elif s.provider == "tencent":
            from responder.channels.tencent import TencentSmsChannel

            out["sms"] = TencentSmsChannel(
                secret_id=settings.secret(s.access_key_id_secret), secret_key=settings.secret(s.access_key_secret_secret),
                sdk_app_id=s.sdk_app_id or "", sign_name=s.sign_name, region=s.region, endpoint=s.endpoint,
                timeout=s.timeout, param_limit=s.param_max_len, reuse=reuse, query_after_crash=s.query_after_crash)
        elif s.provider == "http":
            from responder.channels.http_gateway import HttpGatewayChannel

            out["sms"] = HttpGatewayChannel(
                url=s.endpoint or "", method=s.method, body=s.body, fields=s.fields or None, headers=s.headers or None,
                token=settings.secret(s.token_secret), success_path=s.success_path, success_value=s.success_value,
                code_path=s.code_path, id_path=s.id_path, throttle_codes=s.throttle_codes,
                permanent_codes=s.permanent_codes, idempotent=s.idempotent, text_limit=s.text_max_len,
                timeout=s.timeout, reuse=reuse)
        elif s.provider == "cmcc_mas":
            from responder.channels.cmcc_mas import CmccMasChannel

            out["sms"] = CmccMasChannel(
                endpoint=s.endpoint or "", ec_name=s.ec_name, ap_id=s.ap_id,
                secret_key=settings.secret(s.access_key_secret_secret) or "", sign=s.sign_name,
                add_serial=s.add_serial, timeout=s.timeout, reuse=reuse)
    if not deliberately_off(settings, "robot") and "notify.robot" not in bad:
        from responder.channels.robot import RobotChannel

        r = n.robot
        out["robot"] = RobotChannel(kind=r.kind, webhook=settings.secret(r.webhook_secret) or "",
                                    sign_secret=settings.secret(r.sign_secret), timeout=r.timeout)
    return out
