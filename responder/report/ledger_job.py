"""The month-end job: archive, record and e-mail last month's response ledger, exactly once.

Built like the Monday job (:mod:`responder.report.job`): the slot (``[report]
ledger_at = "1 08:30"``: day of the month and Beijing time) is computed from the
``now`` the shell passes in; "once" is the database's job — the UNIQUE
``ledger_report.month`` settles a race between two daemons and a restart finds
the row. Files are written before the row and are a pure function of the
recorded events, so a process killed in between rewrites the same bytes. The
e-mails go through the outbox in the row's transaction, as the weekly log's do
(message kind ``weekly_report`` with ``report_name`` = 回应台账, so no new SMS
template code is needed at any provider).

:func:`list_ledger_archives` and :func:`ledger_archive_file` are what the
console lists and serves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from responder import audit
from responder.config.notify import channel_on
from responder.db import transaction
from responder.models import LedgerReport
from responder.report.job import enqueue_report_mail, write_archive
from responder.report.ledger import Period, ledger_for, month_period
from responder.report.ledger_render import LEDGER_FORMATS, ledger_tables, render_ledger, text_of, title_of
from responder.timeutil import BEIJING, UTC, as_utc, iso_utc

log = structlog.get_logger("responder.report")

AT_RE = re.compile(r"^\s*(\d{1,2})\s+(\d{1,2}):(\d{2})\s*$")
MONTH_RE = re.compile(r"^\d{4}-\d{2}$")


def parse_ledger_at(text: str) -> tuple[int, dt.time]:
    """``"1 08:30"`` → (1, 08:30). Days 1–28 only, so every month has the day."""
    m = AT_RE.match(text or "")
    if not m or not 1 <= int(m.group(1)) <= 28 or int(m.group(2)) > 23 or int(m.group(3)) > 59:
        raise ValueError(f"report.ledger_at {text!r}: expected a day of the month (1–28) and a time, such as \"1 08:30\"")
    return int(m.group(1)), dt.time(int(m.group(2)), int(m.group(3)))


def ledger_recipients(settings: Any) -> list[str]:
    r = settings.file.report
    return list(r.ledger_recipients if r.ledger_recipients is not None else r.recipients)


def validate_ledger_config(settings: Any) -> list[str]:
    """The slot parses and every recipient names a configured unit and a role it has a contact for."""
    problems = []
    try:
        parse_ledger_at(settings.file.report.ledger_at)
    except ValueError as exc:
        problems.append(str(exc))
    for key in ledger_recipients(settings):
        unit_id, sep, role = key.partition(":")
        unit = settings.unit(unit_id) if sep else None
        if unit is None:
            problems.append(f"report.ledger_recipients: {key!r} is not \"unit:role\" with a configured unit")
        elif unit.contact(role) is None:
            problems.append(f"report.ledger_recipients: unit {unit_id!r} has no {role!r} contact")
    return problems


def slot_after_month(settings: Any, p: Period) -> dt.datetime:
    """When the month ``p`` is due: the configured day and time of the following month, in UTC."""
    day, at = parse_ledger_at(settings.file.report.ledger_at)
    nxt = p.last + dt.timedelta(days=1)
    return dt.datetime.combine(nxt.replace(day=day), at, BEIJING).astimezone(UTC)


def next_ledger_at(settings: Any, now: dt.datetime) -> dt.datetime:
    """The next slot strictly after ``now`` (for the scheduler to wake at)."""
    now = as_utc(now, naive_is=UTC)
    p = month_period(now)
    for _ in range(3):
        slot = slot_after_month(settings, p)
        if slot > now:
            return slot
        first = p.last + dt.timedelta(days=1)
        nxt_last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        p = Period(first, nxt_last, "month")
    return slot


def run_ledger_if_due(engine: Engine, settings: Any, now: dt.datetime) -> str | None:
    """Write last month's ledger if its slot has passed and nobody has yet; return the month written."""
    now = as_utc(now, naive_is=UTC)
    p = month_period(now)
    if now < slot_after_month(settings, p):
        return None
    with Session(engine) as s:
        if s.exec(select(LedgerReport.id).where(LedgerReport.month == p.key)).first() is not None:
            return None
        lg = ledger_for(s, settings, p)
    files: dict[str, bytes] = {}
    for fmt in settings.file.report.ledger_formats:
        files.update(render_ledger(lg, fmt))
    target = write_archive(Path(settings.archive_dir) / "ledger", p.key, files)
    digests = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    chain = lg["summary"]["chain"]
    try:
        with transaction(engine) as s:
            s.add(LedgerReport(month=p.key, generated_at=now, chain_head=chain["hash"], chain_seq=chain["seq"],
                               path=str(target), summary=lg["summary"], files=digests))
            s.flush()  # the UNIQUE month: a second writer stops here
            sent_to = _enqueue_emails(s, settings, lg, str(target), now)
            audit.record(s, at=now, kind="report.ledger", subject=f"ledger:{p.key}",
                         data={"month": p.key, "start": iso_utc(p.start), "end": iso_utc(p.end),
                               "chain_seq": chain["seq"], "chain_head": chain["hash"], "path": str(target),
                               "files": digests, "recipients": sent_to})
    except IntegrityError:
        log.info("report.ledger_already_written", month=p.key)
        return None
    log.info("report.ledger_written", month=p.key, path=str(target), files=len(files))
    return p.key


def _mail_html(lg: dict[str, Any]) -> str:
    """The summary tables for the mail body (the whole ledger is in the archive and the attachment-sized files)."""
    out = []
    for t in ledger_tables(lg)[:2]:
        out.append(f"<h3>{html.escape(t['title'])}</h3><table border=\"1\" cellpadding=\"3\" style=\"border-collapse:collapse\">")
        out.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in t["columns"]) + "</tr>")
        for r in t["rows"] + ([t["total"]] if t["total"] else []):
            out.append("<tr>" + "".join(f"<td>{html.escape(text_of(c))}</td>" for c in r) + "</tr>")
        out.append("</table>")
    return "".join(out)


def _enqueue_emails(s: Session, settings: Any, lg: dict[str, Any], path: str, now: dt.datetime) -> list[str]:
    key = lg["period"]["key"]
    if not channel_on(settings.file.notify, "email"):
        log.warning("report.email_disabled", month=key)
        return []
    total = ledger_tables(lg)[0]
    text = "\n".join("，".join(text_of(c) for c in r) for r in [total["columns"], *total["rows"], total["total"]])
    ctx = {"week": lg["period"]["label"], "period": f"{lg['period']['from']} 至 {lg['period']['to']}",
           "summary": lg["summary"]["text"], "path": path, "html": _mail_html(lg), "text": text,
           "county": lg["summary"]["county"], "report_name": "舆情回应台账", "title": title_of(lg)}
    return enqueue_report_mail(s, settings, ledger_recipients(settings), key=f"ledger:{key}", context=ctx, now=now)


# ---------------------------------------------------------------- for the console


def list_ledger_archives(session: Session) -> list[dict[str, Any]]:
    """Archived monthly ledgers, newest first: month, when written, the files with their SHA-256, the totals."""
    out = []
    for r in session.exec(select(LedgerReport).order_by(LedgerReport.month.desc())).all():
        out.append({"month": r.month, "generated_at": iso_utc(r.generated_at), "path": r.path,
                    "files": [{"name": n, "sha256": h} for n, h in sorted(r.files.items())],
                    "summary": r.summary.get("text", ""), "total": r.summary.get("total", {}),
                    "chain_seq": r.chain_seq, "chain_head": r.chain_head})
    return out


def ledger_archive_file(session: Session, month: str, name: str) -> tuple[bytes, bool] | None:
    """The archived file's bytes and whether they still match the recorded SHA-256; None if there is no such file.

    Only names recorded in the row are served, so a request can never reach outside the archive.
    """
    if not MONTH_RE.match(month or ""):
        return None
    row = session.exec(select(LedgerReport).where(LedgerReport.month == month)).first()
    if row is None or name not in row.files:
        return None
    path = Path(row.path) / name
    if not path.is_file():
        return None
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest() == row.files[name]


__all__ = ["LEDGER_FORMATS", "ledger_archive_file", "list_ledger_archives", "next_ledger_at", "parse_ledger_at",
           "run_ledger_if_due", "slot_after_month", "validate_ledger_config"]
