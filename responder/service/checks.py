"""Every check a configuration must pass before the service starts or reloads with it.

``config.load`` reads the file and what every command needs. The checks below
need the rest of the house (policies, the classifier, templates, channels, the
plan), so they live up here, in one explicit list run in order by
:func:`load_checked`: ``check-config``, the service's start and its reload call
it, so whatever ``check-config`` accepts starts and reloads. Read-only
commands (``status``, ``show``) do not pay for them.

Each check returns a list of problems, one line each, naming the file, the key
and what is wrong. A template error must surface here, not at 3 a.m. when an
overdue notice is due.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy.engine import make_url

from responder.notify.channels import OutgoingMessage, channel_problems, deliberately_off
from responder.notify.channels.http_gateway import DEFAULT_FIELDS, HttpGatewayChannel
from responder.classify import Classifier
from responder.config import ConfigError, Settings, load
from responder.data import DataError
from responder.disclosure.service import calendar_dir
from responder.engine.places import GazetteerError, load_gazetteer
from responder.engine.policy import load_policies
from responder.notify import parse_quiet_hours
from responder.plan.load import PlanError, plan_from_settings
from responder.notify.render import KINDS, Renderer
from responder.report.job import parse_slot
from responder.report.ledger_job import validate_ledger_config
from responder.service import pipeline
from responder.service.sms_checks import check_reply_pull, check_template_params, template_param_warnings
from responder.workdays import load_local_dir

Check = Callable[[Settings], list[str]]


def check_policies(settings: Any) -> list[str]:
    try:
        load_policies(settings.data_paths["policies"])
    except DataError as exc:
        return [f"{settings.path}: data.policies: {exc}"]
    return []


def check_gazetteer(settings: Any) -> list[str]:
    """The county's place names; a configuration without the file uses the shipped one."""
    path = settings.data_paths.get("gazetteer")
    if path is None or not path.exists():
        return []
    try:
        load_gazetteer(path)
    except GazetteerError as exc:
        return [f"{settings.path}: data.gazetteer: {exc}"]
    return []


def check_calendar_files(settings: Any) -> list[str]:
    """The working-day calendar files the requests policy names (a bad policies file is check_policies' to report)."""
    try:
        pol = load_policies(settings.data_paths["policies"]).file.requests
    except DataError:
        return []
    _years, problems = load_local_dir(calendar_dir(settings.data_paths["policies"], pol))
    return problems


def check_weekly_slot(settings: Any) -> list[str]:
    try:
        parse_slot(settings.file.schedule.weekly_report)
    except ValueError as exc:
        return [f"{settings.path}: {exc}"]
    return []


def check_ledger(settings: Any) -> list[str]:
    return [f"{settings.path}: {p}" for p in validate_ledger_config(settings)]


def check_classifier(settings: Any) -> list[str]:
    """Builds the classifier (and jieba's dictionary): seconds, so only where a start is at stake."""
    p = settings.data_paths
    try:
        Classifier.from_paths(p["thresholds"], p["routing"], p["domains"])
    except DataError as exc:
        return [f"{settings.path}: data.thresholds/routing: {exc}"]
    return []


def check_routing_departments(settings: Any) -> list[str]:
    """Every department the routing data can send a case to must be a unit with contacts."""
    names = {u.name for u in settings.units}
    with open(settings.data_paths["routing"], "rb") as fh:
        raw = tomllib.load(fh)
    problems = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
        elif isinstance(node, str) and path.split(".")[-1].split("[")[0] in ("department", "owner", "departments", "co_departments") \
                and node.startswith("县") and node not in names:
            problems.append(f"{settings.data_paths['routing']}: {path}: department {node!r} is not a unit in {settings.data_paths['units']}")

    walk(raw, "")
    return problems


def check_notify(settings: Any) -> list[str]:
    """Channels can be built, quiet hours parse, every template renders, template providers have codes."""
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


def check_plan(settings: Any) -> list[str]:
    """The plan loads, and every reminder reaches someone.

    A plan unit without a contact for a reminder role would have its reminders
    silently dropped, which is exactly the spreadsheet-and-phone-call failure the
    plan capability exists to end; so it is a configuration error, not a warning.
    """
    where = f"{settings.path}: data.plan"
    try:
        plan = plan_from_settings(settings)
    except PlanError as exc:
        return [f"{where}: {exc}"]
    if plan is None:
        return []
    problems = []
    path = plan.path
    by_id = {u.id: u for u in settings.units}
    roles = dict.fromkeys([*plan.reminders.roles, *plan.reminders.overdue_roles])
    for u in plan.units:
        missing = [r for r in roles if by_id[u.id].contact(r) is None]
        if missing:
            problems.append(f"{path}: plan.units: unit {u.id!r} ({u.name}) has no contact for role(s) "
                            f"{', '.join(missing)} named in reminders; add them in {settings.data_paths['units']}")
    office = settings.office
    missing = [r for r in plan.reminders.summary_roles if office.contact(r) is None]
    if missing:
        problems.append(f"{path}: reminders.summary_roles: the office unit {office.id!r} has no contact for role(s) "
                        f"{', '.join(missing)}")
    return problems


def check_paths(settings: Any) -> list[str]:
    """The state directory, the archive and the SQLite file can be created and written by this user.

    At start the service creates them (and the SQLite lock file); a path under a
    file, or a directory it may not write, would fail there, every restart.
    """
    where = f"{settings.path}"
    targets = [("service.state_dir", settings.state_dir), ("service.archive_dir", settings.archive_dir)]
    u = make_url(settings.database_url) if settings.database_url else None
    if u is not None and u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        targets.append(("database.url", Path(u.database).parent))
    problems = []
    for key, path in targets:
        p = Path(path)
        existing = p
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            problems.append(f"{where}: {key}: cannot create {str(p)!r}: {str(existing)!r} is not a directory")
        elif not os.access(existing, os.W_OK | os.X_OK):
            problems.append(f"{where}: {key}: cannot write {str(p)!r}: {str(existing)!r} is not writable by this user")
    return problems


SAMPLE_SMS = OutgoingMessage(key="sample", address="13800000000", kind="case_opened", text="【石台县政务公开】样例",
                             template_code="SMS_0", params={"text": "样例"})


def check_gateway_templates(settings: Any) -> list[str]:
    """Each HTTP gateway field and header is a Jinja2 template: it must compile and render a sample message.

    Checked one key at a time through the channel's own constructor and
    ``build_request``, so the problem names the key. A syntax error here
    (``{{ phone ``) used to pass ``check-config`` and then crash every start.
    """
    n = settings.file.notify
    if deliberately_off(settings, "sms") or n.sms.provider != "http":
        return []
    problems = []
    for table, entries in (("fields", n.sms.fields or DEFAULT_FIELDS), ("headers", n.sms.headers)):
        for name, source in entries.items():
            key = f"notify.sms.{table}.{name}"
            one = {"fields": {name: source}} if table == "fields" else {"fields": DEFAULT_FIELDS, "headers": {name: source}}
            try:
                channel = HttpGatewayChannel(url=n.sms.endpoint or "http://127.0.0.1/", method=n.sms.method,
                                             body=n.sms.body, **one)
            except jinja2.TemplateSyntaxError as exc:
                problems.append(f"{settings.path}: {key}: template {source!r} does not compile: {exc.message} (line {exc.lineno})")
                continue
            except jinja2.TemplateError as exc:
                problems.append(f"{settings.path}: {key}: template {source!r} does not compile: {exc}")
                continue
            try:
                channel.build_request(SAMPLE_SMS)
            except Exception as exc:  # undefined names, bad filter arguments, type errors: each would fail every send
                problems.append(f"{settings.path}: {key}: template {source!r} fails on a sample message: {exc}")
    return problems


def check_startable(settings: Any) -> list[str]:
    """What the start and every reload build from a configuration, built here by the same code.

    ``pipeline.build_context`` is what ``Service.run`` and ``Service.reload`` call:
    channels, renderer and plan. Run only when every other check passed (its
    error would repeat theirs); whatever else goes wrong is named here instead
    of in a traceback under systemd.
    """
    try:
        pipeline.build_context(settings, None, owner="check-config")  # type: ignore[arg-type]
    except Exception as exc:
        return [f"{settings.path}: the service cannot start with this configuration: {type(exc).__name__}: {exc}"]
    return []


CHECKS: tuple[tuple[str, Check], ...] = (
    ("policies", check_policies),
    ("weekly slot", check_weekly_slot),
    ("monthly ledger", check_ledger),
    ("classifier", check_classifier),
    ("gazetteer", check_gazetteer),
    ("routing departments", check_routing_departments),
    ("calendar files", check_calendar_files),
    ("notify", check_notify),
    ("gateway templates", check_gateway_templates),
    ("template links and codes", check_template_params),
    ("reply queue", check_reply_pull),
    ("plan", check_plan),
    ("paths", check_paths),
)
"""Run in this order; a check that raises becomes one problem and does not hide the others."""

LAST_CHECKS: tuple[tuple[str, Check], ...] = (("start", check_startable),)
"""Run only when every check above passed: they build what those checks have already judged."""


WARNINGS: tuple[tuple[str, Check], ...] = (("template links and codes", template_param_warnings),)
"""What ``check-config`` prints as a warning: the configuration runs, but not as the office may expect."""


def run_warnings(settings: Settings) -> list[str]:
    out: list[str] = []
    for name, fn in WARNINGS:
        try:
            out.extend(fn(settings))
        except Exception as exc:  # a warning must never stop a configuration that passed its checks
            out.append(f"{settings.path}: {name}: {exc}")
    return out


def run_checks(settings: Settings, checks: tuple[tuple[str, Check], ...] = CHECKS,
               last: tuple[tuple[str, Check], ...] = LAST_CHECKS) -> list[str]:
    problems: list[str] = []
    for name, fn in checks:
        try:
            problems.extend(fn(settings))
        except Exception as exc:  # a check must not hide the others
            problems.append(f"{settings.path}: {name}: {exc}")
    if not problems:
        for name, fn in last:
            problems.extend(fn(settings))
    return problems


def load_checked(path: str | Path, **kw: Any) -> Settings:
    """:func:`responder.config.load` plus every check in :data:`CHECKS`; raise :class:`ConfigError` on any problem."""
    settings = load(path, **kw)
    problems = run_checks(settings)
    if problems:
        raise ConfigError(problems)
    return settings
