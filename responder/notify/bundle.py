"""Bundles (issue 17): one SMS and one e-mail per person per moment, not one per case.

The pure decision, in the manner of Alertmanager's grouping: given the urgent case
messages waiting for one address and ``now``, say which go together now as one
bundle and which wait, and until when. Three timers, each a setting of ``[notify]``:

* ``bundle_window_s`` (group_wait, default 60): urgent steps that fall due close
  together wait at most this long for each other. Nothing urgent waits longer —
* except that **a new 5-hour case's first alert** (``case_opened`` of an urgent
  clock) never waits: it goes at once and takes whatever else is due for the
  person with it;
* ``bundle_repeat_s`` (repeat_interval, default 7200, the urgent ladder's own repeat
  interval): a ``repeat_overdue`` row only repeats what the person has already been
  told about an overdue case, so it is folded into the next bundle to that address.
  A bundle goes for repeats alone at most once per ``bundle_repeat_s`` after the last
  one, and no repeat waits longer than that after it fell due. With N overdue cases
  a person gets one SMS every two hours that repeats them all, as one case's ladder
  would send, not N.

No database, no clock: the shell (:mod:`responder.notify.dispatch`) reads the rows
and the last bundle sent to each address, calls :func:`plan_bundles`, and claims and
sends what it says. Tests drive it with tables (tests/test_notify_bundle.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

BUNDLE_KIND = "bundle"
CASE_LADDER_KINDS = frozenset({"case_opened", "reminder", "final_warning", "overdue", "repeat_overdue",
                               "continued_release"})
"""The ladder's messages to the people who must act: the ones a bundle lists (docs/messages.md)."""
BUNDLE_CHANNELS = ("sms", "email")
"""A group robot already posts once per step to one group; bundles are for people."""
REPEAT_KIND = "repeat_overdue"
FIRST_ALERT_KIND = "case_opened"
SMS_LISTED = 3
"""Cases named in a bundle SMS before "等N件": three titles fit the 300-character budget with the code and link."""


@dataclass(frozen=True)
class Waiting:
    """An urgent case message that may join a bundle (a plain value read from an outbox row)."""

    id: int
    kind: str
    channel: str
    address: str
    case_id: int
    due_at: dt.datetime
    """When its step fell due (the row's ``created_at``): the bundle timers count from here."""
    next_attempt_at: dt.datetime
    first_alert: bool = False
    """The first alert of a new 5-hour case: never held back."""


@dataclass
class BundlePlan:
    bundles: list[list[int]] = field(default_factory=list)
    """Groups of two or more rows to send now as one bundle, most urgent first as given."""
    alone: list[int] = field(default_factory=list)
    """Rows whose group has only them: sent now as their own (per-case) message."""
    wait: dict[int, dt.datetime] = field(default_factory=dict)
    """Rows that wait, and until when (their ``next_attempt_at`` becomes that instant)."""


def bundleable(*, kind: str, channel: str, urgent: bool, case_id: int | None, attempts: int, status: str,
               outcome_unknown: bool) -> bool:
    """Only a first attempt of an urgent case message to a person: retries and crash repeats go alone as before."""
    return (urgent and kind in CASE_LADDER_KINDS and channel in BUNDLE_CHANNELS and case_id is not None
            and attempts == 0 and status == "pending" and not outcome_unknown)


def plan_bundles(rows: Iterable[Waiting], now: dt.datetime, *, window: dt.timedelta, repeat_gap: dt.timedelta,
                 last_sent: dict[tuple[str, str], dt.datetime]) -> BundlePlan:
    """Decide, per (channel, address), whether its waiting rows go now (together) or wait, and until when.

    ``last_sent`` holds, per (channel, address), when the last urgent case message or
    bundle was sent to it: the repeat timer counts from there. Rows not yet due
    (``due_at > now``) are left alone.
    """
    plan = BundlePlan()
    groups: dict[tuple[str, str], list[Waiting]] = {}
    for r in rows:
        if r.due_at <= now:
            groups.setdefault((r.channel, r.address), []).append(r)
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda r: (r.due_at, r.id))
        go_at = group_go_at(members, window=window, repeat_gap=repeat_gap, last=last_sent.get(key))
        if go_at <= now:
            ids = [m.id for m in members]
            if len(ids) == 1:
                plan.alone.append(ids[0])
            else:
                plan.bundles.append(ids)
        else:
            for m in members:
                if m.next_attempt_at != go_at:
                    plan.wait[m.id] = go_at
    return plan


def group_go_at(members: list[Waiting], *, window: dt.timedelta, repeat_gap: dt.timedelta,
                last: dt.datetime | None) -> dt.datetime:
    """When one address's waiting rows go: the earliest of the fresh timer and the repeat timer."""
    firsts = [m.due_at for m in members if m.first_alert]
    if firsts:
        return min(firsts)  # never held back
    times: list[dt.datetime] = []
    fresh = [m.due_at for m in members if m.kind != REPEAT_KIND]
    if fresh:
        times.append(min(fresh) + window)
    repeats = [m.due_at for m in members if m.kind == REPEAT_KIND]
    if repeats:
        oldest = min(repeats)
        t = oldest + window
        if last is not None:
            t = max(t, min(last + repeat_gap, oldest + repeat_gap))
        times.append(t)
    return min(times)


# ---------------------------------------------------------------- what a bundle says


def urgency_key(ctx: dict[str, Any]) -> tuple[Any, ...]:
    """Most urgent first: 5-hour cases before others, then the earliest deadline (the longest overdue)."""
    return (ctx.get("clock_class") != "5h", str(ctx.get("deadline_at") or "9999"), int(ctx.get("case_id") or 0))


def bundle_context(items: list[tuple[str, dict[str, Any]]], base: dict[str, Any], *, reply_code: str | None,
                   console_url: str) -> dict[str, Any]:
    """The context of a bundle (docs/messages.md ``bundle``): one entry per case, most urgent first.

    A case with several rows in the bundle (its ``overdue`` and a ``repeat_overdue``)
    is listed once, by its latest news (the longest overdue); ``count`` is the number of cases.
    """
    by_case: dict[int, tuple[str, dict[str, Any]]] = {}
    for kind, ctx in items:
        cid = int(ctx.get("case_id") or 0)
        have = by_case.get(cid)
        rank = (int(ctx.get("overdue_seconds") or 0), int(ctx.get("repeat_no") or 0))
        if have is None or rank > (int(have[1].get("overdue_seconds") or 0), int(have[1].get("repeat_no") or 0)):
            by_case[cid] = (kind, ctx)
    listed = sorted(by_case.values(), key=lambda it: urgency_key(it[1]))
    out = {k: base[k] for k in ("recipient_name", "recipient_role", "county") if k in base}
    out.update({"items": [{"kind": k, "context": c} for k, c in listed], "count": len(listed),
                "case_ids": [int(c.get("case_id") or 0) for _, c in listed],
                "overdue_count": sum(1 for k, _ in listed if k in ("overdue", REPEAT_KIND)),
                "console_url": console_url, "urgent": True})
    if reply_code:
        out["reply_code"] = reply_code
    return out


def bundle_key(member_ids: list[int]) -> str:
    """The bundle row's cause key: the same members always make the same key (a second insert is refused)."""
    return "bundle:" + hashlib.sha256(",".join(str(i) for i in sorted(member_ids)).encode()).hexdigest()[:16]
