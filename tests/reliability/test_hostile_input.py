"""Hostile and broken feeds through ingest, the clocks, every report format and every message template (issue 13).

Promises checked here (docs/ingest.md, "Hostile input"):
* parsing never raises; every rejection and every repair carries a reason;
* one bad item, byte or character never costs the good items beside it — the 12-death
  explosion in the same feed still opens a 5-hour case, on SQLite and PostgreSQL;
* a UTF-8 feed with a few bad bytes stays UTF-8 (no GB18030 mojibake) and the source says it was damaged;
* XML entity bombs and external entities are neither expanded nor resolved;
* feed text never executes, evaluates or renders as markup in HTML mail, SMS, provider parameters,
  or the weekly log as HTML, CSV (no spreadsheet formula), Markdown or XLSX.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
import zipfile
from dataclasses import dataclass

import pytest
from sqlmodel import Session, select

from responder import engine as eng
from responder.config.sources import JsonMapping, SourceConfig
from responder.ingest import FetchedDoc, FetchResult, ingest_fetched
from responder.ingest.parse import MAX_TEXT, MAX_TITLE, parse_feed
from responder.models import AuditEvent, Case, Clock, Item, Source
from responder.notify.render import KINDS, Renderer, sample_contexts
from responder.report import render_weekly, week_bounds, weekly_figures
from responder.testing.engine import make_test_settings
from responder.testing.feeds import atom, rss

pytestmark = pytest.mark.reliability

UTC = dt.timezone.utc
NOW = dt.datetime(2022, 7, 18, 4, 0, tzinfo=UTC)  # Monday 12:00 Beijing
BOOM_TITLE = "石台县某化工厂发生爆炸致12人死亡"
BOOM_TEXT = "7月18日上午，石台县某化工厂车间发生爆炸，截至目前已造成12人死亡。"
BOOM_RSS = {"title": BOOM_TITLE, "guid": "boom", "pubDate": "2022-07-18 10:30:00", "description": BOOM_TEXT}
BOOM_JSON = {"id": "boom", "title": BOOM_TITLE, "content_text": BOOM_TEXT, "date_published": "2022-07-18T10:30:00+08:00"}
HOSTILE_TITLES = [  # markup arrives entity-escaped (raw tags are stripped by ingest), so titles hold literal "<img …>"
    "&lt;img src=x onerror=alert(1)&gt;网友称县医院收费不合理",
    "&lt;script&gt;alert(document.cookie)&lt;/script&gt;仁里镇停水",
    "<img src=x onerror=alert(3)>原始标签会被去掉",
    "{{ 7 * 7 }}{% for x in range(3) %}循环{% endfor %}县城噪音扰民",
    "=HYPERLINK(\"http://evil.invalid\",\"点击\")村民反映道路破损",
    "+1+2 小区物业乱收费", "-3+3 学校食堂卫生问题", "@SUM(1+1) 菜市场占道经营",
    "| 表格 | **加粗** [链接](javascript:alert(1)) # 标题 网民反映", "\t=1+1 制表符开头的标题",
]
TEMPLATES = __import__("pathlib").Path(__file__).resolve().parents[2] / "templates"


@dataclass(frozen=True)
class Feed:
    name: str
    body: bytes
    kind: str = "rss"
    content_type: str | None = "application/rss+xml; charset=utf-8"
    boom: bool = True
    """The explosion item is in the feed and must survive."""
    status: tuple[str, ...] = ("ok",)


def _json(items: list[dict], **kw) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}, **kw).encode()


def _xml(body: str) -> bytes:
    return body.encode()


_BOMB = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
         + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
         + ']><rss version="2.0"><channel><title>t</title><item><guid>lol</guid><title>&i;</title></item>'
         f'<item><guid>boom</guid><title>{BOOM_TITLE}</title><description>{BOOM_TEXT}</description></item></channel></rss>')
_XXE = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel>'
        '<title>t</title><item><guid>xxe</guid><title>前&x;后</title></item>'
        f'<item><guid>boom</guid><title>{BOOM_TITLE}</title><description>{BOOM_TEXT}</description></item></channel></rss>')


def corpus() -> list[Feed]:
    boom_utf8 = rss([{"title": "县城供水管网改造", "guid": "w"}, BOOM_RSS])
    stray = boom_utf8.replace("改造".encode(), b"\xff\xfe" + "改造".encode())
    gbk_as_utf8 = rss([BOOM_RSS], encoding="gbk", declare="utf-8")
    mixed = rss([BOOM_RSS]) .replace(b"</channel>", "<item><guid>g</guid><title>".encode() + "国标编码标题".encode("gbk")
                                                     + b"</title></item></channel>")
    return [
        Feed("json: lone surrogate in title", _json([{"id": "s", "title": "表情\ud83d", "content_text": "x"}, BOOM_JSON]),
             "jsonfeed", "application/feed+json", status=("damaged",)),
        Feed("json: surrogates and controls in every field",
             _json([{"id": "\udc00", "title": "\x07响铃\x1b[31m", "content_text": "正文\x00\ud800", "url": "https://a.invalid/\udfff",
                     "tags": ["\ud83d"], "date_published": "\ud83d"}, BOOM_JSON]),
             "jsonfeed", "application/feed+json", status=("damaged",)),
        Feed("json: item not an object beside a good one", _json(["字符串条目", 5, None, BOOM_JSON]), "jsonfeed",
             "application/feed+json", status=("partial",)),
        Feed("json: truncated", _json([BOOM_JSON])[:-20], "jsonfeed", "application/feed+json", boom=False,
             status=("rejected",)),
        Feed("json: deeply nested", b"[" * 100_000 + b"]" * 100_000, "json", "application/json", boom=False,
             status=("rejected",)),
        Feed("json: GBK bytes declared UTF-8", json.dumps({"items": [BOOM_JSON]}, ensure_ascii=False).encode("gbk"),
             "jsonfeed", "application/json; charset=utf-8"),
        Feed("rss: one stray byte in UTF-8", stray, status=("damaged",)),
        Feed("rss: GBK declared UTF-8", gbk_as_utf8, content_type="text/xml; charset=utf-8"),
        Feed("rss: UTF-8 with a GBK item mixed in", mixed, status=("damaged", "ok")),
        Feed("rss: UTF-8 BOM", b"\xef\xbb\xbf" + boom_utf8),
        Feed("rss: UTF-16 BOM", b"\xff\xfe" + boom_utf8.decode().replace('encoding="utf-8"', 'encoding="utf-16"')
             .encode("utf-16-le")),
        Feed("rss: truncated mid-item", boom_utf8[: boom_utf8.rindex(b"<item>") + 30], boom=False,
             status=("partial", "rejected")),
        Feed("rss: control characters (not XML)", rss([BOOM_RSS]).replace("县城".encode(), b"\x01\x02") .replace(
            b"</channel>", b"<item><guid>c</guid><title>\x07\x08bell</title></item></channel>"),
             status=("partial", "ok", "damaged")),
        Feed("rss: hostile titles", rss([*({"title": t, "guid": f"h{i}", "pubDate": "2022-07-18 09:00:00",
                                            "description": t} for i, t in enumerate(HOSTILE_TITLES)), BOOM_RSS])),
        Feed("rss: huge fields", rss([{"title": "长" * 200_000, "guid": "g" * 5000, "description": "文" * 300_000},
                                      BOOM_RSS])),
        Feed("rss: billion laughs", _xml(_BOMB), status=("partial",)),
        Feed("rss: external entity", _xml(_XXE), status=("ok", "partial")),
        Feed("rss: HTML error page", b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", boom=False,
             status=("rejected",)),
        Feed("rss: empty", b"", boom=False, status=("rejected",)),
        Feed("atom: hostile and good", atom([{"title": HOSTILE_TITLES[0], "id": "urn:h", "updated": "2022-07-18T09:00:00+08:00",
                                              "link": "javascript:alert(1)"},
                                             {"title": BOOM_TITLE, "id": "urn:boom", "updated": "2022-07-18T10:30:00+08:00",
                                              "summary": BOOM_TEXT}]), "atom", "application/atom+xml"),
    ]


CORPUS = corpus()


def _clean(value: str) -> None:
    value.encode("utf-8")  # no lone surrogate survives
    assert not any(ord(c) < 32 and c not in "\n\t\r" for c in value), repr(value[:80])


@pytest.mark.parametrize("feed", CORPUS, ids=[f.name for f in CORPUS])
def test_every_hostile_feed_parses_to_clean_items_or_a_reason(feed: Feed) -> None:
    """Parsing never raises; each result has the expected status, a reason unless ok, storable text
    within the field limits, and the explosion item beside the bad ones survives with its title intact."""
    started = time.monotonic()
    res = parse_feed(feed.body, content_type=feed.content_type, kind=feed.kind, now=NOW)
    assert time.monotonic() - started < 30  # an entity bomb is cut off, not expanded (generous for a loaded machine)
    assert res.status in feed.status, (res.status, res.reason)
    if res.status != "ok":
        assert res.reason and not res.reason.startswith("解析失败"), res.reason
    for it in res.items:
        for v in (it.guid, it.title, it.text, it.link or "", it.declared_category or "", it.date_note or ""):
            _clean(v)
        assert len(it.title) <= MAX_TITLE and len(it.text) <= MAX_TEXT and len(it.guid) <= 512
        assert not (it.link or "").lower().startswith("javascript:")
        assert "root:" not in it.title + it.text  # the external entity was not resolved
        assert len(it.title) < 10_000  # the entity bomb was not expanded
    if feed.boom:
        assert BOOM_TITLE in [it.title for it in res.items], [it.title for it in res.items]


def _source(name: str, kind: str = "rss") -> SourceConfig:
    return SourceConfig(name=name, kind="json" if kind == "json" else kind, url=f"https://{name}.invalid/feed", role="opinion",
                        mapping=JsonMapping(items="items", id="id", title="title", body="content_text",
                                            published="date_published") if kind == "json" else None)


@pytest.fixture
def settings(tmp_path):
    return make_test_settings(tmp_path)


def test_hostile_corpus_is_stored_and_the_explosion_opens_a_five_hour_case(engine, settings) -> None:
    """Every corpus feed goes through ingest into the database (SQLite and PostgreSQL) without an exception;
    each failed or damaged poll leaves a reason on the source and in the audit trail; the explosion, present in
    most feeds, opens exactly one 5-hour case (cross-source duplicates attach), never a 48-hour one."""
    for i, feed in enumerate(CORPUS):
        cfg = _source(f"s{i}", feed.kind)
        fr = FetchResult(status=200, documents=(FetchedDoc(cfg.url, feed.body, feed.content_type),))
        rep = ingest_fetched(engine, cfg, fr, now=NOW, state=None, jitter=0.5)
        assert rep.status in feed.status, (feed.name, rep.status, rep.reason)
        if rep.status != "ok":
            assert rep.reason, feed.name
    opened = eng.open_cases(engine, settings, NOW)
    assert opened.cases_opened
    with Session(engine) as s:
        items = s.exec(select(Item)).all()
        for it in items:
            _clean(it.title)
            _clean(it.text)
        booms = [c for c in s.exec(select(Case)).all() if "爆炸" in c.title and "12人死亡" in c.title]
        assert len(booms) == 1, [c.title for c in booms]
        clocks = s.exec(select(Clock).where(Clock.case_id == booms[0].id)).all()
        assert {c.obligation for c in clocks} >= {"release_5h"}, [c.obligation for c in clocks]
        sources = {r.name: r for r in s.exec(select(Source)).all()}
        kinds = [e.kind for e in s.exec(select(AuditEvent)).all()]
    for i, feed in enumerate(CORPUS):
        row = sources[f"s{i}"]
        if feed.status == ("damaged",):
            assert row.last_error and row.consecutive_failures == 0, (feed.name, row.last_error)
        if feed.boom:  # a feed that still delivered the explosion is polled again at its interval, never backed off
            assert row.next_poll_at <= NOW + dt.timedelta(seconds=600), (feed.name, row.next_poll_at)
    assert "source.damaged" in kinds and "source.rejected" in kinds


def test_mojibake_no_longer_downgrades_the_explosion(engine, settings) -> None:
    """One invalid byte in a UTF-8 feed: the explosion keeps its Chinese title, is classified as an especially
    major/major incident with a 5-hour clock, and the source's health shows the damage (issue 13, item 2)."""
    body = rss([BOOM_RSS, {"title": "县城供水管网改造", "guid": "w", "description": "坏字节：X"}]).replace(b"X", b"\xff")
    cfg = _source("portal")
    rep = ingest_fetched(engine, cfg, FetchResult(status=200, documents=(FetchedDoc(cfg.url, body, "text/xml"),)),
                         now=NOW, state=None, jitter=0.5)
    assert rep.status == "damaged" and "utf-8" in rep.reason and rep.new == 2
    eng.open_cases(engine, settings, NOW)
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.title == BOOM_TITLE)).one()
        assert case.level in ("I", "II"), case.level
        assert s.exec(select(Clock).where(Clock.case_id == case.id, Clock.obligation == "release_5h")).first()
        assert "utf-8" in s.get(Source, "portal").last_error


HOSTILE_CONTEXT_TITLE = "{{ 7 * 7 }}<img src=x onerror=alert(1)><script>alert(2)</script>=cmd|' /C calc'!A0"


@pytest.mark.parametrize("kind", KINDS)
def test_no_message_template_executes_or_evaluates_feed_text(kind: str) -> None:
    """Every kind's SMS, e-mail subject/text/HTML and provider parameters, with hostile feed text in every
    string of the context: HTML carries it escaped (no tag), Jinja syntax stays literal (never evaluated)."""
    r = Renderer.from_dir(TEMPLATES)

    def poison(v):
        if isinstance(v, str) and not v.startswith(("20", "http")) and v not in ("I", "II", "III", "IV"):
            return HOSTILE_CONTEXT_TITLE + v
        if isinstance(v, dict):
            return {k: (v[k] if k in ("kind", "recipient_role", "channel", "obligation", "clock_class", "html")
                        else poison(v[k])) for k in v}
        if isinstance(v, list):
            return [poison(x) for x in v]
        return v

    for _variant, ctx in sample_contexts(kind):
        hostile = poison(ctx)
        sms = r.render_sms(kind, hostile)
        subject, text, html = r.render_email(kind, hostile)
        params = r.sms_params(kind, hostile)
        low = html.lower()
        assert "<img" not in low and "<script" not in low, kind
        for out in (sms, subject, text, html, *params.values()):
            assert "49" not in out.replace("2022", "").replace("0049", ""), (kind, out[:200])
        assert "\n" not in subject


def _hostile_week(engine, settings):
    for i, title in enumerate(HOSTILE_TITLES):
        cfg = _source(f"h{i}")
        body = rss([{"title": title, "guid": "x", "pubDate": "2022-07-18 09:00:00", "description": title}])
        ingest_fetched(engine, cfg, FetchResult(status=200, documents=(FetchedDoc(cfg.url, body, None),)),
                       now=NOW, state=None, jitter=0.5)
    eng.open_cases(engine, settings, NOW)
    eng.advance(engine, settings, NOW)
    _wk, start, end = week_bounds("2022-W29", NOW + dt.timedelta(days=8))
    with Session(engine) as s:
        return weekly_figures(s, settings, start, end)


def test_weekly_log_in_every_format_keeps_feed_text_inert(engine, settings) -> None:
    """Cases titled with HTML, Jinja, Markdown and spreadsheet formulas: the HTML log escapes them, no CSV or
    XLSX cell starts a formula, Markdown cells are escaped, and Jinja syntax is printed, not evaluated."""
    figures = _hostile_week(engine, settings)
    html = render_weekly(figures, "html")["weekly-2022-W29.html"].decode()
    assert "<img" not in html and "<script>alert" not in html and "&lt;img src=x" in html
    assert "{{ 7 * 7 }}" in html
    md = render_weekly(figures, "md")["weekly-2022-W29.md"].decode()
    import re

    assert not re.search(r"(?<!\\)<", md) and "\\<img" in md and "{{ 7 \\* 7 }}" in md  # every "<" escaped
    assert not re.search(r"(?<!\\)\]\(javascript", md)
    found_titles = 0
    for name, content in render_weekly(figures, "csv").items():
        for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))):
            for cell in row:
                assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r") or cell in ("-", "—"), (name, cell)
                found_titles += any(t.strip()[3:12] in cell for t in HOSTILE_TITLES if "=" in t)
    assert found_titles
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(render_weekly(figures, "xlsx")["weekly-2022-W29.xlsx"]))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
    with zipfile.ZipFile(io.BytesIO(render_weekly(figures, "xlsx")["weekly-2022-W29.xlsx"])) as z:
        assert not any("<f>" in z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))


def test_xlsx_survives_control_characters_from_outside(engine, settings) -> None:
    """Text that did not come through ingest (a provider's error message, an old row) may hold control
    characters openpyxl refuses: the workbook is still written, without them."""
    import openpyxl

    figures = _hostile_week(engine, settings)
    figures["cases"]["list"][0]["title"] = "=响铃\x07转义\x1b[31m标题"
    wb = openpyxl.load_workbook(io.BytesIO(render_weekly(figures, "xlsx")["weekly-2022-W29.xlsx"]))
    values = [c.value for row in wb["cases"].iter_rows() for c in row]
    assert "'=响铃转义[31m标题" in values
