"""Rendering the response ledger: one set of tables, then JSON, CSV, HTML (with an inline SVG chart) or XLSX.

Like the weekly log, every format is drawn from :func:`ledger_tables`, so the
workbook an office keeps and the page a leader opens cannot disagree. Cells
carry their type (a time, a rate, text) and each format writes it its own way:
XLSX as a real Excel date in Beijing time and a real percentage, CSV and HTML
as text. Titles come from feeds and are hostile: HTML is autoescaped (the SVG
too), spreadsheet cells that would start a formula get a leading apostrophe.
Nothing here reads the clock, so the same ledger renders to the same bytes.
openpyxl is imported with the module, not lazily: it is a normal dependency,
and an import made while a test freezes time would capture freezegun's
datetime class in openpyxl's cell-type tables.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from typing import Any

import openpyxl
from markupsafe import Markup
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from responder.report.ledger import STATE_LABELS
from responder.report.render import ReportRenderError, _render, csv_row, reproducible_xlsx, spreadsheet_safe
from responder.report.weekly import _parse_iso
from responder.timeutil import BEIJING, fmt_duration

LEDGER_FORMATS = ("xlsx", "csv", "html", "json")
DATE_FORMAT = "yyyy-mm-dd hh:mm"


class Pct(float):
    """A rate cell: a percentage in XLSX, "95.5%" as text."""


class When:
    """A time cell: a real date in XLSX (Beijing time), "2026-11-03 14:00" as text."""

    __slots__ = ("t",)

    def __init__(self, t: dt.datetime) -> None:
        self.t = t

    def __str__(self) -> str:
        return self.t.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _when(iso: str | None) -> When | str:
    t = _parse_iso(iso)
    return When(t) if t else "—"


def _pct(rate: float | None) -> Pct | str:
    return "—" if rate is None else Pct(rate)


def _dur(seconds: int | None) -> str:
    return "—" if seconds is None else fmt_duration(seconds)


def _delta_pp(d: float | None) -> str:
    return "—" if d is None else f"{d * 100:+.1f}个百分点"


def _delta_n(d: int | None) -> str:
    return "—" if d is None else f"{d:+d}"


def text_of(cell: Any) -> str:
    if isinstance(cell, Pct):
        return f"{cell * 100:.1f}".rstrip("0").rstrip(".") + "%"
    if cell is None:
        return "—"
    return str(cell)


# ---------------------------------------------------------------- tables (pure)


STAT_COLUMNS = ["事项", "应回应", "已回应", "回应率", "5小时内", "5小时内占比", "24小时内", "24小时内占比", "48小时内",
                "48小时内占比", "首次回应用时中位数", "最长用时", "按时", "逾期完成", "期末超时", "按时率"]


def _stat_cells(s: dict[str, Any]) -> list[Any]:
    return [s["matters"], s["to_answer"], s["answered"], _pct(s["response_rate"]), s["within_5h"], _pct(s["share_5h"]),
            s["within_24h"], _pct(s["share_24h"]), s["within_48h"], _pct(s["share_48h"]), _dur(s["median_s"]),
            _dur(s["worst_s"]), s["on_time"], s["late"], s["overdue"], _pct(s["on_time_rate"])]


def _trend_cells(t: dict[str, Any]) -> list[Any]:
    return [_delta_n(t["matters"]), _delta_pp(t["response_rate"]), _delta_pp(t["on_time_rate"]), _delta_n(t["overdue"])]


TREND_COLUMNS = ["事项较上期", "回应率较上期", "按时率较上期", "超时较上期"]


def _obligation_text(o: dict[str, Any]) -> str:
    st = STATE_LABELS[o["state"]]
    if o["state"] == "late":
        st += f"{_dur(o['late_s'])}"
    elif o["state"] == "overdue":
        st += f"{_dur(o['overdue_s'])}"
    when = f"截止{text_of(_when(o['deadline_at']))}"
    if o["met_at"]:
        when += f"，完成{text_of(_when(o['met_at']))}"
    return f"{o['label']}：{st}（{when}）"


LEDGER_COLUMNS = ["序号", "案件编号", "标题", "来源", "原始链接", "首次发现时间", "立案时间", "级别", "5小时事项", "定级理由",
                  "改级情况", "牵头单位", "协办单位", "交办时间", "首次回应时间", "回应形式", "首次回应链接（佐证）",
                  "首次回应用时", "回应义务完成情况", "持续发布", "签收时间", "关闭时间", "关闭原因"]


def _ledger_cells(r: dict[str, Any]) -> list[Any]:
    fr = r["first_response"] or {}
    return [
        r["number"], f"#{r['case_id']}", r["title"], r["source"], r["link"] or "—", _when(r["first_seen_at"]),
        _when(r["opened_at"]), r["level_label"], "是" if r["five_hour"] else "否", r["reason"] or "—",
        "；".join(f"{text_of(_when(x['at']))} {x['from']}→{x['to']}（{x['reason']}）" for x in r["reclassifications"]) or "—",
        r["unit_name"], "、".join(r["co_units"]) or "—", _when(r["assigned_at"]), _when(fr.get("at")),
        fr.get("kind") or "—", fr.get("url") or "—", _dur(fr.get("elapsed_s")),
        "；".join(_obligation_text(o) for o in r["obligations"]) or "—",
        "；".join(f"{text_of(_when(x['at']))} {x['kind']} {x['url']}".strip() for x in r["continued_releases"]) or "—",
        "；".join(f"{text_of(_when(a['at']))} {a['actor']}" for a in r["acks"]) or "—",
        _when((r["closed"] or {}).get("at")), (f"{r['closed']['label']}：{r['closed']['reason']}" if r["closed"] else "—"),
    ]


def ledger_tables(lg: dict[str, Any]) -> list[dict[str, Any]]:
    """The ledger's tables in reading order; every format renders exactly these."""
    s = lg["summary"]
    prev = s["previous"]
    tables = [
        {"id": "units", "title": "一、总体与各单位情况", "columns": ["单位", *STAT_COLUMNS, *TREND_COLUMNS],
         "rows": [[u["unit_name"], *_stat_cells(u), *_trend_cells(u["trend"])] for u in s["units"]],
         "total": ["合计", *_stat_cells(s["total"]), *_trend_cells(s["trend"])]},
        {"id": "previous", "title": f"二、上期（{prev['period']['label']}）对照", "columns": ["期间", *STAT_COLUMNS],
         "rows": [[prev["period"]["label"], *_stat_cells(prev["total"])], [lg["period"]["label"], *_stat_cells(s["total"])]],
         "total": None},
        {"id": "months", "title": "三、按月", "columns": ["月份", *STAT_COLUMNS, *TREND_COLUMNS],
         "rows": [[m["label"], *_stat_cells(m), *_trend_cells(m["trend"])] for m in s["months"]], "total": None},
    ]
    if len(s["quarters"]) > 1 or lg["period"]["kind"] in ("year",):
        tables.append({"id": "quarters", "title": "四、按季度", "columns": ["季度", *STAT_COLUMNS, *TREND_COLUMNS],
                       "rows": [[q["label"], *_stat_cells(q), *_trend_cells(q["trend"])] for q in s["quarters"]],
                       "total": None})
    if len(s["years"]) > 1:
        tables.append({"id": "years", "title": "五、按年度", "columns": ["年度", *STAT_COLUMNS, *TREND_COLUMNS],
                       "rows": [[y["label"], *_stat_cells(y), *_trend_cells(y["trend"])] for y in s["years"]],
                       "total": None})
    tables.append({"id": "ledger", "title": "回应台账", "columns": LEDGER_COLUMNS,
                   "rows": [_ledger_cells(r) for r in lg["rows"]], "total": None})
    return tables


def title_of(lg: dict[str, Any]) -> str:
    unit = lg["summary"]["unit"]
    who = next((u["unit_name"] for u in lg["summary"]["units"] if u["unit_id"] == unit), unit) if unit else ""
    return f"{lg['summary']['county']}{who}舆情回应台账（{lg['period']['label']}）"


def base_name(lg: dict[str, Any]) -> str:
    unit = lg["summary"]["unit"]
    return f"ledger-{lg['period']['key']}" + (f"-{unit}" if unit else "")


# ---------------------------------------------------------------- the chart (pure)


def chart_svg(lg: dict[str, Any]) -> str:
    """Grouped bars (shares within 5 h / 24 h / 48 h, on-time rate) for the previous period and each month."""
    s = lg["summary"]
    groups = [(s["previous"]["period"]["label"] + "（上期）", s["previous"]["total"])]
    groups += [(m["label"], m) for m in s["months"]]
    series = [("share_5h", "5小时内", "#c0392b"), ("share_24h", "24小时内", "#e67e22"), ("share_48h", "48小时内", "#2e86c1"),
              ("on_time_rate", "义务按时率", "#27ae60")]
    bar, gap, top, left, height = 14, 22, 40, 44, 200
    width = left + len(groups) * (len(series) * bar + gap) + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="回应时效图" width="{max(width, 420)}" '
           f'height="{top + height + 60}" font-size="11" font-family="sans-serif">']
    for i, (_, label, color) in enumerate(series):
        out.append(f'<rect x="{left + i * 95}" y="8" width="10" height="10" fill="{color}"/>'
                   f'<text x="{left + i * 95 + 14}" y="17">{html.escape(label)}</text>')
    for pct in (0, 50, 100):
        y = top + height - height * pct // 100
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y}" y2="{y}" stroke="#ddd"/>'
                   f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{pct}%</text>')
    for g, (label, st) in enumerate(groups):
        x0 = left + 10 + g * (len(series) * bar + gap)
        for i, (key, name, color) in enumerate(series):
            v = st.get(key)
            h = 0 if v is None else round(height * v)
            x = x0 + i * bar
            tip = f"{label} {name}：{text_of(_pct(v))}"
            out.append(f'<rect x="{x}" y="{top + height - h}" width="{bar - 2}" height="{h}" fill="{color}">'
                       f'<title>{html.escape(tip)}</title></rect>')
        out.append(f'<text x="{x0 + len(series) * bar / 2:.0f}" y="{top + height + 16}" text-anchor="middle">'
                   f'{html.escape(label)}</text>')
        out.append(f'<text x="{x0 + len(series) * bar / 2:.0f}" y="{top + height + 30}" text-anchor="middle" '
                   f'fill="#666">{st["matters"]}件</text>')
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------- formats


def render_ledger(lg: dict[str, Any], fmt: str) -> dict[str, bytes]:
    """File name → content for one format."""
    base = base_name(lg)
    if fmt == "json":
        return {f"{base}.json": (json.dumps(lg, ensure_ascii=False, sort_keys=False) + "\n").encode()}
    tables = ledger_tables(lg)
    if fmt == "csv":
        out = {}
        for t in tables:
            text = csv_row(t["columns"]) + "".join(csv_row([text_of(c) for c in r]) for r in t["rows"])
            if t["total"]:
                text += csv_row([text_of(c) for c in t["total"]])
            out[f"{base}-{t['id']}.csv"] = ("\ufeff" + text).encode()  # BOM: Excel opens UTF-8 Chinese correctly
        return out
    if fmt == "html":
        ctx = {"title": title_of(lg), "lg": lg, "tables": [_text_table(t) for t in tables],
               "chart": Markup(chart_svg(lg))}
        return {f"{base}.html": _render("ledger.html", ctx, None).encode()}
    if fmt == "xlsx":
        return {f"{base}.xlsx": _xlsx(lg, tables)}
    raise ReportRenderError(f"unknown format {fmt!r} (choose from {', '.join(LEDGER_FORMATS)})")


def _text_table(t: dict[str, Any]) -> dict[str, Any]:
    return {**t, "rows": [[text_of(c) for c in r] for r in t["rows"]],
            "total": [text_of(c) for c in t["total"]] if t["total"] else None}


def _width(text: str) -> float:
    """Display width: a Chinese character is two Latin ones wide in Excel's default font."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _xlsx(lg: dict[str, Any], tables: list[dict[str, Any]]) -> bytes:
    wb = openpyxl.Workbook()
    bold = Font(bold=True)
    names = {"units": "汇总", "previous": "上期对照", "months": "按月", "quarters": "按季度", "years": "按年度",
             "ledger": "台账"}
    first = True
    for t in tables:
        if first:
            ws = wb.active
            ws.title = names[t["id"]]
            # The summary sheet opens first: title, the paragraph to read, then the table.
            ws.append([title_of(lg)])
            ws.append([lg["summary"]["text"]])
            ws.append([f"审计链头（截至期末）：#{lg['summary']['chain']['seq']} {lg['summary']['chain']['hash']}"])
            ws["A1"].font = Font(bold=True, size=14)
            head_row = 5  # a blank row between the paragraph and the table
            first = False
        else:
            ws = wb.create_sheet(names[t["id"]])
            ws.append([t["title"]])
            ws["A1"].font = bold
            head_row = 2
        for j, name in enumerate(t["columns"]):
            ws.cell(row=head_row, column=j + 1, value=name)
        for c in ws[head_row]:
            c.font = bold
            c.alignment = Alignment(wrap_text=True, vertical="top")
        widths = [_width(c) for c in t["columns"]]
        body = t["rows"] + ([t["total"]] if t["total"] else [])
        row = head_row  # counted here: openpyxl's max_row scans every cell (quadratic over a year's rows)
        for r in body:
            ws.append([_xl(c) for c in r])
            row += 1
            for j, c in enumerate(r):
                cell = ws.cell(row=row, column=j + 1)
                if isinstance(c, When):
                    cell.number_format = DATE_FORMAT
                elif isinstance(c, Pct):
                    cell.number_format = "0.0%"
                widths[j] = max(widths[j], _width(text_of(c)))
        if t["total"]:
            for c in ws[row]:
                c.font = bold
        for j, w in enumerate(widths):
            ws.column_dimensions[get_column_letter(j + 1)].width = min(60, max(8, w + 2))
        ws.freeze_panes = ws.cell(row=head_row + 1, column=2 if t["id"] == "ledger" else 1)
        if t["id"] == "months" and t["rows"]:
            ch = BarChart()
            ch.title = "回应时效（按月）"
            ch.y_axis.title = "占比"
            ch.y_axis.number_format = "0%"
            ch.y_axis.scaling.min, ch.y_axis.scaling.max = 0, 1
            n = len(t["rows"])
            for col in (7, 9, 11, 17):  # 5 h, 24 h, 48 h shares and the on-time rate
                ch.add_data(Reference(ws, min_col=col, min_row=head_row, max_row=head_row + n), titles_from_data=True)
            ch.set_categories(Reference(ws, min_col=1, min_row=head_row + 1, max_row=head_row + n))
            ch.width, ch.height = max(16, 3 * n + 6), 8
            ws.add_chart(ch, f"A{head_row + n + 3}")
        if t["id"] == "units" and t["rows"]:
            ch = BarChart()
            ch.type = "bar"
            ch.title = "各单位按时率与回应率"
            ch.x_axis.number_format = "0%"
            n = len(t["rows"])
            for col in (5, 17):
                ch.add_data(Reference(ws, min_col=col, min_row=head_row, max_row=head_row + n), titles_from_data=True)
            ch.set_categories(Reference(ws, min_col=1, min_row=head_row + 1, max_row=head_row + n))
            ch.width, ch.height = 18, max(6, 0.8 * n + 3)
            ws.add_chart(ch, f"A{head_row + n + 4}")
    # Same ledger, same bytes: the document and zip timestamps are the period's end, never "now".
    fixed = _parse_iso(lg["period"]["end"]).replace(tzinfo=None)
    wb.properties.creator = "responder"
    return reproducible_xlsx(wb, fixed)


def _xl(cell: Any) -> Any:
    if isinstance(cell, When):
        return cell.t.astimezone(BEIJING).replace(tzinfo=None)  # Excel has no zones: Beijing wall time
    if isinstance(cell, Pct):
        return float(cell)
    return spreadsheet_safe(cell)
