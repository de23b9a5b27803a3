"""Rendering the weekly log: one set of tables from the figures, then HTML, CSV, Markdown or XLSX.

Every format is drawn from the same :func:`build_tables` output through Jinja2
templates in ``templates/report/`` (XLSX through openpyxl), so an HTML page,
its CSV files and the e-mail text can never disagree about a figure. Case
titles, reasons and provider errors come from outside: HTML is autoescaped,
Markdown cells are backslash-escaped, and spreadsheet cells that would start a
formula are prefixed with an apostrophe. Nothing here reads the clock, so
rendering the same figures twice yields the same bytes.
"""

from __future__ import annotations

import csv
import io
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from responder.report.weekly import PLAN_UNAVAILABLE, _dur
from responder.render import bj

FORMATS = ("html", "csv", "md", "xlsx")
OUTCOME_LABELS = {"met": "按时", "met_late": "逾期完成", "overdue_open": "超时未办", "cancelled": "已撤销"}


class ReportRenderError(Exception):
    """A format cannot be produced (unknown format, missing optional library, broken template)."""


def default_templates_dir() -> Path:
    return Path(__file__).resolve().parent.parent.parent / "templates" / "report"


# ---------------------------------------------------------------- tables (pure)


def _pct(rate: float | None) -> str:
    if rate is None:
        return "—"
    return f"{rate * 100:.1f}".rstrip("0").rstrip(".") + "%"


def _t(value: Any) -> str:
    return bj(value) if value else "—"


def _table(tid: str, title: str, columns: list[str], rows: list[list[Any]], *, empty: str = "本周无",
           total: list[Any] | None = None) -> dict[str, Any]:
    return {"id": tid, "title": title, "columns": columns, "rows": rows, "total": total, "empty": empty}


def build_tables(f: dict[str, Any]) -> list[dict[str, Any]]:
    """The log's tables, in reading order; every format renders exactly these."""
    unit_cols = ["单位", "新增舆情", "按时办结", "逾期办结", "周末仍超时", "按时率", "升级提醒步骤", "消息送达", "消息失败",
                 "改级/关闭"]

    def unit_cells(u: dict[str, Any]) -> list[Any]:
        return [u["unit_name"], u["opened"], u["met"], u["met_late"], u["overdue_open"], _pct(u["on_time_rate"]),
                u["steps"], u["delivered"], u["failed"], u["changes"]]

    t = f["total"]
    tables = [
        _table("units", "一、各单位情况", unit_cols, [unit_cells(u) for u in f["units"]], empty="本周无舆情回应事项",
               total=unit_cells(t)),
        _table("levels", "二、新增舆情（按级别）", ["级别", "件数"],
               [[r["label"], r["count"]] for r in f["cases"]["by_level"]], total=["合计", f["cases"]["count"]]),
        _table("sources", "三、新增舆情（按来源）", ["来源", "件数"],
               [[r["source"], r["count"]] for r in f["cases"]["by_source"]]),
        _table("cases", "四、本周新增案件", ["案件", "标题", "级别", "来源", "责任单位", "立案时间"],
               [[f"#{c['case_id']}", c["title"], c["level_label"], c["source"], c["unit_name"], _t(c["opened_at"])]
                for c in f["cases"]["list"]]),
        _table("timing", "五、回应时效", ["义务", "按时", "逾期完成", "仍超时", "已撤销", "用时中位数", "最长用时", "最长逾期"],
               [[r["label"], r["met"], r["met_late"], r["overdue_open"], r["cancelled"], _dur(r["median_s"]),
                 _dur(r["worst_s"]), _dur(r["worst_late_s"])] for r in f["timing"]]),
        _table("obligations", "六、回应义务明细（本周办结、撤销，及周末仍超时）",
               ["案件", "标题", "责任单位", "义务", "截止时间", "结果", "完成时间", "用时", "逾期/超时"],
               [[f"#{r['case_id']}", r["title"], r["unit_name"], r["label"], _t(r["deadline_at"]),
                 OUTCOME_LABELS[r["outcome"]], _t(r["met_at"]), _dur(r["elapsed_s"]),
                 _dur(r["overdue_s"]) if r["outcome"] == "overdue_open" else
                 (_dur(r["late_s"]) if r["outcome"] == "met_late" else "—")] for r in f["obligations"]]),
        _table("steps", "七、升级提醒步骤", ["步骤", "次数"],
               [[r["label"], r["count"]] for r in f["steps"]["by_kind"]], total=["合计", f["steps"]["total"]]),
        _table("messages", "八、消息送达", ["渠道", "送达", "失败", "临时失败（已重试）"],
               [[r["label"], r["delivered"], r["failed"], r["retries"]] for r in f["messages"]["by_channel"]],
               total=["合计", f["messages"]["delivered"], f["messages"]["failed"], f["messages"]["retries"]]),
        _table("failures", "九、发送失败的消息", ["时间", "渠道", "接收人", "消息类型", "案件", "错误"],
               [[_t(r["at"]), r["channel_label"], r["recipient"], r["kind"], f"#{r['case_id']}" if r["case_id"] else "—",
                 r["error"]] for r in f["messages"]["failures"]]),
        _table("changes", "十、改级与关闭", ["时间", "案件", "标题", "变更", "原级别", "新级别", "理由", "操作人"],
               [[_t(r["at"]), f"#{r['case_id']}", r["title"], r["label"], r["from"] or "—", r["to"] or "—",
                 r["reason"] or "—", r["actor"]] for r in f["changes"]]),
    ]
    p = f["plan"]
    if p.get("available"):
        tot = p["totals"]
        tables += [
            _table("plan", f"十一、实施方案进展（{p['plan_name']}）",
                   ["单位", "适用事项", "已完成", "当前应完成", "逾期未完成", "尚未开始", "典型经验"],
                   [[u["unit_name"], u["applicable"], u["done"], u["due"], u["overdue"], u["upcoming"], u["experiences"]]
                    for u in p["units"]],
                   total=["合计", sum(u["applicable"] for u in p["units"]), tot["done"], tot["due"], tot["overdue"],
                          tot["upcoming"], sum(u["experiences"] for u in p["units"])]),
            _table("plan_done", "十二、本周完成的方案要求", ["单位", "要求", "内容", "完成时间"],
                   [[r["unit_name"], r["requirement"], r["text"], _t(r["done_at"])] for r in p["done_this_week"]]),
            _table("experiences", "十三、本周报送的典型经验", ["单位", "标题", "链接", "记录时间"],
                   [[r["unit_name"], r["text"], r.get("url", ""), _t(r["done_at"])] for r in p["experiences_this_week"]]),
        ]
    else:
        tables.append(_table("plan", "十一、实施方案进展", ["说明"], [[p.get("note") or PLAN_UNAVAILABLE]]))
    r = f.get("requests")
    if r is not None:  # issue 19; figures stored before it have no requests section
        no = "十四" if p.get("available") else "十二"
        tables.append(_table("requests", f"{no}、依申请公开办理情况", ["新收申请", "按时答复", "超期答复", "延长", "暂停（征求意见）",
                                                                  "周末未办结", "周末已超期未答复"],
                             [[r["received"], r["answered_on_time"], r["answered_late"], r["extended"], r["paused"],
                               r["open_at_end"], r["overdue_open"]]]))
    return tables


def chart_rows(f: dict[str, Any]) -> list[dict[str, Any]]:
    """Units with obligations settled or overdue: their on-time rate, for the small bar chart."""
    return [{"name": u["unit_name"], "rate": u["on_time_rate"], "pct": _pct(u["on_time_rate"])}
            for u in f["units"] if u["on_time_rate"] is not None]


# ---------------------------------------------------------------- cell escaping (pure)


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_row(cells: list[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([spreadsheet_safe(c) for c in cells])
    return buf.getvalue()


def md_cell(value: Any) -> str:
    """One Markdown table cell: one line, and no character that would start markup or end the cell."""
    s = " ".join(str(value).split())
    out = []
    for ch in s:
        if ch in "\\`*_[]<>|#!~":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


# ---------------------------------------------------------------- environment


@lru_cache(maxsize=4)
def environment(templates_dir: str) -> jinja2.Environment:
    """Compiled once per directory (perf-notes: compiling per render is ~15× slower)."""
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(templates_dir, encoding="utf-8"), undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "svg"), default_for_string=False),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False,
    )
    env.filters.update(bj=bj, dur=_dur, pct=_pct, md=md_cell, csv_row=csv_row)
    return env


def _render(name: str, ctx: dict[str, Any], templates_dir: Path | None) -> str:
    env = environment(str(templates_dir or default_templates_dir()))
    try:
        return env.get_template(name).render(ctx)
    except jinja2.TemplateNotFound:
        raise ReportRenderError(f"report template {name} not found in {templates_dir or default_templates_dir()}") from None
    except jinja2.UndefinedError as exc:
        raise ReportRenderError(f"report/{name}: {exc.message}") from None


def _context(f: dict[str, Any]) -> dict[str, Any]:
    return {"f": f, "tables": build_tables(f), "chart": chart_rows(f)}


def html_fragment(figures: dict[str, Any], *, templates_dir: Path | None = None) -> str:
    """The log's body without page chrome, for the e-mail (the mail layout wraps it)."""
    return _render("weekly_body.html", _context(figures), templates_dir)


def base_name(figures: dict[str, Any]) -> str:
    return f"weekly-{figures['week']}"


def render_weekly(figures: dict[str, Any], fmt: str, *, templates_dir: Path | None = None) -> dict[str, bytes]:
    """File name → content for one format: one HTML page, one Markdown file, one CSV per table, or one workbook."""
    base = base_name(figures)
    ctx = _context(figures)
    if fmt == "html":
        return {f"{base}.html": _render("weekly.html", ctx, templates_dir).encode()}
    if fmt == "md":
        return {f"{base}.md": _render("weekly.md", ctx, templates_dir).encode()}
    if fmt == "csv":
        out = {}
        for t in ctx["tables"]:
            text = _render("table.csv", {"table": t}, templates_dir)
            out[f"{base}-{t['id']}.csv"] = ("\ufeff" + text).encode()  # BOM: Excel opens UTF-8 Chinese correctly
        return out
    if fmt == "xlsx":
        return {f"{base}.xlsx": _xlsx(figures, ctx["tables"])}
    raise ReportRenderError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


def _xlsx_cell(value: Any) -> Any:
    """A spreadsheet-safe cell without the control characters openpyxl refuses (a provider's error text
    carrying one made the whole workbook fail)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    v = spreadsheet_safe(value)
    return ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v


def _xlsx(f: dict[str, Any], tables: list[dict[str, Any]]) -> bytes:
    try:
        import openpyxl
        from openpyxl.styles import Font
    except ImportError:
        raise ReportRenderError("xlsx needs openpyxl (pip install openpyxl)") from None
    import datetime as dt

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "摘要"
    ws.append([f"{f['county']}舆情回应合规日志 {f['week']}（{f['period']}）"])
    ws.append([f["summary"]])
    ws.append([f"审计链头（截至周末）：#{f['chain']['seq']} {f['chain']['hash']}"])
    bold = Font(bold=True)
    for t in tables:
        sh = wb.create_sheet(t["id"])
        sh.append([t["title"]])
        sh.append(t["columns"])
        for c in sh[2]:
            c.font = bold
        for r in t["rows"]:
            sh.append([_xlsx_cell(c) for c in r])
        if t["total"]:
            sh.append([_xlsx_cell(c) for c in t["total"]])
    # Same figures, same bytes: the document's timestamps are the week's end, never "now".
    return reproducible_xlsx(wb, dt.datetime.fromisoformat(f["end"].replace("Z", "+00:00")).replace(tzinfo=None))


def reproducible_xlsx(wb: Any, fixed: Any) -> bytes:
    """Save ``wb`` so that the same workbook gives the same bytes whenever it is rendered.

    A past period's report must be byte-identical whenever it is made (weekly log, ledger).
    openpyxl's ``save`` stamps ``modified`` in docProps/core.xml with the wall clock and
    the zip entries with the current time: write the core properties again with ``fixed``
    (a naive datetime, the period's end) and every entry with the zip epoch.
    """
    from openpyxl.xml.functions import tostring

    wb.properties.created = wb.properties.modified = fixed
    raw = io.BytesIO()
    wb.save(raw)
    wb.properties.modified = fixed
    core = tostring(wb.properties.to_tree())
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            body = core if info.filename == "docProps/core.xml" else zin.read(info.filename)
            zout.writestr(zi, body)
    return out.getvalue()
