"""The contract between the engine and the obligations it drives.

The engine (``responder.engine.advance``) knows nothing about cases or plans: it
finds clocks whose ``next_action_at`` has come, works out which ladder steps of
the clock's *policy snapshot* are due, asks the obligation's handler whether the
obligation is already satisfied and what to say, writes the step and its outbox
messages in one transaction, and moves ``next_action_at`` on.

A clock's ``policy`` (JSON snapshot, fixed when the clock starts) has this shape::

    {
      "name": "major_release",             # policy name, for people and reports
      "obligation": "release_5h",          # the handler key (also Clock.obligation)
      "label": "5小时内发布权威信息",
      "basis": "国办发〔2016〕80号",          # where the deadline comes from
      "urgent": true,                      # never held by quiet hours or rate limits
      "channels": ["sms", "email"],
      "ladder": [                          # steps, in time order
        {"kind": "case_opened", "at": {"after_start_s": 0},
         "roles": ["liaison", "deputy"], "office_roles": []},
        {"kind": "reminder", "at": {"left": 0.4}, "roles": ["liaison", "deputy"]},
        {"kind": "final_warning", "at": {"left": 0.1}, "roles": ["liaison", "deputy", "principal"],
         "office_roles": ["liaison"]},
        {"kind": "overdue", "at": {"offset_s": 0}, "roles": [...], "office_roles": [...]},
        {"kind": "milestone_reminder", "at": {"utc": "2022-07-01T01:00:00Z"}, "roles": ["liaison"]}
      ],
      "repeat": {"kind": "repeat_overdue", "every_s": 7200, "max": 24,
                 "roles": [...], "office_roles": [...]}   # optional, after the deadline
    }

``at`` forms: ``after_start_s`` (seconds after the start), ``left`` (fraction of
the whole period still left: 0.4 → at 60% elapsed), ``offset_s`` (seconds
relative to the deadline, negative before it), ``utc`` (an absolute instant).
Recipients are the ``roles`` of the clock's unit (``Clock.unit_id``) and the
``office_roles`` of the county openness office, unless the handler overrides
:meth:`ObligationHandler.recipients`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from sqlmodel import Session

from responder.data import Contact
from responder.disclosure.handlers import HANDLERS as DISCLOSURE_HANDLERS
from responder.engine.case_handlers import HANDLERS as CASE_HANDLERS
from responder.models import Clock
from responder.plan.handlers import HANDLERS as PLAN_HANDLERS


class ObligationHandler(Protocol):
    def satisfied(self, session: Session, clock: Clock, now: dt.datetime) -> str | None:
        """Return a reason (Chinese) if the obligation is already met and the clock should stop
        without a message, else None. Called before every step. Case clocks are stopped when a
        release is recorded, so their handler may always return None; plan clocks check completion."""
        ...

    def context(self, session: Session, clock: Clock, step: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        """The message context for this step (see docs/messages.md); JSON-serialisable."""
        ...

    def recipients(self, session: Session, clock: Clock, step: dict[str, Any], settings: Any) -> list[Contact] | None:
        """Override the default recipients, or return None to use roles/office_roles."""
        ...


HANDLERS: dict[str, ObligationHandler] = {**CASE_HANDLERS, **PLAN_HANDLERS, **DISCLOSURE_HANDLERS}
"""The one table: every obligation the engine drives, and who answers for it.

Built at import from plain imports (the import-contract test sees them; nothing
is found by name). None of the modules it lists imports the engine's shell:
``disclosure.handlers`` reads only ``disclosure.vocabulary``, and the plan's
handlers only the plan (tests/test_architecture.py imports either room first).
"""


def handler_for(obligation: str) -> ObligationHandler | None:
    return HANDLERS.get(obligation)
