"""Direct table tests of the engine's pure rules: the ladder (``plan_due``) and when a clock starts.

Both are reached by the database lifecycle tests too; here each row is one
situation, with ``now`` passed in, so a change to the rule shows up as the row
it breaks.
"""

from __future__ import annotations

import datetime as dt

import pytest

from responder.engine.rules import clock_start
from responder.engine.ladder import plan_due, step_spec

UTC = dt.timezone.utc


def t(hhmm: str, day: int = 18) -> dt.datetime:
    h, m = hhmm.split(":")
    return dt.datetime(2022, 7, day, int(h), int(m), tzinfo=UTC)


# A 5-hour ladder shaped like config/policies.toml's: opened at once, a reminder at 60% elapsed,
# a warning an hour before, overdue at the deadline, then up to three repeats two hours apart.
LADDER_5H = {
    "ladder": [
        {"kind": "case_opened", "at": {"after_start_s": 0}},
        {"kind": "reminder", "at": {"left": 0.4}},
        {"kind": "warn", "at": {"offset_s": -3600}},
        {"kind": "overdue", "at": {"offset_s": 0}},
    ],
    "repeat": {"kind": "repeat_overdue", "every_s": 7200, "max": 3, "roles": ["principal"]},
}
NO_REPEAT = {"ladder": LADDER_5H["ladder"]}
ABSOLUTE = {"ladder": [{"kind": "milestone_reminder", "at": {"utc": "2022-07-18T03:00:00Z"}}]}
START, DEADLINE = t("00:00"), t("05:00")


@pytest.mark.parametrize(
    "policy, next_step, now, take, skipped, next_after, next_at",
    [
        # the opening step is due at the start
        (LADDER_5H, 0, t("00:00"), [0], [], 1, t("03:00")),
        # nothing due a minute before the 60% reminder
        (LADDER_5H, 1, t("02:59"), [], [], 1, t("03:00")),
        # a step is due at its instant exactly
        (LADDER_5H, 1, t("03:00"), [1], [], 2, t("04:00")),
        # overdue at the deadline; the first repeat two hours later
        (LADDER_5H, 3, t("05:00"), [3], [], 4, t("07:00")),
        # the engine was down (or the item arrived late): the opening step and only the latest
        # of the rest are taken; the reminder and the warning are skipped as noise
        (LADDER_5H, 0, t("05:30"), [0, 3], [1, 2], 4, t("07:00")),
        # the same without the opening step among them: only the latest
        (LADDER_5H, 1, t("05:30"), [3], [1, 2], 4, t("07:00")),
        # repeats: three are due, only the last is taken, and after `max` there is no next step
        (LADDER_5H, 4, t("13:00"), [6], [4, 5], 7, None),
        # past the end of a ladder without repeats: nothing more, ever
        (NO_REPEAT, 4, t("23:00"), [], [], 4, None),
        # an absolute step (plan milestones) is due at its UTC instant, whatever the clock's start
        (ABSOLUTE, 0, t("02:59"), [], [], 0, t("03:00")),
        (ABSOLUTE, 0, t("03:00"), [0], [], 1, None),
    ],
)
def test_plan_due_table(policy, next_step, now, take, skipped, next_after, next_at):
    """plan_due takes the due steps (the opening one and the latest), skips the overtaken, and names the next."""
    p = plan_due(policy, START, DEADLINE, next_step, now)
    assert [i for i, _spec, _at in p.take] == take
    assert list(p.skipped) == skipped
    assert p.next_step == next_after
    assert p.next_action_at == next_at


def test_repeat_steps_are_numbered_and_keep_their_roles():
    """A repeat after the deadline is its own step: kind, offset from the deadline, number and roles."""
    spec = step_spec(LADDER_5H, 5)
    assert spec["kind"] == "repeat_overdue" and spec["at"] == {"offset_s": 2 * 7200}
    assert spec["repeat_no"] == 2 and spec["roles"] == ["principal"]
    assert step_spec(LADDER_5H, 7) is None  # max = 3 repeats


NOW = t("10:00")
TOL = 300
FIRST_SEEN = t("09:30")


@pytest.mark.parametrize(
    "basis, event_at, published_at, started, used, note",
    [
        # the first public report starts the clock (rules.md: from the first report)
        ("first_report", None, t("09:00"), t("09:00"), "first_report", None),
        # responder saw it before its stated publication: the earlier of the two
        ("first_report", None, t("09:45"), FIRST_SEEN, "first_report", None),
        # within the clock-skew tolerance a slightly future time is still a publication time
        ("first_report", None, t("10:04"), FIRST_SEEN, "first_report", None),
        # no publication time: first seen, with a note saying so
        ("first_report", None, None, FIRST_SEEN, "first_seen", "发布时间缺失，按首次发现时间起算"),
        # a publication time in the future beyond the tolerance is not believed
        ("first_report", None, t("10:10"), FIRST_SEEN, "first_seen", "发布时间晚于当前时间，按首次发现时间起算"),
        # a policy on the event's own time starts there
        ("event", t("08:00"), t("09:00"), t("08:00"), "event", None),
        # without an event time it falls back to the first report, not to the later first-seen time
        ("event", None, t("09:00"), t("09:00"), "first_report", None),
        # an event time in the future is not believed either
        ("event", t("10:30"), t("09:00"), t("09:00"), "first_report", None),
        # first_report ignores an event time
        ("first_report", t("08:00"), t("09:00"), t("09:00"), "first_report", None),
        # a policy on first sight starts there whatever the feed says
        ("first_seen", t("08:00"), t("09:00"), FIRST_SEEN, "first_seen", None),
    ],
)
def test_clock_start_table(basis, event_at, published_at, started, used, note):
    """clock_start picks the earliest believable basis; a fallback always says why."""
    assert clock_start(basis, event_at=event_at, published_at=published_at, first_seen_at=FIRST_SEEN, now=NOW,
                       future_tolerance_s=TOL) == (started, used, note)
