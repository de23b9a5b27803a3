"""Configuration checks of the notification capability, run by ``responder check-config`` and at start.

A template error must surface when the configuration is checked, not at 3 a.m.
when an overdue notice is due: every template of every kind is rendered with
sample contexts, SMS texts are held to the provider's limits, and a template
provider (Alibaba, Tencent) must have an approved template code for every kind
it may be asked to send (or a ``_generic`` one-parameter template).

The lead imports this module from ``responder/validators.py``:
``import responder.validators_notify  # noqa: F401``
"""

from __future__ import annotations

from typing import Any

from responder.config import register_validator


def check_notify(settings: Any) -> list[str]:
    from responder.channels import channel_problems, deliberately_off
    from responder.outbox import parse_quiet_hours
    from responder.render import KINDS, Renderer

    n = settings.file.notify
    where = f"{settings.path}"
    problems = [f"{where}: {p}" for p in channel_problems(settings, check_secrets=False)]  # secrets: config.load
    try:
        parse_quiet_hours(n.quiet_hours)
    except ValueError as exc:
        problems.append(f"{where}: notify.quiet_hours: {n.quiet_hours!r} is not HH:MM-HH:MM ({exc})")
    tdir = settings.data_paths.get("templates")
    if tdir is None:
        return problems
    r = Renderer.from_dir(tdir)
    sms_on = not deliberately_off(settings, "sms")
    template_provider = sms_on and n.sms.provider in ("aliyun", "tencent")
    sms_limit = n.sms.text_max_len if sms_on and n.sms.provider == "http" else 500
    param_limit = n.sms.param_max_len if template_provider else 0
    problems += [f"{tdir}: {p}" for p in r.check_all(sms_limit=sms_limit, param_limit=param_limit)]
    if template_provider:
        codes = n.sms.templates
        for kind in codes:
            if kind not in KINDS and kind != "_generic":
                problems.append(f"{where}: notify.sms.templates.{kind}: unknown message kind (known: {', '.join(KINDS)}, _generic)")
        if "_generic" not in codes:
            missing = [k for k in KINDS if k not in codes and k != "test"]
            if missing:
                problems.append(f"{where}: notify.sms.templates: no approved {n.sms.provider} template for "
                                f"{', '.join(missing)} (add their codes, or a `_generic` template with one parameter ${{text}})")
        for kind in codes:
            if kind in KINDS and kind not in r.params_spec:
                problems.append(f"{tdir}/sms/params.toml: no [{kind}] table for the parameters of template {codes[kind]}")
    return problems


register_validator("notify", check_notify)
