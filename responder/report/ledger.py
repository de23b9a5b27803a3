"""The response ledger (回应台账, issue 18): one row per matter and the rates the county is assessed on.

The annual 政务公开 assessment and third-party evaluations ask for a ledger with
evidence and for rates (answered; within 5 h / 24 h / 48 h; which units ran
late). Like the weekly log, a past period's ledger must be byte-identical
whenever it is made, so every figure is replayed from audit events recorded
before the period's end; current state (a case's level today, a clock's state
today) is never used for a figure. The few things read from tables are
written once and never change (a clock's unit, a release's time and link, the
opening item's source and link); the one exception, a case's co-units, is
labelled as such in docs/reports.md.

The database is read in exactly one place, :func:`load_rows`; everything else
is a pure function of those rows and the period's bounds, which is what lets
the tests check each figure by hand and the benchmark time the parts apart.
The periods themselves (``Period``, ``parse_period``, …) live in
``responder.report.periods`` and are re-exported here for the ledger's callers.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from responder import audit
from responder.models import AuditEvent, Case, Clock, Item, Release
from responder.report.periods import LedgerError, Period, make_period, month_period, parse_period, sub_periods
from responder.report.weekly import (
    CLOSE_LABELS, LEVEL_LABELS, OBLIGATION_LABELS, SOURCE_ROLE_LABELS, TERMINAL, _case_id, _parse_iso, _utc,
)
from responder.timeutil import iso_utc

LEDGER_VERSION = 1
HOUR = 3600
# The two promises (domain/rules.md): authoritative release within 5 hours for especially major / major
# emergencies, a response within 48 hours for all other opinion; 24 h is the press-conference mark
# (press_24h) the assessment also asks about.
WITHIN = (("5h", 5 * HOUR), ("24h", 24 * HOUR), ("48h", 48 * HOUR))
STATE_LABELS = {"on_time": "按时", "late": "逾期完成", "overdue": "超时未办", "cancelled": "已撤销", "open": "未到期"}
RELEASE_EVENTS = ("release.recorded", "release.matched", "release.confirmed")
CASE_EVENTS = ("case.opened", "case.reclassified", "case.upgraded", "case.closed", "case.acked", "clock.started",
               "clock.step", *RELEASE_EVENTS, *TERMINAL)
NOT_TO_ANSWER = ("duplicate", "not_ours")
"""Closure kinds that take a matter out of the response rate's denominator (a duplicate is counted once, under
the case it duplicates; a matter outside the county's remit is transferred, not answered)."""


# ---------------------------------------------------------------- the rows (the one place that reads)


@dataclass
class Rows:
    """Everything the ledger needs, read once: audit events and the write-once columns they point to."""

    events: list[tuple[int, dt.datetime, str, str, str, dict[str, Any]]] = field(default_factory=list)
    clock_units: dict[int, str | None] = field(default_factory=dict)
    releases: dict[int, dict[str, Any]] = field(default_factory=dict)
    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    co_units: dict[int, list[str]] = field(default_factory=dict)
    chain: dict[str, Any] = field(default_factory=dict)


def load_rows(session: Session, start: dt.datetime, end: dt.datetime) -> Rows:
    """Events in ``[start, end)`` that concern cases, and the write-once facts of the clocks, releases and items.

    Every event of a case opened at or after ``start`` is itself at or after
    ``start``, so one range query finds them all. Related rows are fetched by
    id range rather than by a list of ids (a year holds thousands of cases).
    """
    start, end = _utc(start), _utc(end)
    rows = Rows()
    evs = session.exec(select(AuditEvent.seq, AuditEvent.at, AuditEvent.kind, AuditEvent.subject, AuditEvent.actor,
                              AuditEvent.data)
                       .where(AuditEvent.kind.in_(CASE_EVENTS), AuditEvent.at >= start, AuditEvent.at < end)
                       .order_by(AuditEvent.seq)).all()
    # UtcDateTime already returns aware UTC values: no per-event conversion (90,000 events in a busy year).
    rows.events = [(seq, at, kind, subject, actor, data or {}) for seq, at, kind, subject, actor, data in evs]
    clock_ids = [int(e[5]["clock_id"]) for e in rows.events if e[2] == "clock.started" and e[5].get("clock_id") is not None]
    if clock_ids:
        rows.clock_units = dict(session.exec(select(Clock.id, Clock.unit_id).where(
            Clock.id >= min(clock_ids), Clock.id <= max(clock_ids))).all())
    rel_ids = [int(e[5]["release_id"]) for e in rows.events if e[2] in RELEASE_EVENTS and e[5].get("release_id") is not None]
    if rel_ids:
        for r in session.exec(select(Release.id, Release.case_id, Release.kind, Release.url, Release.title,
                                     Release.published_at).where(Release.id >= min(rel_ids), Release.id <= max(rel_ids))):
            rows.releases[r[0]] = {"case_id": r[1], "kind": r[2], "url": r[3] or "", "title": r[4] or "",
                                   "published_at": _utc(r[5])}
    case_ids = [cid for cid in (_case_id(e[3]) for e in rows.events if e[2] == "case.opened") if cid is not None]
    if case_ids:
        lo, hi = min(case_ids), max(case_ids)
        # The item that opened a case is the one attached without a reason (later ones carry theirs).
        for cid, src, link, seen in session.exec(
                select(Item.case_id, Item.source_name, Item.link, Item.first_seen_at)
                .where(Item.case_id >= lo, Item.case_id <= hi, Item.attach_reason.is_(None))
                .order_by(Item.first_seen_at, Item.id)).all():
            rows.items.setdefault(cid, {"source": src, "link": link or "", "first_seen_at": _utc(seen)})
        rows.co_units = {cid: list(co or []) for cid, co in session.exec(
            select(Case.id, Case.co_departments).where(Case.id >= lo, Case.id <= hi)).all()}
    seq, head = audit.head_at(session, end)
    rows.chain = {"seq": seq, "hash": head, "at": iso_utc(end)}
    return rows


# ---------------------------------------------------------------- one case (pure)


def _level_text(level: str | None, clock: str | None) -> str:
    return f"{LEVEL_LABELS.get(level, level)}（{clock}）" if clock else LEVEL_LABELS.get(level, str(level))


def _unit(units: dict[str, str], office: tuple[str, str], key: str | None) -> tuple[str, str]:
    """(id, name) of a unit given by id or by name; anything else falls to the office, as in the weekly log."""
    if key and key in units:
        return key, units[key]
    for uid, name in units.items():
        if key and name == key:
            return uid, name
    return office


def _by_case(rows: Rows) -> dict[int, list[tuple[int, dt.datetime, str, str, str, dict[str, Any]]]]:
    clock_case: dict[int, int] = {}
    out: dict[int, list[Any]] = {}
    for e in rows.events:
        cid = _case_id(e[3])
        if e[2] == "clock.started" and cid is not None and e[5].get("clock_id") is not None:
            clock_case[int(e[5]["clock_id"])] = cid
        if cid is None and e[2] == "clock.satisfied":  # recorded against "clock:N"
            cid = clock_case.get(int(e[5].get("clock_id") or 0))
        if cid is not None:
            out.setdefault(cid, []).append(e)
    return out


def case_row(case_id: int, events: list[Any], rows: Rows, end: dt.datetime, units: dict[str, str],
             office: tuple[str, str]) -> dict[str, Any] | None:
    """The ledger line of one case as it stood at ``end``, from its events before ``end``."""
    evs = [e for e in events if e[1] < end]
    opened = next((e for e in evs if e[2] == "case.opened"), None)
    if opened is None:
        return None
    d = opened[5]
    level, clock = d.get("level"), d.get("clock")
    reclass = []
    for e in evs:
        if e[2] in ("case.reclassified", "case.upgraded"):
            frm, to = e[5].get("from") or {}, e[5].get("to") or {}
            level, clock = to.get("level"), to.get("clock") or clock
            reason = e[5].get("reason") or "；".join((e[5].get("reasons") or [])[-1:])
            reclass.append({"at": iso_utc(e[1]), "kind": "upgraded" if e[2] == "case.upgraded" else "reclassified",
                            "from": _level_text(frm.get("level"), frm.get("clock")),
                            "to": _level_text(to.get("level"), to.get("clock")), "reason": reason, "actor": e[4]})
    lead_id, lead_name = _unit(units, office, d.get("department"))
    item = rows.items.get(case_id) or {}
    reasons = d.get("reasons") or []
    # Clocks: started, and their outcome as recorded before the end.
    started: dict[int, dict[str, Any]] = {}
    ended: dict[int, tuple[str, Any]] = {}
    assigned = None
    for e in evs:
        cl = e[5].get("clock_id")
        if e[2] == "clock.started" and cl is not None and e[5].get("obligation") != "plan_phase":
            started.setdefault(int(cl), e[5])
        elif e[2] in TERMINAL and cl is not None and int(cl) not in ended:
            ended[int(cl)] = (TERMINAL[e[2]], e)
        elif e[2] == "clock.step" and assigned is None and e[5].get("kind") == "case_opened":
            assigned = e[1]  # 交办: the opening notice to the responsible unit went out
    obligations = []
    for cl in sorted(started):
        sd = started[cl]
        deadline = _parse_iso(sd.get("deadline_at"))
        unit_id, unit_name = _unit(units, office, rows.clock_units.get(cl))
        ob = {"clock_id": cl, "kind": sd.get("obligation"), "label": OBLIGATION_LABELS.get(sd.get("obligation"),
                                                                                            sd.get("obligation")),
              "unit_id": unit_id, "unit_name": unit_name, "started_at": sd.get("started_at"),
              "deadline_at": iso_utc(deadline), "met_at": None, "state": "open", "late_s": None, "overdue_s": None,
              "settled_at": None, "reason": ""}
        if cl in ended:
            outcome, ev = ended[cl]
            ob["settled_at"], ob["reason"] = iso_utc(ev[1]), ev[5].get("reason") or ""
            if outcome == "cancelled":
                ob["state"] = "cancelled"
            else:
                met_at = _parse_iso(ev[5].get("met_at")) or ev[1]
                ob["met_at"] = iso_utc(met_at)
                ob["state"] = "on_time" if outcome == "met" else "late"
                if outcome == "met_late":
                    ob["late_s"] = max(0, int((met_at - deadline).total_seconds()))
        elif deadline is not None and deadline < end:
            ob["state"], ob["overdue_s"] = "overdue", int((end - deadline).total_seconds())
        obligations.append(ob)
    starts = [_parse_iso(s.get("started_at")) for s in started.values() if s.get("started_at")]
    clock_start = min(starts) if starts else opened[1]
    # Releases confirmed before the end, in order of publication.
    releases = []
    seen: set[int] = set()
    for e in evs:
        rid = e[5].get("release_id")
        if e[2] in RELEASE_EVENTS and rid is not None and int(rid) not in seen and int(rid) in rows.releases:
            seen.add(int(rid))
            r = rows.releases[int(rid)]
            releases.append({"release_id": int(rid), "at": iso_utc(r["published_at"]), "kind": r["kind"],
                             "url": r["url"], "title": r["title"], "recorded_at": iso_utc(e[1]), "_t": r["published_at"]})
    releases.sort(key=lambda r: (r["_t"], r["release_id"]))
    first = None
    if releases:
        r0 = releases[0]
        first = {k: r0[k] for k in ("release_id", "at", "kind", "url")}
        first["elapsed_s"] = max(0, int((r0["_t"] - clock_start).total_seconds()))
    for r in releases:
        r.pop("_t")
    closed = next((e for e in evs if e[2] == "case.closed"), None)
    close = None
    if closed is not None:
        ck = closed[5].get("kind") or ""
        reason = closed[5].get("reason") or ""
        rel = rows.releases.get(int(closed[5].get("release_id") or 0))
        if not reason and rel is not None:
            reason = f"已{rel['kind']}（{rel['url'] or rel['title']}）"
        close = {"at": iso_utc(closed[1]), "kind": ck, "label": CLOSE_LABELS.get(ck, ck), "reason": reason}
    to_answer = first is not None or close is None or close["kind"] not in NOT_TO_ANSWER
    return {
        "case_id": case_id, "title": d.get("title") or "", "source": item.get("source") or SOURCE_ROLE_LABELS["opinion"],
        "link": item.get("link") or "", "first_seen_at": iso_utc(item.get("first_seen_at")), "opened_at": iso_utc(opened[1]),
        "clock_start_at": iso_utc(clock_start), "level": level, "level_label": LEVEL_LABELS.get(level, "其他舆情"),
        "five_hour": clock == "5h", "reason": reasons[0] if reasons else "", "reclassifications": reclass,
        "unit_id": lead_id, "unit_name": lead_name,
        "co_units": [units.get(u, u) for u in rows.co_units.get(case_id, []) if u != d.get("department")],
        "assigned_at": iso_utc(assigned), "first_response": first, "obligations": obligations,
        "continued_releases": releases[1:], "evidence_urls": [r["url"] for r in releases if r["url"]],
        "acks": [{"at": iso_utc(e[1]), "actor": e[4], "note": e[5].get("note") or ""} for e in evs if e[2] == "case.acked"],
        "closed": close, "to_answer": to_answer,
    }


# ---------------------------------------------------------------- the rollups (pure)


def _rate(n: int, d: int) -> float | None:
    return None if d == 0 else round(n / d, 4)


def stats(cases: list[dict[str, Any]], obligations: list[dict[str, Any]]) -> dict[str, Any]:
    """The assessed figures of a set of matters and of a set of obligations."""
    to_answer = [c for c in cases if c["to_answer"]]
    elapsed = sorted(c["first_response"]["elapsed_s"] for c in to_answer if c["first_response"])
    out: dict[str, Any] = {"matters": len(cases), "to_answer": len(to_answer), "answered": len(elapsed),
                           "response_rate": _rate(len(elapsed), len(to_answer))}
    for name, limit in WITHIN:
        n = sum(1 for s in elapsed if s <= limit)
        out[f"within_{name}"] = n
        out[f"share_{name}"] = _rate(n, len(to_answer))
    out["median_s"] = int(statistics.median(elapsed)) if elapsed else None
    out["worst_s"] = elapsed[-1] if elapsed else None
    for st in ("on_time", "late", "overdue", "cancelled", "open"):
        out[st] = sum(1 for o in obligations if o["state"] == st)
    out["on_time_rate"] = _rate(out["on_time"], out["on_time"] + out["late"] + out["overdue"])
    out["worst_late_s"] = max((o["late_s"] for o in obligations if o["late_s"] is not None), default=None)
    return out


TREND_KEYS = ("matters", "response_rate", "share_5h", "share_24h", "share_48h", "on_time_rate", "overdue", "median_s")


def trend(now: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    """Change against the previous period; None where either side has no figure."""
    out = {}
    for k in TREND_KEYS:
        a, b = now.get(k), (before or {}).get(k)
        out[k] = None if a is None or b is None else (round(a - b, 4) if isinstance(a, float) or isinstance(b, float)
                                                       else a - b)
    return out


@dataclass(frozen=True)
class UnitsInfo:
    """The configured units (id → name, in configured order), the office, and the county's name."""

    names: dict[str, str]
    office: tuple[str, str]
    county: str

    @classmethod
    def from_settings(cls, settings: Any) -> UnitsInfo:
        return cls({u.id: u.name for u in settings.units}, (settings.office.id, settings.office.name),
                   settings.file.service.county)


def case_rows(rows: Rows, p: Period, info: UnitsInfo, *, as_of: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The lines of the cases opened inside ``p``, as they stood at ``as_of`` (default: the period's end)."""
    as_of = as_of or p.end
    out = []
    for cid, evs in _by_case(rows).items():
        op = next((e for e in evs if e[2] == "case.opened"), None)
        if op is None or not (p.start <= op[1] < p.end):
            continue
        row = case_row(cid, evs, rows, as_of, info.names, info.office)
        if row is not None:
            out.append(row)
    out.sort(key=lambda r: (r["opened_at"], r["case_id"]))
    return out


def _unit_filter(cases: list[dict[str, Any]], unit: str | None) -> list[dict[str, Any]]:
    if unit is None:
        return cases
    return [c for c in cases if c["unit_id"] == unit or any(o["unit_id"] == unit for o in c["obligations"])]


def _obls(cases: list[dict[str, Any]], unit: str | None = None) -> list[dict[str, Any]]:
    return [o for c in cases for o in c["obligations"] if unit is None or o["unit_id"] == unit]


def rollup(cases: list[dict[str, Any]], info: UnitsInfo, unit: str | None = None) -> dict[str, Any]:
    """Total and per-unit figures: matters by lead unit, obligations by the unit each clock was routed to."""
    total = stats(cases, _obls(cases, unit)) | {"unit_id": unit or "", "unit_name": info.names.get(unit, "合计")
                                                 if unit else "合计"}
    ids = {c["unit_id"] for c in cases} | {o["unit_id"] for o in _obls(cases)}
    if unit is not None:
        ids = {unit} & ids
    order = {u: i for i, u in enumerate(info.names)}
    per_unit = []
    for uid in sorted(ids, key=lambda u: (order.get(u, 10**6), u)):
        mine = [c for c in cases if c["unit_id"] == uid]
        name = info.names.get(uid) or (info.office[1] if uid == info.office[0] else uid)
        per_unit.append(stats(mine, _obls(cases, uid)) | {"unit_id": uid, "unit_name": name})
    return {"total": total, "units": per_unit}


def ledger(rows: Rows, p: Period, info: UnitsInfo, *, unit: str | None = None) -> dict[str, Any]:
    """The whole ledger of ``p``: its lines, the rollups, and the trend against the previous period.

    ``rows`` must cover the previous period too (``load_rows(s, p.previous().start, p.end)``).
    """
    cases = _unit_filter(case_rows(rows, p, info), unit)
    prev = p.previous()
    prev_cases = _unit_filter(case_rows(rows, prev, info), unit)
    current = rollup(cases, info, unit)
    before = rollup(prev_cases, info, unit)
    breakdown: dict[str, list[dict[str, Any]]] = {}
    opened = [(_parse_iso(c["opened_at"]), c) for c in cases]
    for kind in ("month", "quarter", "year"):
        items, last = [], None
        for sp in sub_periods(p, kind):
            mine = [c for t, c in opened if sp.start <= t < sp.end]
            s = stats(mine, _obls(mine, unit)) | {"key": sp.key, "label": sp.label, "from": sp.first.isoformat(),
                                                   "to": sp.last.isoformat()}
            s["trend"] = trend(s, last) if last is not None else trend(s, None)
            items.append(s)
            last = s
        breakdown[kind] = items
    for i, u in enumerate(current["units"]):
        pu = next((b for b in before["units"] if b["unit_id"] == u["unit_id"]), None)
        current["units"][i]["trend"] = trend(u, pu)
    summary = {
        "version": LEDGER_VERSION, "county": info.county, "unit": unit,
        "total": current["total"], "units": current["units"],
        "months": breakdown["month"], "quarters": breakdown["quarter"], "years": breakdown["year"],
        "previous": {"period": prev.as_json(), "total": before["total"]},
        "trend": trend(current["total"], before["total"]),
        "chain": rows.chain,
    }
    summary["text"] = summary_text(p, summary)
    for n, c in enumerate(cases, 1):
        c["number"] = n
    return {"period": p.as_json(), "rows": cases, "summary": summary}


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}".rstrip("0").rstrip(".") + "%"


def summary_text(p: Period, s: dict[str, Any]) -> str:
    """One paragraph a leader reads first: volume, the assessed rates, what ran late, and the trend."""
    from responder.timeutil import fmt_duration

    t = s["total"]
    if not t["matters"]:
        return f"{p.label}无新增舆情事项。"
    parts = [f"{p.label}共受理舆情事项{t['matters']}件，应回应{t['to_answer']}件，已回应{t['answered']}件"
             f"（回应率{_pct(t['response_rate'])}），5小时内{t['within_5h']}件（{_pct(t['share_5h'])}），"
             f"24小时内{t['within_24h']}件（{_pct(t['share_24h'])}），48小时内{t['within_48h']}件（{_pct(t['share_48h'])}）"]
    if t["median_s"] is not None:
        parts.append(f"首次回应用时中位数{fmt_duration(t['median_s'])}，最长{fmt_duration(t['worst_s'])}")
    parts.append(f"回应义务按时{t['on_time']}项、逾期完成{t['late']}项、期末仍超时{t['overdue']}项"
                 f"（按时率{_pct(t['on_time_rate'])}）")
    late_units = [u for u in s["units"] if u["late"] or u["overdue"]]
    if late_units:
        parts.append("存在逾期的单位：" + "、".join(f"{u['unit_name']}（逾期{u['late']}项、超时{u['overdue']}项）"
                                           for u in late_units))
    tr, prev = s["trend"], s["previous"]["total"]
    if prev["matters"]:
        d = tr["on_time_rate"]
        parts.append(f"与上期相比，事项{'增加' if tr['matters'] >= 0 else '减少'}{abs(tr['matters'])}件"
                     + ("" if d is None else f"，按时率{'上升' if d >= 0 else '下降'}{abs(d) * 100:.1f}个百分点"))
    return "；".join(parts) + "。"


def ledger_for(session: Session, settings: Any, p: Period, *, unit: str | None = None) -> dict[str, Any]:
    """Read once, then compute: the ledger of ``p`` from the database."""
    info = UnitsInfo.from_settings(settings)
    if unit is not None and unit not in info.names and unit != info.office[0]:
        raise LedgerError(f"--unit {unit!r} is not a configured unit")
    rows = load_rows(session, p.previous().start, p.end)
    return ledger(rows, p, info, unit=unit)


__all__ = [
    "CASE_EVENTS", "LEDGER_VERSION", "STATE_LABELS", "LedgerError", "Period", "Rows", "UnitsInfo", "case_row",
    "case_rows", "ledger", "ledger_for", "load_rows", "make_period", "month_period", "parse_period", "rollup", "stats",
    "sub_periods", "summary_text", "trend",
]
