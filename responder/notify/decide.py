"""The dispatcher's pure decisions: functions of the rows read and ``now``, nothing else.

Quiet hours, backoff, rate windows, which rows go now, which are held, merged
into a digest or deferred (:func:`plan_batch`), and the provider message a row
becomes (:func:`build_outgoing`). No database, no clock, no I/O: the shell in
:mod:`responder.notify.dispatch` reads, claims, sends and records around them,
and the tests drive them with tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from responder.notify.channels.base import Channel, OutgoingMessage
from responder.timeutil import BEIJING, UTC

OPEN_STATUSES = ("pending", "failed", "held")
URGENT_KINDS = frozenset({"overdue", "repeat_overdue", "milestone_overdue", "delivery_failure"})
"""Overdue notices and failure escalations: never held by quiet hours, never rate limited, never digested."""
NO_DIGEST_KINDS = frozenset({"digest", "test", "weekly_report", "delivery_failure"})
INTERRUPTED = "interrupted: the process stopped between the provider call and its record"


def is_urgent(urgent: bool, kind: str) -> bool:
    return bool(urgent) or kind in URGENT_KINDS




# ---------------------------------------------------------------- pure decisions


def parse_quiet_hours(spec: str | None) -> tuple[dt.time, dt.time] | None:
    """``"22:00-07:30"`` → (22:00, 07:30); None/"" → no quiet hours. Raises ValueError on nonsense."""
    if not spec:
        return None
    a, _, b = spec.partition("-")
    start, end = dt.time.fromisoformat(a.strip()), dt.time.fromisoformat(b.strip())
    if start == end:
        raise ValueError(f"quiet hours {spec!r}: start equals end")
    return start, end


def quiet_until(now: dt.datetime, spec: str | None) -> dt.datetime | None:
    """If ``now`` falls in the quiet hours (Beijing time), the UTC instant they end; else None."""
    q = parse_quiet_hours(spec)
    if q is None:
        return None
    start, end = q
    local = now.astimezone(BEIJING)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date() if (start < end or t < end) else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(end_day, end, tzinfo=BEIJING).astimezone(UTC)


def backoff_seconds(attempts: int, *, base: float, cap: float, jitter: float, key: str) -> float:
    """Exponential backoff (base·2^(n-1), capped) with deterministic jitter.

    The jitter comes from a hash of the key and attempt number rather than a
    random generator: retries after an outage still spread out, and a test can
    predict the exact time.
    """
    raw = min(cap, base * (2 ** max(attempts - 1, 0)))
    h = int(hashlib.sha256(f"{key}|{attempts}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return max(1.0, raw * (1 + jitter * (2 * h - 1)))


def window_free_at(sent: list[dt.datetime], now: dt.datetime, limit: int, window: dt.timedelta) -> dt.datetime | None:
    """None if one more send fits in the sliding window; else when the oldest send leaves it."""
    recent = sorted(t for t in sent if t > now - window)
    if len(recent) < limit:
        return None
    return recent[len(recent) - limit] + window


@dataclass(frozen=True)
class Candidate:
    """What the planner needs of an outbox row (a plain value: the planner never touches the DB)."""

    id: int
    kind: str
    channel: str
    recipient: str
    urgent: bool
    next_attempt_at: dt.datetime
    attempts: int
    status: str
    outcome_unknown: bool = False


@dataclass
class Plan:
    send: list[int] = field(default_factory=list)
    digests: list[list[int]] = field(default_factory=list)
    hold: dict[int, dt.datetime] = field(default_factory=dict)
    defer: dict[int, dt.datetime] = field(default_factory=dict)


def plan_batch(cands: list[Candidate], now: dt.datetime, *, quiet_hours: str | None, quiet_channels: tuple[str, ...],
               digest_window: dt.timedelta, per_recipient: int, window: dt.timedelta,
               recent_sms: dict[str, list[dt.datetime]], provider_per_minute: int = 0,
               provider_recent: list[dt.datetime] | None = None) -> Plan:
    """Decide, for rows read from the outbox, what happens to each now.

    Order of the stages (Alertmanager-style, each one small): quiet hours hold
    non-urgent rows; non-urgent rows for one person and channel fold into a
    digest when more than one is due within ``digest_window``; the per-person
    SMS window and the provider's per-minute quota defer what does not fit.
    Urgent rows (5-hour cases, overdue notices) skip every stage but the
    provider quota, and even there go first.
    """
    plan = Plan()
    q_end = quiet_until(now, quiet_hours)
    due_now = [c for c in cands if c.next_attempt_at <= now]
    soon = [c for c in cands if now < c.next_attempt_at <= now + digest_window]
    ordered: list[Candidate] = []
    for c in sorted(due_now, key=lambda c: (not is_urgent(c.urgent, c.kind), c.next_attempt_at, c.id)):
        if not is_urgent(c.urgent, c.kind) and q_end is not None and c.channel in quiet_channels:
            if c.status != "held" or c.next_attempt_at < q_end:
                plan.hold[c.id] = q_end
            continue
        ordered.append(c)

    # Digest: per (recipient, channel), the non-urgent first attempts due now, plus those due within the window.
    foldable = lambda c: (not is_urgent(c.urgent, c.kind) and c.kind not in NO_DIGEST_KINDS  # noqa: E731
                          and c.attempts == 0 and not c.outcome_unknown)
    groups: dict[tuple[str, str], list[Candidate]] = {}
    for c in ordered:
        if foldable(c):
            groups.setdefault((c.recipient, c.channel), []).append(c)
    for c in soon:
        if foldable(c) and (c.recipient, c.channel) in groups and not (q_end and c.channel in quiet_channels):
            groups[(c.recipient, c.channel)].append(c)
    units: list[tuple[Candidate, list[int]]] = []  # (representative, member ids)
    folded: set[int] = set()
    for members in groups.values():
        if len(members) > 1:
            ids = sorted(m.id for m in members)
            folded.update(ids)
            units.append((members[0], ids))
    for c in ordered:
        if c.id not in folded:
            units.append((c, [c.id]))
    units.sort(key=lambda u: (not is_urgent(u[0].urgent, u[0].kind), u[0].next_attempt_at, u[0].id))

    # Limits: SMS per person (urgent excepted, but counted) and all SMS per minute.
    sent_by = {k: list(v) for k, v in recent_sms.items()}
    prov = list(provider_recent or [])
    for rep, ids in units:
        if rep.channel == "sms":
            urgent = is_urgent(rep.urgent, rep.kind)
            if provider_per_minute:
                free = window_free_at(prov, now, provider_per_minute, dt.timedelta(minutes=1))
                if free is not None:
                    for i in ids:
                        plan.defer[i] = free
                    continue
            if not urgent:
                free = window_free_at(sent_by.get(rep.recipient, []), now, per_recipient, window)
                if free is not None:
                    for i in ids:
                        if i in {c.id for c in due_now}:
                            plan.defer[i] = free
                    continue
            sent_by.setdefault(rep.recipient, []).append(now)
            prov.append(now)
        if len(ids) > 1:
            plan.digests.append(ids)
        else:
            plan.send.append(ids[0])
    return plan


def digest_context(items: list[tuple[str, dict[str, Any]]], base: dict[str, Any]) -> dict[str, Any]:
    """The context of a digest (docs/messages.md ``digest``): the folded messages, oldest first."""
    return {**{k: base[k] for k in ("recipient_name", "recipient_role", "county") if k in base},
            "items": [{"kind": k, "context": c} for k, c in items], "count": len(items)}


def fallback_params(names: list[str], kind: str, ctx: dict[str, Any], text: str) -> dict[str, str]:
    """Best-effort values for a provider template when params.toml failed: a template never swallows a message."""
    from responder.notify.render import bj, clip, dur

    known = {
        "title": lambda: clip(ctx.get("case_title") or ctx.get("phase_name") or "", 20),
        "deadline": lambda: bj(ctx.get("deadline_at"), "%m月%d日%H:%M"),
        "dept": lambda: clip(ctx.get("department") or "", 12),
        "overdue": lambda: dur(ctx.get("overdue_seconds") or 0),
        "task": lambda: str(ctx.get("obligation_label") or ""),
        "count": lambda: str(ctx.get("count") or len(ctx.get("pending") or []) or ""),
        "text": lambda: text,
    }
    out = {}
    for n in names:
        try:
            out[n] = known[n]() if n in known else "—"
        except Exception:
            out[n] = "—"
        out[n] = out[n] or "—"
    return out


def build_outgoing(*, key: str, kind: str, address: str, context: dict[str, Any], channel: Channel,
                   renderer: Any, templates: dict[str, str], county: str, repeat: bool,
                   created_at: dt.datetime | None = None) -> tuple[OutgoingMessage, list[str]]:
    """Render one outbox row for one channel (pure). Returns the message and notes for the attempt record.

    A template that fails falls back to :func:`responder.notify.render.fallback_text` and
    says so in the notes; over-long provider parameters are clipped and named.
    """
    from responder.notify.render import RenderError, fallback_email, fallback_text, fit, fit_params

    ctx = {"county": county, **context}
    notes: list[str] = []
    subject = html = code = ""
    params: dict[str, str] = {}
    if channel.name == "email":
        try:
            subject, text, html = renderer.render_email(kind, ctx)
        except RenderError as exc:
            notes.append(f"template failed, built-in message sent: {exc}")
            subject, text, html = fallback_email(kind, ctx)
    else:
        try:
            text = renderer.render_sms(kind, ctx)
        except RenderError as exc:
            notes.append(f"template failed, built-in message sent: {exc}")
            text = fallback_text(kind, ctx)
        if channel.uses_templates:
            code = templates.get(kind) or templates.get("_generic", "")
            if kind not in templates and "_generic" in templates:
                params = {"text": text}
            else:
                try:
                    params = renderer.sms_params(kind, ctx)
                except RenderError as exc:
                    notes.append(f"template parameters failed, built-in values sent: {exc}")
                    names = list(getattr(renderer, "params_spec", {}).get(kind, {}) or ["text"])
                    params = fallback_params(names, kind, ctx, fallback_text(kind, ctx))
            params, clipped = fit_params(params, channel.param_limit)
            if clipped:
                notes.append(f"parameters clipped to {channel.param_limit} characters: {', '.join(clipped)}")
        else:
            if repeat:
                text = "【重发】" + text
            text = fit(text, channel.text_limit)
    msg = OutgoingMessage(key=key, address=address, kind=kind, text=text, subject=subject, html=html,
                          template_code=code, params=params, repeat=repeat, created_at=created_at)
    return msg, notes
