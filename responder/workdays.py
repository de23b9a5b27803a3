"""China's official working-day calendar, and counting working days the way the law counts them.

Why a module of its own: working days in China are not Monday to Friday. The State
Council's annual arrangement (国务院办公厅关于部分节假日安排的通知, published around
November as a 国办发明电 notice) moves holidays and turns some weekends into working
days (调休). Deadlines of the 政府信息公开条例 (第30、32、33条) and local inquiry rules
are counted in those working days, and a wrong day is a breach of the law.

Two sources, the local one winning:

* the ``chinesecalendar`` package (``import chinese_calendar``), which refuses a
  year it has no data for instead of guessing — exactly what a legal deadline needs;
* a local file per year (``config/calendar/<year>.toml``) that the office adds the
  day the State Council publishes the next arrangement, without waiting for a
  package release. A local year replaces the package's data for that year entirely.

When neither covers a year the deadline needs, nothing is guessed: the count treats
that year's Monday-to-Friday as working days and nothing else (no holidays, no make-up
weekend days) and the result says ``calendar = "unknown"``. The date is the strict one
for holidays (which only push a deadline later); a make-up weekend day falling inside
the window could bring it one day earlier, which is why the obligation is marked and
the office reminded until the year is added.

Counting (民法典 第201条, rules.md §3.1): the start day is not counted; the period
runs from the next day; the deadline is the end (24:00, Beijing time) of the last
working day. Pure: dates in, dates out; no database, no engine, no clock.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Literal

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""China has had no daylight saving since 1991: a fixed +08:00 is exact for every date we count."""

CalendarSource = Literal["package", "local", "unknown"]
DAY = dt.timedelta(days=1)


class CalendarFileError(ValueError):
    """A local calendar file is wrong; the message names the file, the key and the problem."""


@dataclass(frozen=True)
class YearArrangement:
    """One year's official arrangement from a local file: holidays and make-up working days."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    """Make-up working days (调休上班): weekend days that are working days."""
    source: str
    path: str = ""
    names: dict[dt.date, str] = field(default_factory=dict, compare=False)


# ---------------------------------------------------------------- local files


def _as_date(v: Any, where: str) -> dt.date:
    if isinstance(v, dt.datetime):
        raise CalendarFileError(f"{where}: {v!r} is a date-time; write a date (YYYY-MM-DD)")
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v.strip())
        except ValueError:
            pass
    raise CalendarFileError(f"{where}: {v!r} is not a date (YYYY-MM-DD)")


def parse_year_file(path: str | Path, raw: dict[str, Any] | None = None) -> YearArrangement:
    """Read and check one ``<year>.toml``; raise :class:`CalendarFileError` listing every problem.

    The checks are what a typo in an official arrangement would break: the year in
    the file and its name agree; every date lies in that year; a holiday range runs
    forwards; no day is both a holiday and a working day; a make-up working day is a
    Saturday or Sunday (a weekday is already a working day); the source is named.
    """
    path = Path(path)
    problems: list[str] = []
    if raw is None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CalendarFileError(f"{path}: cannot read: {exc}") from None
    known = {"year", "source", "published", "note", "holidays", "workdays"}
    for k in raw:
        if k not in known:
            problems.append(f"{path}: {k}: unknown key (known: {', '.join(sorted(known))})")
    year = raw.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise CalendarFileError("; ".join([*problems, f"{path}: year: must be an integer, e.g. year = 2027"]))
    if path.stem.isdigit() and int(path.stem) != year:
        problems.append(f"{path}: year: {year} does not match the file name ({path.name} should hold year {path.stem})")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append(f"{path}: source: name the official notice (e.g. 国务院办公厅关于{year}年部分节假日安排的通知（国办发明电〔…〕…号）)")
        source = ""
    holidays: dict[dt.date, str] = {}
    workdays: dict[dt.date, str] = {}

    def in_year(d: dt.date, where: str) -> bool:
        if d.year != year:
            problems.append(f"{path}: {where}: {d.isoformat()} is not in {year}")
            return False
        return True

    for i, h in enumerate(raw.get("holidays") or []):
        where = f"holidays[{i}]"
        if not isinstance(h, dict):
            problems.append(f"{path}: {where}: expected {{ name = \"…\", from = YYYY-MM-DD, to = YYYY-MM-DD }}")
            continue
        extra = set(h) - {"name", "from", "to", "date"}
        if extra:
            problems.append(f"{path}: {where}: unknown key(s) {', '.join(sorted(extra))}")
        name = str(h.get("name") or "")
        if not name:
            problems.append(f"{path}: {where}.name: name the holiday (元旦, 春节, …)")
        try:
            if "date" in h:
                start = end = _as_date(h["date"], f"{path}: {where}.date")
            else:
                start = _as_date(h.get("from"), f"{path}: {where}.from")
                end = _as_date(h.get("to", h.get("from")), f"{path}: {where}.to")
        except CalendarFileError as exc:
            problems.append(str(exc))
            continue
        if end < start:
            problems.append(f"{path}: {where}: to ({end}) is before from ({start})")
            continue
        if not (in_year(start, f"{where}.from") and in_year(end, f"{where}.to")):
            continue
        d = start
        while d <= end:
            if d in holidays:
                problems.append(f"{path}: {where}: {d.isoformat()} is already a holiday ({holidays[d]})")
            holidays[d] = name
            d += DAY
    for i, w in enumerate(raw.get("workdays") or []):
        where = f"workdays[{i}]"
        if not isinstance(w, dict):
            problems.append(f"{path}: {where}: expected {{ date = YYYY-MM-DD, name = \"春节调休上班\" }}")
            continue
        extra = set(w) - {"name", "date"}
        if extra:
            problems.append(f"{path}: {where}: unknown key(s) {', '.join(sorted(extra))}")
        try:
            d = _as_date(w.get("date"), f"{path}: {where}.date")
        except CalendarFileError as exc:
            problems.append(str(exc))
            continue
        if not in_year(d, f"{where}.date"):
            continue
        if d.weekday() < 5:
            problems.append(f"{path}: {where}.date: {d.isoformat()} is a weekday, already a working day; "
                            "a make-up working day (调休上班) is a Saturday or Sunday")
        if d in holidays:
            problems.append(f"{path}: {where}.date: {d.isoformat()} is both a holiday ({holidays[d]}) and a working day")
        if d in workdays:
            problems.append(f"{path}: {where}.date: {d.isoformat()} is listed twice")
        workdays[d] = str(w.get("name") or "调休上班")
    if not holidays:
        problems.append(f"{path}: holidays: the file lists no holiday; every official arrangement has some")
    if problems:
        raise CalendarFileError("; ".join(problems))
    return YearArrangement(year=year, holidays=frozenset(holidays), workdays=frozenset(workdays), source=source,
                           path=str(path), names={**holidays, **workdays})


def load_local_dir(directory: str | Path | None) -> tuple[dict[int, YearArrangement], list[str]]:
    """Every ``<year>.toml`` in ``directory``: (years, problems). A missing directory is no local year."""
    years: dict[int, YearArrangement] = {}
    problems: list[str] = []
    if directory is None:
        return years, problems
    d = Path(directory)
    if not d.is_dir():
        return years, problems
    for p in sorted(d.glob("*.toml")):
        if not p.stem.isdigit():
            problems.append(f"{p}: a calendar file is named after its year, e.g. 2027.toml")
            continue
        try:
            ya = parse_year_file(p)
        except CalendarFileError as exc:
            problems.append(str(exc))
            continue
        years[ya.year] = ya
    return years, problems


def fingerprint(directory: str | Path | None) -> str:
    """What changes when a local file is added, edited or removed (names, sizes, mtimes) and the package version."""
    parts = [f"pkg:{_package_version()}"]
    if directory is not None and Path(directory).is_dir():
        for p in sorted(Path(directory).glob("*.toml")):
            st = p.stat()
            parts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


@lru_cache(maxsize=1)
def _package_version() -> str:
    """Read once: the installed package does not change under a running process (a new one needs a restart)."""
    try:
        from importlib.metadata import version

        return version("chinesecalendar")
    except Exception:
        return "?"


# ---------------------------------------------------------------- the calendar


@lru_cache(maxsize=64)
def _package_year(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    from chinese_calendar import constants

    return (frozenset(d for d in constants.holidays if d.year == year),
            frozenset(d for d in constants.workdays if d.year == year))


@dataclass(frozen=True)
class Count:
    """The result of counting working days."""

    start: dt.date
    """The day the count starts after (not itself counted)."""
    due_date: dt.date
    working_days: int
    calendar: CalendarSource
    """``local`` if any counted day came from a local file, ``unknown`` if any year was not covered, else ``package``."""
    unknown_years: tuple[int, ...] = ()
    skipped: int = 0
    """Working days inside pauses, not counted."""

    def deadline_utc(self) -> dt.datetime:
        return end_of_day_utc(self.due_date)


def end_of_day_utc(d: dt.date) -> dt.datetime:
    """24:00 Beijing time at the end of ``d`` (民法典 第203条), in UTC."""
    return dt.datetime.combine(d + DAY, dt.time(0), BEIJING).astimezone(dt.timezone.utc)


class Calendar:
    """Working days from local files (winning) and the package; ``None`` where neither knows."""

    def __init__(self, local: dict[int, YearArrangement] | None = None, *, use_package: bool = True) -> None:
        self.local = dict(local or {})
        self.use_package = use_package
        self._pkg_years: dict[int, bool] = {}

    @classmethod
    def from_dir(cls, directory: str | Path | None) -> "Calendar":
        """Local files that parse; a bad file is left out (``check-config`` names it) so it can never half-apply."""
        years, _problems = load_local_dir(directory)
        return cls(years)

    def source_for(self, year: int) -> CalendarSource:
        if year in self.local:
            return "local"
        if self.use_package and self._package_covers(year):
            return "package"
        return "unknown"

    def _package_covers(self, year: int) -> bool:
        if year not in self._pkg_years:
            import chinese_calendar

            try:
                chinese_calendar.is_workday(dt.date(year, 6, 30))
                self._pkg_years[year] = True
            except NotImplementedError:  # "no available data for year …": the package refuses to guess
                self._pkg_years[year] = False
        return self._pkg_years[year]

    def is_workday(self, d: dt.date) -> bool | None:
        """True/False on the official calendar; None when no source covers ``d``'s year."""
        src = self.source_for(d.year)
        if src == "local":
            ya = self.local[d.year]
            if d in ya.workdays:
                return True
            return d.weekday() < 5 and d not in ya.holidays
        if src == "package":
            # chinese_calendar.is_workday's own rule, on its data read once (its per-call range check scans
            # the whole table: ~90 µs a day); the year was checked with the package itself in source_for.
            holidays, workdays = _package_year(d.year)
            return d in workdays or (d.weekday() < 5 and d not in holidays)
        return None

    def day_name(self, d: dt.date) -> str | None:
        """The holiday or make-up day's name, for explanations (None on ordinary days)."""
        src = self.source_for(d.year)
        if src == "local":
            return self.local[d.year].names.get(d)
        if src == "package":
            import chinese_calendar

            return chinese_calendar.get_holiday_detail(d)[1]
        return None

    def add_workdays(self, start: dt.date, n: int, *, pauses: Iterable[tuple[dt.date, dt.date]] = ()) -> Count:
        """The ``n``-th working day after ``start`` (``start`` itself not counted).

        ``pauses``: (paused_on, resumed_on) day pairs. The working days after
        ``paused_on`` up to and including ``resumed_on`` are not counted (条例 第33条:
        time consulting a third party or another agency is not counted). The pause
        day itself was worked on; the resume day is treated like a receipt day,
        counting resumes the day after. A pause that is still open has no
        ``resumed_on`` and cannot be passed here: the deadline is not known yet.
        """
        if n < 0:
            raise ValueError("working days must be 0 or more")
        excluded = [(a, b) for a, b in pauses if b > a]
        d, counted, skipped = start, 0, 0
        sources: set[str] = set()
        unknown: set[int] = set()
        while counted < n:
            d += DAY
            w = self.is_workday(d)
            src = self.source_for(d.year)
            if w is None:
                unknown.add(d.year)
                w = d.weekday() < 5  # strict: Monday to Friday, no holidays
            sources.add(src)
            if not w:
                continue
            if any(a < d <= b for a, b in excluded):
                skipped += 1
                continue
            counted += 1
        cal: CalendarSource = "unknown" if unknown else ("local" if "local" in sources else "package")
        if n == 0:
            cal = self.source_for(start.year)  # type: ignore[assignment]
        return Count(start=start, due_date=d, working_days=n, calendar=cal, unknown_years=tuple(sorted(unknown)),
                     skipped=skipped)

    def workdays_between(self, after: dt.date, upto: dt.date) -> tuple[int, bool]:
        """Working days in (after, upto]; and whether every day was covered by a source."""
        d, n, known = after, 0, True
        while d < upto:
            d += DAY
            w = self.is_workday(d)
            if w is None:
                known = False
                w = d.weekday() < 5
            n += bool(w)
        return n, known
