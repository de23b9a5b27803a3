"""The Monday job: archive, record and e-mail the last complete week's log, exactly once.

The slot ("mon 08:30") is Beijing time and is computed with zoneinfo from the
``now`` the shell passes in, so the machine's own zone (often UTC on servers)
never matters. "Once" is the database's job, not the scheduler's: the job
runs whenever it is asked and does nothing unless the slot has passed and the
week has no ``weekly_report`` row; the UNIQUE ``week`` column settles a race
between two daemons, and a restart simply finds the row. The archive files
are written before the row; they are a pure function of the figures, so a
process killed in between rewrites the same bytes on its next try.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
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
from responder.models import WeeklyReport
from responder.notify import enqueue
from responder.report.render import ReportRenderError, html_fragment, render_weekly
from responder.report.weekly import DAY, week_bounds, weekly_figures
from responder.timeutil import BEIJING, UTC, as_utc, iso_utc

log = structlog.get_logger("responder.report")

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT_RE = re.compile(r"^\s*([a-z]{3})\s+(\d{1,2}):(\d{2})\s*$")


def parse_slot(text: str) -> tuple[int, dt.time]:
    """``"mon 08:30"`` → (0, 08:30); Beijing time, like every time an operator writes."""
    m = SLOT_RE.match(text.lower())
    if not m or m.group(1) not in DAYS or int(m.group(2)) > 23 or int(m.group(3)) > 59:
        raise ValueError(f"schedule.weekly_report {text!r}: expected a day and a time such as \"mon 08:30\"")
    return DAYS.index(m.group(1)), dt.time(int(m.group(2)), int(m.group(3)))


def _slot(settings: Any) -> tuple[int, dt.time]:
    return parse_slot(settings.file.schedule.weekly_report)


def slot_after_week(settings: Any, week_end: dt.datetime) -> dt.datetime:
    """The first configured slot at or after the week's end (the Monday 00:00 that closes it), in UTC."""
    day, at = _slot(settings)
    monday = week_end.astimezone(BEIJING).date()
    return dt.datetime.combine(monday + day * DAY, at, BEIJING).astimezone(UTC)


def next_weekly_at(settings: Any, now: dt.datetime) -> dt.datetime:
    """The next slot strictly after ``now``, in UTC, for the scheduler to sleep until."""
    now = as_utc(now, naive_is=UTC)
    day, at = _slot(settings)
    today = now.astimezone(BEIJING).date()
    monday = today - dt.timedelta(days=today.weekday())
    slot = dt.datetime.combine(monday + day * DAY, at, BEIJING).astimezone(UTC)
    while slot <= now:
        slot = (slot.astimezone(BEIJING) + 7 * DAY).astimezone(UTC)
    return slot


def render_all(settings: Any, figures: dict[str, Any]) -> dict[str, bytes]:
    """Every configured format; a format whose optional library is missing is logged and left out."""
    files: dict[str, bytes] = {}
    for fmt in settings.file.report.formats:
        try:
            files.update(render_weekly(figures, fmt))
        except ReportRenderError as exc:
            if fmt != "xlsx":
                raise
            log.warning("report.format_skipped", format=fmt, error=str(exc))
    return files


def write_archive(archive_dir: Path, week: str, files: dict[str, bytes]) -> Path:
    """Write into ``<archive>/<year>/<week>/``, each file atomically (a reader never sees half a log)."""
    target = Path(archive_dir) / week[:4] / week
    target.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        tmp = target / f".{name}.tmp{os.getpid()}"
        try:
            tmp.write_bytes(content)
            os.replace(tmp, target / name)
        except OSError:
            tmp.unlink(missing_ok=True)  # a full disk leaves no half-written file behind; the week is retried
            raise
    return target


def run_weekly_if_due(engine: Engine, settings: Any, now: dt.datetime) -> str | None:
    """Write the last complete week's log if its slot has passed and nobody has yet; return the week written."""
    now = as_utc(now, naive_is=UTC)
    week, start, end = week_bounds(None, now)
    if now < slot_after_week(settings, end):
        return None
    with Session(engine) as s:
        if s.exec(select(WeeklyReport.id).where(WeeklyReport.week == week)).first() is not None:
            return None
        figures = weekly_figures(s, settings, start, end)
    files = render_all(settings, figures)
    target = write_archive(settings.archive_dir, week, files)
    html_name = next((n for n in files if n.endswith(".html")), None)
    path = str(target / html_name) if html_name else str(target)
    digests = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    try:
        with transaction(engine) as s:
            row = WeeklyReport(week=week, generated_at=now, chain_head=figures["chain"]["hash"],
                               chain_seq=figures["chain"]["seq"], path=str(target), figures=figures, files=digests)
            s.add(row)
            s.flush()  # the UNIQUE week: a second writer stops here
            sent_to = _enqueue_emails(s, settings, figures, path, now)
            audit.record(s, at=now, kind="report.weekly", subject=f"report:{week}",
                         data={"week": week, "start": iso_utc(start), "end": iso_utc(end),
                               "chain_seq": figures["chain"]["seq"], "chain_head": figures["chain"]["hash"],
                               "path": str(target), "files": digests, "recipients": sent_to})
    except IntegrityError:
        log.info("report.weekly_already_written", week=week)
        return None
    log.info("report.weekly_written", week=week, path=str(target), files=len(files))
    return week


def _enqueue_emails(s: Session, settings: Any, figures: dict[str, Any], path: str, now: dt.datetime) -> list[str]:
    if not channel_on(settings.file.notify, "email"):
        log.warning("report.email_disabled", week=figures["week"])
        return []
    md = render_weekly(figures, "md")
    ctx = {"week": figures["week"], "period": figures["period"], "summary": figures["summary"], "path": path,
           "html": html_fragment(figures), "text": next(iter(md.values())).decode(), "county": figures["county"]}
    return enqueue_report_mail(s, settings, settings.file.report.recipients, key=f"weekly:{figures['week']}",
                               context=ctx, now=now)


def enqueue_report_mail(s: Session, settings: Any, recipients: list[str], *, key: str, context: dict[str, Any],
                        now: dt.datetime) -> list[str]:
    """One ``weekly_report`` e-mail per ``unit:role`` recipient, in the caller's transaction; returns who got one.

    The weekly log and the month-end ledger share it, so a recipient missing
    from the units is logged and skipped the same way for both.
    """
    sent_to = []
    for rk in recipients:
        unit_id, _, role = rk.partition(":")
        unit = settings.unit(unit_id)
        contact = unit.contact(role) if unit else None
        if contact is None:
            log.warning("report.recipient_missing", recipient=rk)
            continue
        if enqueue(s, now=now, key=key, kind="weekly_report", contact=contact, context=context, channels=["email"]):
            sent_to.append(rk)
    return sent_to
