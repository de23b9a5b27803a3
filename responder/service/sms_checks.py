"""Issue 17's SMS checks for ``check-config``: links and reply codes in provider-registered templates, and
Alibaba's reply queue (pull mode).

Alibaba and Tencent send only approved templates filled with parameters, so a link or a reply code
reaches the phone only if the registered template has a variable for it and ``templates/sms/params.toml``
fills that variable (``notify.sms.link_param`` / ``code_param``, default ``link`` / ``code``). The
provider's template text cannot be read from here; what can be checked is that the parameter, when
declared, carries exactly the token or the code (an error otherwise: the office would get a link that
cannot work), and that links and codes that are switched on can be carried (a warning otherwise: the
SMS go out without them, the e-mail still carries the link).
"""

from __future__ import annotations

from typing import Any

from responder.notify.channels import deliberately_off
from responder.notify.links import LINK_KINDS
from responder.notify.render import RenderError, Renderer, sample_contexts

SAMPLE_TOKEN = "AbCdEfGhIjK"
SAMPLE_CODE = "4821"


def _setup(settings: Any) -> tuple[Any, Renderer, list[str]] | None:
    """(sms config, renderer, ladder kinds sent with their own registered template), or None when no
    template provider is on. Kinds on ``_generic`` carry the whole text, link and code included."""
    n = settings.file.notify
    tdir = settings.data_paths.get("templates")
    if deliberately_off(settings, "sms") or n.sms.provider not in ("aliyun", "tencent") or tdir is None:
        return None
    kinds = [k for k in sorted(LINK_KINDS) if k in n.sms.templates]
    return n.sms, Renderer.from_dir(tdir), kinds


def _on(settings: Any) -> dict[str, str | None]:
    """For link and code: why it is on (for the message), or None when it is off."""
    web = settings.file.web
    roles = sorted(r for r, p in web.links.items() if p != "off")
    link = f"[web] public_url is set and links are on for {', '.join(roles)}" if web.public_url and roles else None
    code = "[notify.replies] enabled = true" if settings.file.notify.replies.enabled else None
    return {"link": link, "code": code}


def check_template_params(settings: Any) -> list[str]:
    """Errors: the link/code parameter, where declared, must render to exactly the token/code."""
    setup = _setup(settings)
    if setup is None:
        return []
    sms, r, kinds = setup
    problems = []
    if sms.link_param and sms.link_param == sms.code_param:
        problems.append(f"{settings.path}: notify.sms.link_param and code_param are both {sms.link_param!r}")
    tdir = settings.data_paths["templates"]
    for kind in kinds:
        spec = r.params_spec.get(kind, {})
        for what, name, value in (("link", sms.link_param, SAMPLE_TOKEN), ("code", sms.code_param, SAMPLE_CODE)):
            if not name or name not in spec:
                continue
            for variant, ctx in sample_contexts(kind):
                ctx = {**ctx, "link_token": SAMPLE_TOKEN, "reply_code": SAMPLE_CODE}
                try:
                    got = r.sms_params(kind, ctx).get(name)
                except RenderError:
                    continue  # check_notify names the broken parameter
                if got != value:
                    problems.append(f"{tdir}/sms/params.toml: [{kind}] {name}: must carry the {what} "
                                    f"({'{{ link_token }}' if what == 'link' else '{{ reply_code }}'}), "
                                    f"gave {got!r} for {kind} ({variant})")
                    break
    return problems


def template_param_warnings(settings: Any) -> list[str]:
    """Warnings: links/codes on but a registered template cannot carry them, or declared but off (sent empty)."""
    setup = _setup(settings)
    if setup is None:
        return []
    sms, r, kinds = setup
    on = _on(settings)
    tdir = settings.data_paths["templates"]
    out = []
    for what, name, label in (("link", sms.link_param, "links"), ("code", sms.code_param, "reply codes")):
        missing = [k for k in kinds if not name or name not in r.params_spec.get(k, {})]
        declared = [k for k in kinds if name and name in r.params_spec.get(k, {})]
        if on[what] and missing:
            out.append(f"{tdir}/sms/params.toml: {label} are on ({on[what]}) but the {sms.provider} templates of "
                       f"{', '.join(missing)} have no parameter {name or '(notify.sms.' + what + '_param is empty)'}: "
                       f"those SMS carry no {what}" + (" (the e-mail still carries the link)" if what == "link" else ""))
        if not on[what] and declared:
            out.append(f"{tdir}/sms/params.toml: {label} are off but the templates of {', '.join(declared)} declare "
                       f"parameter {name}: it is sent empty (register templates without it, or remove it)")
    generic = [k for k in sorted(LINK_KINDS) if k not in sms.templates and "_generic" in sms.templates]
    if generic and (on["link"] or on["code"]):
        out.append(f"{settings.path}: notify.sms.templates: {', '.join(generic)} go through _generic, whose ${{text}} is "
                   f"clipped to param_max_len ({sms.param_max_len}): the link and code at the end of the text are cut; "
                   "give these kinds their own templates with link and code parameters")
    return out


def check_reply_pull(settings: Any) -> list[str]:
    """Pull mode takes the queue's token with the Alibaba account of ``[notify.sms]``: it needs replies on and
    that account (provider ``aliyun`` and its two key secrets, which ``config.load`` then demands)."""
    n = settings.file.notify
    r = n.replies
    if not r.aliyun_queue:
        return []
    where = f"{settings.path}: notify.replies.aliyun_queue"
    problems = []
    if not r.enabled:
        problems.append(f"{where}: set, but [notify.replies] enabled is false (no reply would be acted on)")
    if n.sms.provider != "aliyun" or not n.sms.access_key_id_secret or not n.sms.access_key_secret_secret:
        problems.append(f"{where}: the queue's token is taken with the Alibaba account of [notify.sms]: it needs "
                        "provider = \"aliyun\" with access_key_id_secret and access_key_secret_secret")
    if not r.aliyun_queue.endswith("-SmsUp"):
        problems.append(f"{where}: {r.aliyun_queue!r} is not an SmsUp queue (the console names it Alicom-Queue-<uid>-SmsUp)")
    return problems
