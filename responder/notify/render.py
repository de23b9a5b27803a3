"""Rendering messages from the Jinja2 templates in ``templates/``.

Layout (see docs/notifications.md): ``sms/<kind>.txt`` (free-text SMS through
an HTTP gateway), ``sms/params.toml`` (per kind, the parameters a template
provider's pre-registered template takes, each a Jinja2 expression),
``email/<kind>.subject.txt``, ``email/<kind>.txt``, ``email/<kind>.html``.

The environment is sandboxed (templates are operator-editable files, so they
must not reach Python internals), undefined variables are errors (a typo must
fail ``check-config``, not print an empty deadline), HTML is autoescaped, and
the ``bj`` filter is the only way templates show time: Beijing time, from the
ISO UTC strings in the context. Feed text is masked (phone/ID numbers) before
it reaches a template; templates clip it with ``clip(n)``.

Rendering is pure: same template, same context, same text. When a template
still fails at send time, :func:`fallback_text` provides a minimal Chinese
message built without templates, so an escalation is never lost to a typo.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from responder.masking import mask_value
from responder.timeutil import BEIJING, UTC, fmt_duration

CASE_KINDS = ("case_opened", "reminder", "final_warning", "overdue", "repeat_overdue", "continued_release",
              "review_needed", "release_proposed")
PLAN_KINDS = ("milestone_reminder", "milestone_overdue", "plan_summary")
OTHER_KINDS = ("delivery_failure", "weekly_report", "test", "digest", "calendar_unknown", "bundle")
KINDS = CASE_KINDS + PLAN_KINDS + OTHER_KINDS
"""Every message kind of docs/messages.md, plus ``digest`` (several messages folded into one) and ``bundle``
(several urgent case messages to one person as one, issue 17)."""

ROLE_NAMES = {"liaison": "联络员", "deputy": "分管负责同志", "principal": "主要负责同志"}
CHANNEL_NAMES = {"sms": "短信", "email": "电子邮件", "robot": "群机器人"}


class RenderError(Exception):
    """A template is missing or failed; the message says which and why."""


HTML_VARIANT = "#html"
"""Suffix of a text partial loaded into an HTML template: compiled again, autoescaped."""


def _escapes(name: str | None) -> bool:
    return bool(name) and (name.endswith((".html", ".htm", HTML_VARIANT)))


class _KindLoader(jinja2.BaseLoader):
    """Serves ``x.txt#html`` from ``x.txt``: the same file, compiled a second time for HTML."""

    def __init__(self, inner: jinja2.BaseLoader) -> None:
        self.inner = inner

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        return self.inner.get_source(environment, template.removesuffix(HTML_VARIANT))

    def list_templates(self) -> list[str]:
        return self.inner.list_templates()


class _Environment(ImmutableSandboxedEnvironment):
    """Autoescaping follows the template that is being written, not the file that is included.

    Jinja decides autoescaping per compiled template, by its own name: ``digest.html``
    including ``_item.txt`` got the partial's unescaped output, so a feed title with
    ``<img src=…>`` reached officials' mail raw (issue 13). Every include, import or
    extends from an HTML template now loads the partial under an HTML name, so the
    same file is compiled twice: plain for text mail and SMS, escaped for HTML.
    """

    def join_path(self, template: str, parent: str) -> str:
        if _escapes(parent) and not _escapes(template):
            return template + HTML_VARIANT
        return template


# ---------------------------------------------------------------- filters (pure)


def _parse_time(value: Any) -> dt.datetime | dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, dt.date):
        return value
    s = str(value).strip()
    if len(s) == 10:
        return dt.date.fromisoformat(s)
    v = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return v if v.tzinfo else v.replace(tzinfo=UTC)


def bj(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Beijing time for people; a date-only value (a Beijing calendar day) is shown as it is."""
    t = _parse_time(value)
    if t is None:
        return "—"
    if isinstance(t, dt.datetime):
        return t.astimezone(BEIJING).strftime(fmt)
    return t.strftime(fmt.split(" ")[0] if " " in fmt else fmt)


def clip(value: Any, n: int = 30) -> str:
    """Truncate untrusted text to ``n`` characters with an ellipsis; flatten whitespace (one SMS line)."""
    s = " ".join(str(value if value is not None else "").split())
    return s if len(s) <= n else s[: max(n - 1, 0)] + "…"


def dur(seconds: Any) -> str:
    return fmt_duration(float(seconds or 0))


def _role(value: Any) -> str:
    return ROLE_NAMES.get(str(value), str(value))


def _channel(value: Any) -> str:
    return CHANNEL_NAMES.get(str(value), str(value))


def clean_sms(text: str) -> str:
    """Trim, drop blank lines, and replace no-break spaces (they push an SMS out of GSM/UCS-2 norms)."""
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def fit(text: str, limit: int) -> str:
    return text if limit <= 0 or len(text) <= limit else text[: limit - 1] + "…"


def prepare_context(context: dict[str, Any]) -> dict[str, Any]:
    """Mask phone and ID numbers everywhere in the context (feed text) before rendering."""
    return mask_value(dict(context))


# ---------------------------------------------------------------- fallback (no templates)


def fallback_text(kind: str, context: dict[str, Any]) -> str:
    """A minimal Chinese message built without Jinja2, for when a template fails at send time."""
    c = prepare_context(context)
    county = c.get("county") or ""
    head = f"【{county}政务公开】" if county else "【政务公开提醒】"
    try:
        if kind == "digest":
            return f"{head}您有{c.get('count', len(c.get('items') or []))}项待办提醒，请登录系统查看。"
        if kind == "bundle":
            first = ((c.get("items") or [{}])[0].get("context") or {}).get("case_title", "")
            code = f"回复 {c['reply_code']} 签收" if c.get("reply_code") else ""
            return (f"{head}您有{c.get('count', len(c.get('items') or []))}件舆情须立即处理"
                    f"（“{clip(first, 20)}”等），请登录系统查看。{code}")
        if kind in CASE_KINDS:
            label = {"overdue": "已超时", "repeat_overdue": "仍超时", "final_warning": "即将超时",
                     "case_opened": "新舆情", "reminder": "回应提醒"}.get(kind, "舆情提醒")
            return (f"{head}{label}：“{clip(c.get('case_title', ''), 30)}”，"
                    f"截止{bj(c.get('deadline_at'))}（北京时间），请立即处理。")
        if kind in PLAN_KINDS:
            return f"{head}{c.get('plan_name', '政务公开工作')}“{c.get('phase_name', '')}”有事项未完成，请及时处理。"
        if kind == "delivery_failure":
            return f"{head}消息发送失败：{c.get('failed_name', '')}（{c.get('failed_recipient', '')}），{clip(c.get('error', ''), 60)}"
        if kind == "calendar_unknown":
            return f"{head}{'、'.join(map(str, c.get('years') or []))}年放假安排尚未录入，工作日期限暂按最早日期计算，请录入日历文件。"
        if kind == "weekly_report":
            return f"{head}本周舆情回应合规日志（{c.get('week', '')}）已生成。"
        return f"{head}{clip(c.get('text', '测试消息'), 60)}"
    except Exception:  # the fallback must never fail
        return f"{head}您有一条提醒（{kind}），请登录系统查看。"


def fallback_email(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    text = fallback_text(kind, context)
    import html

    return text[:60], text + "\n", f"<p>{html.escape(text)}</p>"


# ---------------------------------------------------------------- the renderer


class Renderer:
    """Compiled templates of one directory. Compile once, render many (perf-notes: ~40k SMS/s)."""

    def __init__(self, loader: jinja2.BaseLoader, params_spec: dict[str, dict[str, str]] | None = None,
                 source: str = ""):
        self.source = source
        self.env = _Environment(
            loader=_KindLoader(loader), undefined=jinja2.StrictUndefined, auto_reload=False,
            autoescape=_escapes,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
        )
        self.env.filters.update(bj=bj, clip=clip, dur=dur, role=_role, channel_name=_channel)
        self.params_spec = params_spec or {}
        self._param_templates: dict[tuple[str, str], jinja2.Template] = {}
        self.load_problems: list[str] = []
        for kind, spec in self.params_spec.items():
            for name, expr in spec.items():
                try:
                    self._param_templates[(kind, name)] = self.env.from_string(expr)
                except jinja2.TemplateSyntaxError as exc:
                    self.load_problems.append(f"sms/params.toml: [{kind}] {name}: {exc.message}")

    @classmethod
    def from_dir(cls, path: str | Path) -> Renderer:
        path = Path(path)
        spec: dict[str, dict[str, str]] = {}
        problems: list[str] = []
        pfile = path / "sms" / "params.toml"
        if pfile.is_file():
            try:
                raw = tomllib.loads(pfile.read_text(encoding="utf-8"))
                for kind, table in raw.items():
                    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
                        problems.append(f"{pfile}: [{kind}]: each parameter must be a string template")
                        continue
                    spec[kind] = dict(table)
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                problems.append(f"{pfile}: not valid TOML: {exc}")
        r = cls(jinja2.FileSystemLoader(str(path), encoding="utf-8"), spec, source=str(path))
        r.load_problems[:0] = problems
        if not path.is_dir():
            r.load_problems.insert(0, f"{path}: templates directory not found")
        return r

    def _render(self, name: str, context: dict[str, Any]) -> str:
        try:
            return self.env.get_template(name).render(context)
        except jinja2.TemplateNotFound as exc:
            missing = (exc.name or name).removesuffix(HTML_VARIANT)
            raise RenderError(f"{missing}: template not found in {self.source}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise RenderError(f"{name}: {exc.message}") from None
        except jinja2.exceptions.SecurityError as exc:
            raise RenderError(f"{name}: not allowed in the sandbox: {exc}") from None
        except Exception as exc:  # a filter given a bad value, etc.
            raise RenderError(f"{name}: {type(exc).__name__}: {exc}") from None

    def render_sms(self, kind: str, context: dict[str, Any], limit: int = 0) -> str:
        """Free SMS text for ``kind``; clipped to ``limit`` characters when given."""
        return fit(clean_sms(self._render(f"sms/{kind}.txt", prepare_context(context))), limit)

    def render_email(self, kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
        """(subject, text, html). The subject is one line: header injection is impossible."""
        ctx = prepare_context(context)
        subject = " ".join(self._render(f"email/{kind}.subject.txt", ctx).split())
        text = self._render(f"email/{kind}.txt", ctx).strip() + "\n"
        html = self._render(f"email/{kind}.html", ctx)
        return subject, text, html

    def sms_params(self, kind: str, context: dict[str, Any]) -> dict[str, str]:
        """The parameters of the provider template for ``kind``, in ``params.toml`` order.

        Values are not clipped here: :func:`fit_params` does that against the
        provider's limit, so that ``check_all`` can see a template that overflows.
        """
        spec = self.params_spec.get(kind)
        if spec is None:
            raise RenderError(f"sms/params.toml: no [{kind}] table (the parameters of its provider template)")
        ctx = prepare_context(context)
        out: dict[str, str] = {}
        for name in spec:
            t = self._param_templates.get((kind, name))
            if t is None:
                raise RenderError(f"sms/params.toml: [{kind}] {name}: does not compile")
            try:
                out[name] = clean_sms(t.render(ctx)).replace("\n", " ")
            except jinja2.UndefinedError as exc:
                raise RenderError(f"sms/params.toml: [{kind}] {name}: {exc.message}") from None
            except Exception as exc:
                raise RenderError(f"sms/params.toml: [{kind}] {name}: {type(exc).__name__}: {exc}") from None
        return out

    def check_all(self, *, sms_limit: int = 0, param_limit: int = 0,
                  kinds: tuple[str, ...] = KINDS) -> list[str]:
        """Render every template of every kind with a sample context; list what fails or overflows."""
        problems = list(self.load_problems)
        for kind in kinds:
            for variant, ctx in sample_contexts(kind):
                where = f"{kind} ({variant})"
                try:
                    text = self.render_sms(kind, ctx)
                    if not text:
                        problems.append(f"sms/{kind}.txt: renders empty for {where}")
                    if sms_limit and len(text) > sms_limit:
                        problems.append(f"sms/{kind}.txt: {len(text)} characters for {where}, over the limit of {sms_limit}")
                except RenderError as exc:
                    problems.append(f"{exc} [{where}]")
                try:
                    subject, _text, html = self.render_email(kind, ctx)
                    if not subject:
                        problems.append(f"email/{kind}.subject.txt: renders empty for {where}")
                    if "<script" in html.lower() or "<img" in html.lower():
                        # The samples carry <script> and <img> in feed text: raw in the output means a
                        # template (or a partial it includes) prints feed text unescaped.
                        problems.append(f"email/{kind}.html: feed text reaches the HTML unescaped (<script>/<img>)")
                except RenderError as exc:
                    problems.append(f"{exc} [{where}]")
                if self.params_spec:
                    try:
                        params = self.sms_params(kind, ctx)
                        for name, value in params.items():
                            if param_limit and len(value) > param_limit:
                                problems.append(f"sms/params.toml: [{kind}] {name}: {len(value)} characters for {where}, "
                                                f"over the provider's limit of {param_limit} (clip it: {{{{ … | clip({param_limit}) }}}})")
                    except RenderError as exc:
                        problems.append(f"{exc} [{where}]")
        return list(dict.fromkeys(problems))


def fit_params(params: dict[str, str], limit: int) -> tuple[dict[str, str], list[str]]:
    """Clip each parameter to the provider's limit; return the clipped names so the attempt can say so."""
    if limit <= 0:
        return dict(params), []
    out, clipped = {}, []
    for k, v in params.items():
        if len(v) > limit:
            out[k] = v[: limit - 1] + "…"
            clipped.append(k)
        else:
            out[k] = v
    return out, clipped


# ---------------------------------------------------------------- sample contexts


_LONG_TITLE = ("网传仙寓镇某村饮用水源受污染，村民称多次反映无人处理，联系人13912345678，"
               "身份证340823199001011234，<script>alert(1)</script><img src=x onerror=alert(2)> & “求关注”{{ 7 * 7 }}" * 2)


_LINK_KINDS = ("case_opened", "reminder", "final_warning", "overdue", "repeat_overdue", "continued_release")


def _case(kind: str, *, level: bool, long: bool) -> dict[str, Any]:
    return {
        "case_id": 42, "case_title": _LONG_TITLE if long else "仙寓镇自来水停水引发网民关注",
        "level": "II" if level else None, "level_name": "重大" if level else None,
        "clock_class": "5h" if level else "48h",
        "obligation": "release_5h" if level else "response_48h",
        "obligation_label": "5小时内发布权威信息" if level else "48小时内予以回应",
        "basis": "国办发〔2016〕80号", "department": "县水利局",
        "started_at": "2022-07-15T02:00:00Z", "deadline_at": "2022-07-15T07:00:00Z" if level else "2022-07-17T02:00:00Z",
        "overdue_seconds": 5400 if kind in ("overdue", "repeat_overdue") else 0,
        "repeat_no": 2 if kind == "repeat_overdue" else 0,
        "needs_review": kind == "review_needed", "reasons": ["标题含“停水”", "涉及饮用水安全"] if not long else [_LONG_TITLE],
        "url": "https://responder.example/cases/42" if not long else "", "county": "石台县", "urgent": level,
        "recipient_name": "王建国", "recipient_role": "liaison",
        # Issue 17: the budget check counts the link (a 40-character public_url + /l/ + 11-character token).
        **({"link_url": "https://zwgk-responder.shitai.gov.cn/l/AbCdEfGhIjK", "link_purpose": "release",
            "link_label": "记录发布", "reply_code": "4821"} if kind in _LINK_KINDS else {}),
        **({"release_title": "关于仙寓镇供水情况的说明" if not long else _LONG_TITLE,
            "release_url": "https://www.shitai.gov.cn/xxgk/123.html", "score": 0.72} if kind == "release_proposed" else {}),
    }


def _plan(kind: str, long: bool) -> dict[str, Any]:
    pending = [{"no": "23", "text": "舆情回应：特别重大、重大突发事件舆情5小时内发布权威信息"},
               {"no": "24", "text": "政策解读：重要政策文件同步解读" + ("（含电话0566-5123456）" * 8 if long else "")}]
    return {
        "plan_name": "石台县基层政务公开提升行动（2022）", "phase_name": "工作部署阶段", "phase_end": "2022-07-31",
        "days_left": -2 if kind == "milestone_overdue" else 5, "unit_name": "仙寓镇人民政府", "pending": pending,
        "units_pending": [{"unit_name": "仙寓镇人民政府", "pending_count": 3}, {"unit_name": "县水利局", "pending_count": 1}],
        "county": "石台县", "recipient_name": "王建国", "recipient_role": "principal",
    }


def sample_contexts(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Representative contexts per kind: short and long feed text, 5-hour and 48-hour, for ``check_all``."""
    if kind in CASE_KINDS:
        return [("5h", _case(kind, level=True, long=False)), ("48h, long hostile title", _case(kind, level=False, long=True))]
    if kind in PLAN_KINDS:
        return [("plan", _plan(kind, False)), ("plan, long", _plan(kind, True))]
    base = {"county": "石台县", "recipient_name": "李晓明", "recipient_role": "liaison"}
    if kind == "delivery_failure":
        return [("failure", {**base, "failed_recipient": "xianyu:liaison", "failed_name": "王建国", "channel": "sms",
                             "error": "isv.MOBILE_NUMBER_ILLEGAL: 号码格式错误（13912345678）", "original_kind": "overdue",
                             "case_id": 42})]
    if kind == "weekly_report":
        return [("week", {**base, "week": "2022-W28", "period": "2022-07-11 至 2022-07-17",
                          "summary": "本周新增舆情3件，按时回应3件，超时0件。", "path": "archive/2022-W28.html",
                          "html": "<h1>周报</h1>", "text": "# 周报\n\n| 单位 | 按时 |\n| --- | --- |"})]
    if kind == "test":
        return [("test", {**base, "text": "这是一条测试消息。"})]
    if kind == "calendar_unknown":
        return [("2027", {**base, "years": [2027], "obligations": 3, "subjects": ["request:7", "case:42"],
                          "calendar_dir": "/etc/responder/calendar"})]
    if kind == "digest":
        items = [{"kind": "reminder", "context": _case("reminder", level=False, long=False)},
                 {"kind": "reminder", "context": _case("reminder", level=False, long=True)},
                 {"kind": "milestone_reminder", "context": _plan("milestone_reminder", False)}]
        return [("3 items", {**base, "items": items, "count": 3})]
    if kind == "bundle":
        # Issue 17: five cases (two overdue, a new 5-hour case), long hostile titles, the code and console link.
        kinds = ("repeat_overdue", "overdue", "case_opened", "final_warning", "repeat_overdue")
        items = [{"kind": k, "context": {**_case(k, level=i < 3, long=i % 2 == 1), "case_id": 40 + i}}
                 for i, k in enumerate(kinds)]
        return [("5 cases", {**base, "items": items, "count": 5, "case_ids": [40, 41, 42, 43, 44], "overdue_count": 3,
                             "console_url": "https://zwgk-responder.shitai.gov.cn", "reply_code": "4821",
                             "urgent": True}),
                ("2 cases, no link or code", {**base, "items": items[:2], "count": 2, "case_ids": [40, 41],
                                              "overdue_count": 2, "console_url": "", "urgent": True})]
    return [("empty", dict(base))]
