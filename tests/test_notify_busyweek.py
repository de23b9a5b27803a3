"""Issue 17, done when: a busy week replayed with nobody answering, with the shipped policies and configuration,
counts SMS per person per day — bundled against one per case — and every 5-hour case's first alert is
delivered within the bundle window. Figures and command: docs/notifications.md ("SMS per person")."""

from __future__ import annotations

import asyncio

import pytest

from responder.testing import busyweek

pytestmark = pytest.mark.slow


def test_busy_week_nobody_answering_five_times_fewer_sms_for_the_flooded(tmp_path):
    """Reports dated by day, as the issue's replay had them: the people the per-case ladder flooded (the
    deputies and principals its repeats go to) get at least five times fewer SMS a day; no 5-hour case's
    first alert waits at all (it is never held back), let alone longer than ``bundle_window_s``."""
    res = asyncio.run(busyweek.run(tmp_path, n=60, days=2, dated=True))
    assert res["five_hour_cases"] >= 10 and res["first_alerts"] >= res["five_hour_cases"]
    assert res["first_alerts_undelivered"] == 0
    assert res["first_alert_max_wait_s"] is not None and res["first_alert_max_wait_s"] <= res["window_s"]
    before, after = res["per_person_day_before"], res["per_person_day_after"]
    flooded = {k.split("|")[0] for k, n in before.items() if n >= 40}  # 40+ SMS in one day, one per case
    assert flooded, before
    for person in sorted(flooded):
        b = sum(n for k, n in before.items() if k.startswith(person + "|"))
        a = sum(n for k, n in after.items() if k.startswith(person + "|"))
        assert b >= 5 * a, (person, b, a)
    assert res["busiest_total_before"] >= 5 * res["busiest_total_after"]
    assert res["max_per_person_hour_after"] * 5 <= res["max_per_person_hour_before"]
    assert res["sms_after"] < res["sms_before"] and res["gateway_received"] == res["sms_after"]
