"""Disclosure requests and inquiry answers on the engine's clocks, counted in working days: the face.

Why this shape: an obligation counted in working days is still one ``Clock``
with a deadline in UTC and the same ladder data, so ``engine.advance``, claims,
the outbox and the reports need no change (docs/engine.md). What differs is
computed from dates, with the calendar of ``responder.workdays``, in four rooms:

* ``vocabulary`` — the words of the rules (obligations, receipt channels,
  answer types, parties): pure data the engine's handler table may read;
* ``clocks`` — the policy and calendar, the date arithmetic, and the moves of
  a working-day clock (every change of its deadline bumps the generation,
  cancels the old schedule's queued messages and is audited, in one transaction);
* ``requests`` — what an operator does with a request, receipt to answer;
* ``sweep`` — the pass the pipeline runs: new requests and inquiries, calendar
  changes, the daily reminder while a year has no calendar.

Everything takes ``now``; only the command line reads the clock. The command
line, the console and the pipeline import this face.
"""

from __future__ import annotations

from responder.disclosure.clocks import (
    beijing_date, calendar_dir, calendar_for, closed_pauses, inquiry_policy, open_pause, request_count, request_policy,
    settings_calendar_dir, start_of_day_utc,
)
from responder.disclosure.requests import (
    add_request, answer, correction_notice, correction_received, extend, pause, request_view, resume,
)
from responder.disclosure.sweep import (
    CALENDAR_FP, INQUIRY_WATERMARK, REMIND_FROM_HOUR, UNKNOWN_REMINDED, SweepResult, live_workday_clocks, sweep,
)
from responder.disclosure.vocabulary import (
    ANSWER_LABELS, ANSWER_TYPES, CHANNELS, INQUIRY_OBLIGATION, LIVE, PARTIES, RECEIPT_RULE, REQUEST_OBLIGATION,
    WORKDAY_OBLIGATIONS, RequestError,
)

__all__ = [
    "ANSWER_LABELS", "ANSWER_TYPES", "CALENDAR_FP", "CHANNELS", "INQUIRY_OBLIGATION", "INQUIRY_WATERMARK", "LIVE",
    "PARTIES", "RECEIPT_RULE", "REMIND_FROM_HOUR", "REQUEST_OBLIGATION", "UNKNOWN_REMINDED", "WORKDAY_OBLIGATIONS",
    "RequestError", "SweepResult", "add_request", "answer", "beijing_date", "calendar_dir", "calendar_for",
    "closed_pauses", "correction_notice", "correction_received", "extend", "inquiry_policy", "live_workday_clocks",
    "open_pause", "pause", "request_count", "request_policy", "request_view", "resume", "settings_calendar_dir",
    "start_of_day_utc", "sweep",
]
