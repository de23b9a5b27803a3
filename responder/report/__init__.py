"""Weekly compliance logs (issue 8): the week's figures, their formats, and the Monday job.

``weekly_figures`` counts (from the database and the week's bounds only),
``render_weekly`` renders any format from those figures, and
``run_weekly_if_due`` archives, records and e-mails a week exactly once.
See docs/reports.md.
"""

from responder.report.job import next_weekly_at, parse_slot, run_weekly_if_due, write_archive
from responder.report.render import FORMATS, ReportRenderError, build_tables, html_fragment, render_weekly
from responder.report.weekly import WeekError, period_label, summary_text, week_bounds, weekly_figures

__all__ = [
    "FORMATS", "ReportRenderError", "WeekError", "build_tables", "html_fragment", "next_weekly_at", "parse_slot",
    "period_label", "render_weekly", "run_weekly_if_due", "summary_text", "week_bounds", "weekly_figures",
    "write_archive",
]
