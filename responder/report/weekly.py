"""The week's figures: a function of the database contents and the week's bounds, never of the clock.

A past week's log must be the same whenever it is made (a leader compares the
archived copy with a fresh one; the annual assessment recounts it), so every
figure is counted from timestamps that never change once written: audit events,
clock steps and delivery attempts inside ``[week_start, week_end)``. Current
state (a case's level today, a clock's state today) is not used where it could
have changed after the week; "still open and overdue at the week's end" is
replayed from the clock events recorded before the end.

The result is plain JSON (ISO UTC strings, seconds as integers) so it can be
stored in ``weekly_report.figures`` and rendered later into any format.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter, defaultdict
from typing import Any

from sqlmodel import Session, select

from responder import audit
from responder.models import AuditEvent, Case, Clock, ClockStep, DeliveryAttempt, Item, OutboxMessage
from responder.timeutil import BEIJING, UTC, as_utc, iso_utc

FIGURES_VERSION = 1
WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
DAY = dt.timedelta(days=1)

LEVEL_LABELS = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般", None: "其他舆情"}
LEVEL_ORDER = ("I", "II", "III", "IV", None)
OBLIGATION_LABELS = {
    "release_5h": "5小时内发布权威信息",
    "press_24h": "24小时内召开新闻发布会",
    "continued_release": "持续发布权威信息",
    "response_48h": "48小时内予以回应",
}
OBLIGATION_ORDER = ("release_5h", "press_24h", "continued_release", "response_48h")
STEP_LABELS = {
    "case_opened": "立案通知", "reminder": "时限提醒", "final_warning": "临期警告", "overdue": "超时通报",
    "repeat_overdue": "再次超时通报", "continued_release": "持续发布提醒",
}
CLOSE_LABELS = {"met": "已回应/发布", "duplicate": "重复", "not_ours": "非本县职责", "resolved": "已处置完毕"}
CHANNEL_LABELS = {"sms": "短信", "email": "电子邮件", "robot": "群机器人"}
SOURCE_ROLE_LABELS = {"opinion": "网络舆情", "incident": "突发事件信息", "release": "发布渠道"}
TERMINAL = {"clock.met": "met", "clock.met_late": "met_late", "clock.cancelled": "cancelled", "clock.satisfied": "met"}
CHANGE_KINDS = ("case.reclassified", "case.upgraded", "case.closed")
PLAN_UNAVAILABLE = "（计划数据不可用）"


class WeekError(ValueError):
    """A ``--week`` the operator typed that is not an ISO week."""


# ---------------------------------------------------------------- the week


def beijing_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), BEIJING).astimezone(UTC)


def week_bounds(week: str | None, now: dt.datetime) -> tuple[str, dt.datetime, dt.datetime]:
    """("2022-W30", start, end) in UTC: Monday 00:00 to the next Monday 00:00 Beijing time.

    ``None`` means the last complete week before ``now`` — the week a Monday
    morning job reports on, whatever the machine's own zone is.
    """
    if week is None:
        today = as_utc(now, naive_is=UTC).astimezone(BEIJING).date()
        monday = today - dt.timedelta(days=today.weekday()) - 7 * DAY
    else:
        m = WEEK_RE.match(week.strip())
        if not m:
            raise WeekError(f"week {week!r} is not an ISO week such as 2022-W30")
        year = int(m.group(1))
        if not 1970 <= year <= 9998:  # converting year 1 or 9999 to UTC overflows datetime (issue 13)
            raise WeekError(f"week {week!r}: the year must be between 1970 and 9998")
        try:
            monday = dt.date.fromisocalendar(year, int(m.group(2)), 1)
        except ValueError as exc:
            raise WeekError(f"week {week!r}: {exc}") from None
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}", beijing_midnight(monday), beijing_midnight(monday + 7 * DAY)


def period_label(start: dt.datetime, end: dt.datetime) -> str:
    a = start.astimezone(BEIJING).date()
    b = (end.astimezone(BEIJING) - DAY).date()
    tail = f"{b.month}月{b.day}日" if b.year == a.year else f"{b.year}年{b.month}月{b.day}日"
    return f"{a.year}年{a.month}月{a.day}日至{tail}"


# ---------------------------------------------------------------- helpers


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else as_utc(value, naive_is=UTC)


def _parse_iso(value: Any) -> dt.datetime | None:
    if not value:
        return None
    v = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return v if v.tzinfo else v.replace(tzinfo=UTC)


def _case_id(subject: str) -> int | None:
    if subject.startswith("case:"):
        try:
            return int(subject[5:])
        except ValueError:
            return None
    return None


def _rate(met: int, late: int, overdue: int) -> float | None:
    n = met + late + overdue
    return None if n == 0 else round(met / n, 4)


def _unit_of_department(settings: Any, department: str | None) -> Any:
    u = settings.unit(department) if department else None
    return u or settings.office


def _new_unit_row(unit_id: str, unit_name: str) -> dict[str, Any]:
    return {"unit_id": unit_id, "unit_name": unit_name, "opened": 0, "met": 0, "met_late": 0, "overdue_open": 0,
            "cancelled": 0, "on_time_rate": None, "steps": 0, "delivered": 0, "failed": 0, "changes": 0}


# ---------------------------------------------------------------- the figures


def weekly_figures(session: Session, settings: Any, week_start: dt.datetime, week_end: dt.datetime) -> dict[str, Any]:
    """Every figure of the weekly log, from rows and events timestamped inside the week."""
    start, end = _utc(week_start), _utc(week_end)
    assert start is not None and end is not None
    iso = start.astimezone(BEIJING).date().isocalendar()
    units: dict[str, dict[str, Any]] = {}
    unit_order = {u.id: i for i, u in enumerate(settings.units)}

    def unit_row(unit_id: str | None) -> dict[str, Any]:
        uid = unit_id or settings.office.id
        if uid not in units:
            u = settings.unit(uid)
            units[uid] = _new_unit_row(uid, u.name if u else uid)
        return units[uid]

    titles: dict[int, str] = {}

    def title_of(case_id: int | None) -> str:
        if case_id is None:
            return ""
        if case_id not in titles:
            c = session.get(Case, case_id)
            titles[case_id] = c.title if c else ""
        return titles[case_id]

    cases = _cases_opened(session, settings, start, end, unit_row)
    for c in cases:
        titles[c["case_id"]] = c["title"]
    obligations, timing = _obligations(session, start, end, unit_row, title_of)
    steps = _steps(session, start, end, unit_row)
    messages = _messages(session, start, end, unit_row)
    changes = _changes(session, start, end, unit_row, title_of)
    plan = _plan(session, settings, start, end)
    seq, head = audit.head_at(session, end)

    for row in units.values():
        row["on_time_rate"] = _rate(row["met"], row["met_late"], row["overdue_open"])
    total = _new_unit_row("", "合计")
    for row in units.values():
        for k in ("opened", "met", "met_late", "overdue_open", "cancelled", "steps", "delivered", "failed", "changes"):
            total[k] += row[k]
    total["on_time_rate"] = _rate(total["met"], total["met_late"], total["overdue_open"])

    figures: dict[str, Any] = {
        "version": FIGURES_VERSION,
        "week": f"{iso.year}-W{iso.week:02d}",
        "start": iso_utc(start), "end": iso_utc(end), "period": period_label(start, end),
        "county": settings.file.service.county,
        "units": sorted(units.values(), key=lambda r: (unit_order.get(r["unit_id"], 10**6), r["unit_id"])),
        "total": total,
        "cases": {
            "count": len(cases),
            "by_level": [{"level": lv, "label": LEVEL_LABELS[lv], "count": sum(1 for c in cases if c["level"] == lv)}
                         for lv in LEVEL_ORDER],
            "by_source": [{"source": s, "count": n} for s, n in sorted(Counter(c["source"] for c in cases).items(),
                                                                         key=lambda kv: (-kv[1], kv[0]))],
            "list": cases,
        },
        "obligations": obligations,
        "timing": timing,
        "steps": steps,
        "messages": messages,
        "changes": changes,
        "plan": plan,
        "requests": _requests(session, start, end),
        "chain": {"seq": seq, "hash": head, "at": iso_utc(end)},
    }
    figures["summary"] = summary_text(figures)
    return figures


def _cases_opened(session: Session, settings: Any, start: dt.datetime, end: dt.datetime, unit_row: Any) -> list[dict[str, Any]]:
    """Cases opened in the week, at the level they had at the week's end (reclassifications replayed)."""
    opened = session.exec(select(AuditEvent).where(AuditEvent.kind == "case.opened", AuditEvent.at >= start,
                                                   AuditEvent.at < end).order_by(AuditEvent.seq)).all()
    if not opened:
        return []
    subjects = [e.subject for e in opened]
    later = session.exec(select(AuditEvent).where(AuditEvent.kind.in_(("case.reclassified", "case.upgraded")),
                                                  AuditEvent.subject.in_(subjects), AuditEvent.at < end)
                         .order_by(AuditEvent.seq)).all()
    level_at_end: dict[str, str | None] = {e.subject: (e.data or {}).get("level") for e in opened}
    for e in later:
        to = (e.data or {}).get("to") or {}
        level_at_end[e.subject] = to.get("level")
    ids = [cid for cid in (_case_id(s) for s in subjects) if cid is not None]
    rows = {c.id: c for c in session.exec(select(Case).where(Case.id.in_(ids))).all()}
    # The item that opened a case is the one attached without a reason (later ones carry theirs).
    sources: dict[int, str] = {}
    for it in session.exec(select(Item).where(Item.case_id.in_(ids), Item.attach_reason.is_(None))
                           .order_by(Item.first_seen_at, Item.id)).all():
        sources.setdefault(it.case_id, it.source_name)
    out = []
    for e in opened:
        cid = _case_id(e.subject)
        case = rows.get(cid)
        data = e.data or {}
        department = data.get("department")
        unit = _unit_of_department(settings, department)
        level = level_at_end.get(e.subject)
        source = sources.get(cid) or SOURCE_ROLE_LABELS.get(case.source_role if case else "", "未知来源")
        unit_row(unit.id)["opened"] += 1
        out.append({"case_id": cid, "title": data.get("title") or (case.title if case else ""), "level": level,
                    "level_label": LEVEL_LABELS.get(level, "其他舆情"), "source": source, "unit_id": unit.id,
                    "unit_name": unit.name, "opened_at": iso_utc(e.at)})
    return out


def _requests(session: Session, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    from responder.disclosure.report import request_figures  # issue 19

    return request_figures(session, start, end)


def _obligations(session: Session, start: dt.datetime, end: dt.datetime, unit_row: Any,
                 title_of: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Clock outcomes: settled in the week (met / met late / cancelled), or open and overdue at its end."""
    # clock.satisfied is recorded against "clock:N", the others against "case:N": match on kind only.
    events = session.exec(select(AuditEvent).where(AuditEvent.kind.in_(("clock.started", *TERMINAL)), AuditEvent.at < end)
                          .order_by(AuditEvent.seq)).all()
    created: dict[int, dt.datetime] = {}
    ended: dict[int, tuple[str, AuditEvent]] = {}
    for e in events:
        cid = (e.data or {}).get("clock_id")
        if cid is None:
            continue
        if e.kind == "clock.started":
            created.setdefault(int(cid), _utc(e.at))
        elif int(cid) not in ended:
            ended[int(cid)] = (TERMINAL[e.kind], e)
    wanted = {cid for cid, (_, e) in ended.items() if _utc(e.at) >= start}
    clocks = {c.id: c for c in session.exec(select(Clock).where(Clock.case_id.is_not(None), Clock.deadline_at < end,
                                                                Clock.obligation != "plan_phase")).all()
              if c.id in created and c.id not in ended}
    if wanted:
        clocks.update({c.id: c for c in session.exec(select(Clock).where(Clock.id.in_(wanted))).all()})
    rows: list[dict[str, Any]] = []
    durations: dict[str, list[int]] = defaultdict(list)
    for cid in sorted(clocks):
        c = clocks[cid]
        if c.obligation == "plan_phase":
            continue
        deadline = _utc(c.deadline_at)
        started = _utc(c.started_at)
        row = {"clock_id": c.id, "case_id": c.case_id, "title": title_of(c.case_id), "unit_id": None, "unit_name": "",
               "obligation": c.obligation, "label": OBLIGATION_LABELS.get(c.obligation, c.policy.get("label", c.obligation)),
               "started_at": iso_utc(started), "deadline_at": iso_utc(deadline), "outcome": "", "met_at": None,
               "elapsed_s": None, "late_s": None, "overdue_s": None, "settled_at": None, "reason": ""}
        if cid in ended:
            outcome, ev = ended[cid]
            data = ev.data or {}
            met_at = _parse_iso(data.get("met_at")) or (_utc(ev.at) if outcome == "met" else None)
            row.update(outcome=outcome, settled_at=iso_utc(ev.at), reason=data.get("reason") or "")
            if outcome in ("met", "met_late") and met_at is not None:
                row["met_at"] = iso_utc(met_at)
                row["elapsed_s"] = max(0, int((met_at - started).total_seconds()))
                row["late_s"] = max(0, int((met_at - deadline).total_seconds()))
                durations[c.obligation].append(row["elapsed_s"])
        else:
            row.update(outcome="overdue_open", overdue_s=int((end - deadline).total_seconds()))
        u = unit_row(c.unit_id)
        row["unit_id"], row["unit_name"] = u["unit_id"], u["unit_name"]
        u[row["outcome"]] += 1
        rows.append(row)
    order = {"overdue_open": 0, "met_late": 1, "met": 2, "cancelled": 3}
    rows.sort(key=lambda r: (order[r["outcome"]], r["case_id"] or 0, r["clock_id"]))
    timing = []
    for ob in OBLIGATION_ORDER:
        ds = sorted(durations.get(ob, []))
        outcomes = Counter(r["outcome"] for r in rows if r["obligation"] == ob)
        timing.append({"obligation": ob, "label": OBLIGATION_LABELS[ob], "met": outcomes["met"],
                       "met_late": outcomes["met_late"], "overdue_open": outcomes["overdue_open"],
                       "cancelled": outcomes["cancelled"], "count": len(ds),
                       "median_s": int(statistics.median(ds)) if ds else None, "worst_s": ds[-1] if ds else None,
                       "worst_late_s": max((r["late_s"] or 0 for r in rows
                                            if r["obligation"] == ob and r["outcome"] == "met_late"), default=None)})
    return rows, timing


def _steps(session: Session, start: dt.datetime, end: dt.datetime, unit_row: Any) -> dict[str, Any]:
    rows = session.exec(select(ClockStep, Clock.unit_id).join(Clock, Clock.id == ClockStep.clock_id)
                        .where(ClockStep.taken_at >= start, ClockStep.taken_at < end, ClockStep.case_id.is_not(None))
                        ).all()
    by_kind: Counter[str] = Counter()
    messages = 0
    for st, unit_id in rows:
        by_kind[st.step_kind] += 1
        messages += st.messages
        unit_row(unit_id)["steps"] += 1
    kinds = [k for k in STEP_LABELS if by_kind[k]] + sorted(k for k in by_kind if k not in STEP_LABELS)
    return {"total": len(rows), "messages_queued": messages,
            "by_kind": [{"kind": k, "label": STEP_LABELS.get(k, k), "count": by_kind[k]} for k in kinds]}


def _messages(session: Session, start: dt.datetime, end: dt.datetime, unit_row: Any) -> dict[str, Any]:
    """Delivery outcomes recorded in the week: sent, failed for good, and transient failures retried."""
    rows = session.exec(select(DeliveryAttempt, OutboxMessage).join(OutboxMessage, OutboxMessage.id == DeliveryAttempt.outbox_id)
                        .where(DeliveryAttempt.finished_at.is_not(None), DeliveryAttempt.finished_at >= start,
                               DeliveryAttempt.finished_at < end).order_by(DeliveryAttempt.finished_at, DeliveryAttempt.id)).all()
    delivered: set[int] = set()
    failed: dict[int, tuple[DeliveryAttempt, OutboxMessage]] = {}
    retries = 0
    by_channel: dict[str, dict[str, int]] = {}
    for att, msg in rows:
        ch = by_channel.setdefault(msg.channel, {"delivered": 0, "failed": 0, "retries": 0})
        if att.outcome == "sent" and msg.id not in delivered:
            delivered.add(msg.id)
            ch["delivered"] += 1
            unit_row(msg.recipient.split(":", 1)[0])["delivered"] += 1
        elif att.outcome == "permanent" and msg.id not in failed:
            failed[msg.id] = (att, msg)
            ch["failed"] += 1
            unit_row(msg.recipient.split(":", 1)[0])["failed"] += 1
        elif att.outcome in ("retry", "unknown"):
            retries += 1
            ch["retries"] += 1
    failures = [{"outbox_id": m.id, "at": iso_utc(a.finished_at), "channel": m.channel,
                 "channel_label": CHANNEL_LABELS.get(m.channel, m.channel), "recipient": m.recipient, "kind": m.kind,
                 "case_id": m.case_id, "error": (a.error or a.provider_response or "")[:200]}
                for a, m in failed.values()]
    return {"delivered": len(delivered), "failed": len(failed), "retries": retries,
            "by_channel": [{"channel": c, "label": CHANNEL_LABELS.get(c, c), **v} for c, v in sorted(by_channel.items())],
            "failures": failures}


def _level_text(d: dict[str, Any] | None) -> str:
    if not d:
        return ""
    lv = d.get("level")
    return f"{LEVEL_LABELS.get(lv, lv)}（{d.get('clock', '')}）" if d.get("clock") else LEVEL_LABELS.get(lv, str(lv))


def _changes(session: Session, start: dt.datetime, end: dt.datetime, unit_row: Any, title_of: Any) -> list[dict[str, Any]]:
    events = session.exec(select(AuditEvent).where(AuditEvent.kind.in_(CHANGE_KINDS), AuditEvent.at >= start,
                                                   AuditEvent.at < end).order_by(AuditEvent.seq)).all()
    out = []
    for e in events:
        d = e.data or {}
        cid = _case_id(e.subject)
        if e.kind == "case.closed":
            kind = d.get("kind") or ""
            label = f"关闭：{CLOSE_LABELS.get(kind, kind)}"
            reason = d.get("reason") or ""
            if not reason:
                case = session.get(Case, cid) if cid else None
                reason = (case.close_reason or "") if case else ""
            frm, to = "", ""
        else:
            label = "调整级别" if e.kind == "case.reclassified" else "升级"
            reason = d.get("reason") or "；".join((d.get("reasons") or [])[-1:])
            frm, to = _level_text(d.get("from")), _level_text(d.get("to"))
        case = session.get(Case, cid) if cid else None
        unit = unit_row(_unit_id_of_case(session, cid) if cid else None)
        unit["changes"] += 1
        out.append({"at": iso_utc(e.at), "case_id": cid, "title": title_of(cid), "kind": e.kind, "label": label,
                    "from": frm, "to": to, "reason": reason, "actor": e.actor, "unit_id": unit["unit_id"],
                    "unit_name": unit["unit_name"], "close_kind": d.get("kind") if e.kind == "case.closed" else None,
                    "_case": bool(case)})
    for r in out:
        r.pop("_case")
    return out


def _unit_id_of_case(session: Session, case_id: int) -> str | None:
    """The unit of a case's first clock (clocks keep the unit they were routed to)."""
    return session.exec(select(Clock.unit_id).where(Clock.case_id == case_id).order_by(Clock.id).limit(1)).first()


def _plan(session: Session, settings: Any, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Plan progress as recorded before the week's end, statuses as of the week's end."""
    try:
        from responder.models import PlanCompletion, PlanExperience
        from responder.plan.load import plan_from_settings
        from responder.plan.progress import Progress, compute_progress
    except ImportError as exc:  # the plan capability is optional
        return {"available": False, "note": PLAN_UNAVAILABLE, "error": str(exc)}
    try:
        plan = plan_from_settings(settings)
    except Exception as exc:  # a broken plan file must not stop the log
        return {"available": False, "note": PLAN_UNAVAILABLE, "error": str(exc)}
    if plan is None:
        return {"available": False, "note": PLAN_UNAVAILABLE, "error": "data.plan is switched off"}
    done = {}
    for c in session.exec(select(PlanCompletion).where(PlanCompletion.plan_id == plan.id,
                                                       PlanCompletion.recorded_at < end)).all():
        done[(c.unit_id, c.requirement)] = _utc(c.done_at)
    exps: dict[str, list[tuple[str, str, dt.datetime]]] = {}
    for e in session.exec(select(PlanExperience).where(PlanExperience.plan_id == plan.id, PlanExperience.recorded_at < end)
                          .order_by(PlanExperience.recorded_at, PlanExperience.id)).all():
        exps.setdefault(e.unit_id, []).append((e.title, e.url, _utc(e.recorded_at)))
    progress = Progress(done=done, experiences={k: tuple(v) for k, v in exps.items()})
    p = compute_progress(plan, progress, end, week_start=start, week_end=end)
    completed = p["week"]["completed"]
    return {
        "available": True, "note": "", "plan_id": p["plan_id"], "plan_name": p["plan_name"], "document": p["document"],
        "phases": p["phases"], "totals": p["totals"],
        "units": [{k: u[k] for k in ("unit_id", "unit_name", "applicable", "done", "due", "overdue", "upcoming")}
                  | {"experiences": len(u["experiences"])} for u in p["units"]],
        "done_this_week": [c for c in completed if c["requirement"] != "experience"],
        "experiences_this_week": [c for c in completed if c["requirement"] == "experience"],
        "units_with_experience": p["units_with_experience"],
    }


# ---------------------------------------------------------------- the summary


def _dur(seconds: int | None) -> str:
    from responder.timeutil import fmt_duration

    return "—" if seconds is None else fmt_duration(seconds)


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}".rstrip("0").rstrip(".") + "%"


def summary_text(f: dict[str, Any]) -> str:
    """What a leader should look at first, most urgent first, in one paragraph."""
    t = f["total"]
    cases = f["cases"]
    major = sum(r["count"] for r in cases["by_level"] if r["level"] in ("I", "II"))
    parts = [f"本周新增舆情{cases['count']}件（特别重大、重大{major}件）"]
    settled = t["met"] + t["met_late"] + t["overdue_open"]
    if settled:
        parts.append(f"应办结回应义务{settled}项，按时{t['met']}项，逾期完成{t['met_late']}项，"
                     f"周末仍超时未办{t['overdue_open']}项，按时率{_pct(t['on_time_rate'])}")
    else:
        parts.append("本周无到期的回应义务")
    first = "。".join(parts) + "。"
    alerts = []
    open_rows = [r for r in f["obligations"] if r["outcome"] == "overdue_open"]
    if open_rows:
        by_unit = Counter(r["unit_name"] for r in open_rows)
        worst = max(open_rows, key=lambda r: r["overdue_s"] or 0)
        alerts.append(f"请首先督办超时未办的{len(open_rows)}项（"
                      + "、".join(f"{u}{n}项" for u, n in by_unit.most_common())
                      + f"），其中案件#{worst['case_id']}“{worst['label']}”至周末已超时{_dur(worst['overdue_s'])}")
    late_rows = [r for r in f["obligations"] if r["outcome"] == "met_late"]
    if late_rows:
        worst = max(late_rows, key=lambda r: r["late_s"] or 0)
        alerts.append(f"逾期完成{len(late_rows)}项，最长逾期{_dur(worst['late_s'])}（案件#{worst['case_id']}，{worst['unit_name']}）")
    m = f["messages"]
    if m["failed"]:
        chans = "、".join(f"{c['label']}{c['failed']}条" for c in m["by_channel"] if c["failed"])
        alerts.append(f"{m['failed']}条提醒发送失败（{chans}），请核对联系人信息")
    p = f["plan"]
    if p.get("available") and p["totals"].get("overdue"):
        n_units = sum(1 for u in p["units"] if u["overdue"])
        alerts.append(f"实施方案有{p['totals']['overdue']}项要求逾期未完成（涉及{n_units}个单位）")
    if not alerts:
        return first + "本周各项回应均按时完成，无需特别关注。"
    return first + "；".join(alerts) + "。"
