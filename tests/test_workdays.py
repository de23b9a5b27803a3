"""The working-day calendar and the count of 条例 deadlines (issue 19), pure: dates in, dates out.

Every expected date below was worked out by hand from the official arrangements
(tests/data/calendar/official-2025-2026.md), day by day, in the comments: the
receipt day is not counted (民法典 第201条), Saturdays/Sundays are off unless they
are 调休 make-up working days, holidays are off.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from responder.workdays import Calendar, CalendarFileError, end_of_day_utc, load_local_dir, parse_year_file

D = dt.date.fromisoformat
DATA = Path(__file__).parent / "data" / "calendar"


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return Calendar()


def test_package_data_is_the_arrangement_the_hand_computations_use() -> None:
    """The installed chinesecalendar still carries the 2025/2026 days the hand computations pass over."""
    from chinese_calendar import constants

    wd = {d for d in constants.workdays if d.year in (2025, 2026)}
    assert {D("2025-09-28"), D("2025-10-11"), D("2026-01-04"), D("2026-02-14"), D("2026-02-28"), D("2026-05-09"),
            D("2026-09-20"), D("2026-10-10")} <= wd
    hol = set(constants.holidays)
    for a, b in (("2025-10-01", "2025-10-08"), ("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"),
                 ("2026-04-04", "2026-04-06"), ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"),
                 ("2026-09-25", "2026-09-27"), ("2026-10-01", "2026-10-07")):
        d = D(a)
        while d <= D(b):
            assert d in hol, d
            d += dt.timedelta(days=1)


def test_ordinary_weekday_across_qingming(cal: Calendar) -> None:
    """Received Tue 2026-03-10: 20 working days end Wed 2026-04-08, 清明 (04-04…06) skipped."""
    # 03-11 W 1, 12 T 2, 13 F 3 | 16–20 → 4–8 | 23–27 → 9–13 | 30 M 14, 31 T 15, 04-01 W 16, 02 T 17, 03 F 18
    # 04-04 Sat, 05 Sun, 06 Mon: 清明 holiday | 04-07 T 19, 04-08 W 20
    c = cal.add_workdays(D("2026-03-10"), 20)
    assert (c.due_date, c.calendar) == (D("2026-04-08"), "package")


def test_saturday_receipt_is_not_a_day_early_or_late(cal: Calendar) -> None:
    """Received on an ordinary Saturday, 2026-06-06: the count starts Monday; due Mon 2026-07-06 (not 07-07)."""
    # 06-07 Sun off | 06-08 M 1 … 06-12 F 5 | 15 M 6, 16 7, 17 8, 18 T 9 | 06-19 F, 20, 21: 端午 holiday
    # 22–26 → 10–14 | 29 M 15, 30 T 16, 07-01 W 17, 02 T 18, 03 F 19 | 07-06 M 20
    c = cal.add_workdays(D("2026-06-06"), 20)
    assert c.due_date == D("2026-07-06")
    import chinese_calendar

    # rules.md §3.1: find_workday from a non-working day is one day late — the reason we count ourselves.
    assert chinese_calendar.find_workday(20, D("2026-06-06")) == D("2026-07-07")


def test_make_up_working_sunday(cal: Calendar) -> None:
    """Received on Sun 2026-09-20, a 调休 working day: due Fri 2026-10-23 (the 10-10 make-up Saturday counts)."""
    # 09-21 M 1, 22 2, 23 3, 24 T 4 | 09-25 F, 26, 27: 中秋 | 28 M 5, 29 6, 30 W 7 | 10-01…07: 国庆
    # 10-08 T 8, 09 F 9, 10-10 Sat (调休上班) 10 | 12–16 → 11–15 | 19–23 → 16–20
    c = cal.add_workdays(D("2026-09-20"), 20)
    assert c.due_date == D("2026-10-23")
    assert cal.is_workday(D("2026-09-20")) is True


def test_eve_of_national_day_week(cal: Calendar) -> None:
    """Received Wed 2026-09-30, the eve of 国庆: due Tue 2026-11-03."""
    # 10-01…07 holiday | 10-08 T 1, 09 F 2, 10 Sat (调休) 3 | 12–16 → 4–8 | 19–23 → 9–13 | 26–30 → 14–18
    # 11-02 M 19, 11-03 T 20
    assert cal.add_workdays(D("2026-09-30"), 20).due_date == D("2026-11-03")


def test_spring_festival_week(cal: Calendar) -> None:
    """Received Mon 2026-02-16, inside 春节 (online, confirmed during the holiday): due Fri 2026-03-20."""
    # 02-17…23 holiday | 24 T 1, 25 2, 26 3, 27 F 4, 02-28 Sat (调休) 5 | 03-02…06 → 6–10 | 09–13 → 11–15
    # 16–20 → 16–20
    assert cal.add_workdays(D("2026-02-16"), 20).due_date == D("2026-03-20")
    # and the eve of the festival, Fri 2026-02-13 (rules.md §3.1 table): 03-19
    assert cal.add_workdays(D("2026-02-13"), 20).due_date == D("2026-03-19")


def test_across_a_year_end(cal: Calendar) -> None:
    """Received Mon 2025-12-15: due Tue 2026-01-13, over 元旦 and the 01-04 make-up Sunday."""
    # 12-16 T 1 … 19 F 4 | 22–26 → 5–9 | 29 M 10, 30 11, 31 W 12 | 2026-01-01…03 元旦
    # 01-04 Sun (调休) 13 | 05–09 → 14–18 | 12 M 19, 13 T 20
    assert cal.add_workdays(D("2025-12-15"), 20).due_date == D("2026-01-13")


def test_rules_md_vectors(cal: Calendar) -> None:
    """The vectors of rules.md §3.1 (20, 40 and 7 working days), including the Saturday pitfall."""
    vectors = {"2025-09-28": ("2025-10-31", "2025-11-28", "2025-10-14"), "2025-10-18": ("2025-11-14", "2025-12-12", "2025-10-28"),
               "2025-10-20": ("2025-11-17", "2025-12-15", "2025-10-29"), "2025-09-30": ("2025-11-04", "2025-12-02", "2025-10-16"),
               "2026-02-13": ("2026-03-19", "2026-04-17", "2026-03-02")}
    for received, want in vectors.items():
        got = tuple(cal.add_workdays(D(received), n).due_date.isoformat() for n in (20, 40, 7))
        assert got == want, received


def test_pause_extension_and_correction_restart(cal: Calendar) -> None:
    """第33条 pauses are not counted; a 20-day extension; a 补正 restart counts from the corrected receipt."""
    # Paused Mon 03-16, resumed Fri 03-20: 03-17, 18, 19, 20 are not counted (4 working days), so the
    # 20th counted day moves from 04-08 by four working days: 04-09 T, 04-10 F, 04-13 M, 04-14 T.
    c = cal.add_workdays(D("2026-03-10"), 20, pauses=[(D("2026-03-16"), D("2026-03-20"))])
    assert (c.due_date, c.skipped) == (D("2026-04-14"), 4)
    # Extension to 40: from 04-08 (20): 04-09 21, 10 22, 13–17 → 23–27, 20–24 → 28–32, 27–30 → 33–36,
    # 05-01…05 劳动节, 05-06 W 37, 07 38, 08 F 39, 05-09 Sat (调休) 40.
    assert cal.add_workdays(D("2026-03-10"), 40).due_date == D("2026-05-09")
    # Corrected application received Fri 03-20: 23–27 → 1–5, 03-30…04-03 → 6–10, 04-07…10 → 11–14
    # (04-06 清明), 13–17 → 15–19, 04-20 M 20.
    assert cal.add_workdays(D("2026-03-20"), 20).due_date == D("2026-04-20")
    # 补正 notice (第30条, 7 working days) after 03-10: 11, 12, 13, 16, 17, 18, 19.
    assert cal.add_workdays(D("2026-03-10"), 7).due_date == D("2026-03-19")


def test_uncovered_year_is_strict_and_marked_unknown(cal: Calendar) -> None:
    """A deadline in 2027 (no data) counts Monday–Friday without holidays and says calendar 'unknown'."""
    # 12-16 W 1, 17 2, 18 F 3 | 21–25 → 4–8 (12-25 is a working day in China) | 28–31 → 9–12
    # 2027-01-01 F 13 (strict: no holiday assumed) | 04–08 → 14–18 | 11 M 19, 12 T 20
    c = cal.add_workdays(D("2026-12-15"), 20)
    assert (c.due_date, c.calendar, c.unknown_years) == (D("2027-01-12"), "unknown", (2027,))


def test_local_file_covers_a_year_and_wins_over_the_package(tmp_path: Path) -> None:
    """A local <year>.toml covers a year the package refuses, and replaces the package's data for its year."""
    cal = Calendar.from_dir(DATA)  # the TEST DATA 2027 file: 元旦 2027-01-01…03
    c = cal.add_workdays(D("2026-12-15"), 20)
    assert (c.due_date, c.calendar) == (D("2027-01-13"), "local")  # 01-01 no longer counted
    # A local 2026 that (for the test) has no 国庆 arrangement at all: the eve-of-国庆 count becomes plain weekdays.
    (tmp_path / "2026.toml").write_text('year = 2026\nsource = "test"\nholidays = [{ name = "元旦", date = 2026-01-01 }]\n',
                                        encoding="utf-8")
    local = Calendar.from_dir(tmp_path)
    # 10-01 T 1, 02 F 2, 05–09 → 3–7, 12–16 → 8–12, 19–23 → 13–17, 26 M 18, 27 19, 28 W 20
    assert local.add_workdays(D("2026-09-30"), 20).due_date == D("2026-10-28")
    assert local.source_for(2026) == "local" and local.source_for(2025) == "package"


def test_deadline_is_the_end_of_the_beijing_day() -> None:
    """24:00 Beijing on the due date is 16:00 UTC that day (民法典 第203条)."""
    assert end_of_day_utc(D("2026-04-08")) == dt.datetime(2026, 4, 8, 16, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("body, needle", [
    ('year = 2027\nsource = "x"\nholidays = [{ name = "元旦", from = 2026-12-31, to = 2027-01-02 }]', "is not in 2027"),
    ('year = 2027\nsource = "x"\nholidays = [{ name = "元旦", date = 2027-01-01 }]\nworkdays = [{ date = 2027-01-01 }]',
     "both a holiday"),
    ('year = 2027\nsource = "x"\nholidays = [{ name = "元旦", date = 2027-01-01 }]\nworkdays = [{ date = 2027-01-04 }]',
     "is a weekday"),
    ('year = 2027\nsource = "x"\nholidays = [{ name = "春节", from = 2027-02-10, to = 2027-02-05 }]', "is before from"),
    ('year = 2028\nsource = "x"\nholidays = [{ name = "元旦", date = 2028-01-01 }]', "does not match the file name"),
    ('year = 2027\nholidays = [{ name = "元旦", date = 2027-01-01 }]', "source"),
    ('year = 2027\nsource = "x"\nholidays = [{ name = "元旦", date = "2027-13-01" }]', "is not a date"),
])
def test_bad_local_file_is_refused_with_the_reason(tmp_path: Path, body: str, needle: str) -> None:
    """check-config's calendar check names the file, the key and what is wrong."""
    p = tmp_path / "2027.toml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(CalendarFileError, match=needle):
        parse_year_file(p)
    years, problems = load_local_dir(tmp_path)
    assert years == {} and any(needle in x for x in problems)


def test_request_deadline_command_prints_exactly_the_four_fields(tmp_path: Path) -> None:
    """`responder request deadline --json` needs no database and prints the documented object."""
    from responder.testing.engine import make_test_settings

    settings = make_test_settings(tmp_path)
    run = [sys.executable, "-m", "responder", "request", "deadline", "-c", str(settings.path), "--json"]
    out = subprocess.run([*run, "--received", "2026-09-30"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"received": "2026-09-30", "due_date": "2026-11-03", "working_days": 20, "calendar": "package"}
    out = subprocess.run([*run, "--received", "2026-12-15", "--days", "7"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"received": "2026-12-15", "due_date": "2026-12-24", "working_days": 7, "calendar": "package"}
    out = subprocess.run([*run, "--received", "2026-12-15"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"received": "2026-12-15", "due_date": "2027-01-12", "working_days": 20, "calendar": "unknown"}
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").glob("*.db"))
    (settings.path.parent / "calendar" / "2027.toml").write_text((DATA / "2027.toml").read_text(encoding="utf-8"), encoding="utf-8")
    out = subprocess.run([*run, "--received", "2026-12-15"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"received": "2026-12-15", "due_date": "2027-01-13", "working_days": 20, "calendar": "local"}


def test_package_years_agree_with_chinese_calendar_on_every_day() -> None:
    """Reading the package's tables once gives chinese_calendar.is_workday's answer on every covered day (2004–2026)."""
    import chinese_calendar

    cal, d = Calendar(), D("2004-01-01")
    while d <= D("2026-12-31"):
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d
        d += dt.timedelta(days=1)
