"""Bytes in, items out: the pure parsing stage.

Everything here takes bytes and ``now`` and returns values; nothing reads the
clock, the network or the database, so the stage can be fuzzed and replayed.
Feed text is untrusted: it is decoded, turned into plain text and returned as
``str``; nothing in it is evaluated or kept as markup.

Encoding is decided here rather than by feedparser because Chinese portals
often send a header that contradicts the XML declaration (and feedparser then
flags ``bozo`` or mis-decodes): we pick the encoding the bytes actually are,
re-declare the document as UTF-8, and hand feedparser consistent bytes.
"""

from __future__ import annotations

import datetime as dt
import html.entities
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import feedparser

from responder.config.sources import JsonMapping
from responder.ingest.dates import parse_date
from responder.ingest.normalise import content_hash, one_line, plain_text, scrub, scrub_text, title_key

MAX_TITLE = 1000
MAX_TEXT = 100_000
MAX_GUID = 500


@dataclass(frozen=True)
class ParsedItem:
    guid: str
    title: str
    link: str | None
    text: str
    published_at: dt.datetime | None
    """Aware UTC; the time first seen (``now``) when the feed gave nothing usable."""
    published_source: Literal["feed", "first_seen"]
    declared_level: str | None
    declared_category: str | None
    content_hash: str
    title_key: str
    date_note: str | None = None
    """Why the first-seen time was used (kept in the item's ``extra``)."""
    damage_note: str | None = None
    """What was repaired in this item's text (kept in the item's ``extra``)."""


@dataclass(frozen=True)
class ParseResult:
    items: tuple[ParsedItem, ...]
    status: Literal["ok", "damaged", "rejected", "partial"]
    """``damaged``: every item is usable but some text had to be repaired (see ``damage``)."""
    reason: str | None
    rejects: tuple[str, ...] = field(default=())
    """One Chinese line per item that could not be used, with the reason."""
    encoding: str | None = None
    damage: tuple[str, ...] = field(default=())
    """One Chinese line per repair: bytes the encoding could not read, characters replaced or dropped."""


# ---------------------------------------------------------------- encodings

_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.I)
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_GB = {"gb2312", "gbk", "gb18030", "cp936", "x-gbk", "euc-cn", "hz-gb-2312", "gb_2312-80", "csgb2312"}


def _canon(name: str | None) -> str | None:
    if not name:
        return None
    n = name.strip().lower()
    if n in _GB:
        return "gb18030"  # a superset: portals declare gb2312 and use characters beyond it
    import codecs

    try:
        return codecs.lookup(n).name
    except LookupError:
        return None


def _strict(body: bytes, enc: str) -> str | None:
    try:
        return body.decode(enc)
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 3:  # a multi-byte character cut by truncation
            try:
                return body[: exc.start].decode(enc)
            except UnicodeDecodeError:
                return None
        return None
    except LookupError:
        return None


def _lenient(body: bytes, enc: str) -> tuple[str, int]:
    """(text with U+FFFD for every undecodable sequence, how many were replaced)."""
    text = body.decode(enc, errors="replace")
    try:
        genuine = body.count("\ufffd".encode(enc))  # a feed may carry U+FFFD itself
    except (UnicodeError, LookupError):
        genuine = 0
    return text, max(0, text.count("\ufffd") - genuine)


ALMOST_RIGHT = 20
"""UTF-8 is kept, with replacement, while there are at least this many valid non-ASCII
characters per invalid sequence. GBK/GB18030 text read as UTF-8 fails on nearly every
character, so one stray byte in a UTF-8 feed is far below this and a mis-declared
GBK feed far above it (issue 13: one bad byte used to turn a whole feed into mojibake)."""


def _replaced(n: int, enc: str) -> str | None:
    return f"{n} 处字节无法按 {enc} 解码，已用替换字符 � 代替" if n else None


def _mixed(body: bytes) -> tuple[str, int, int]:
    """UTF-8 where it is valid, each run of other non-ASCII bytes as GB18030 (else U+FFFD):
    (text, runs read as GB18030, bytes replaced)."""
    import codecs

    mv = memoryview(body)
    out: list[str] = []
    pos, runs, bad, n = 0, 0, 0, len(body)
    while pos < n:
        try:
            out.append(codecs.utf_8_decode(mv[pos:], "strict", True)[0])
            break
        except UnicodeDecodeError as exc:
            start = pos + exc.start
            out.append(codecs.utf_8_decode(mv[pos:start], "strict", True)[0])
            end = start
            while end < n and body[end] >= 0x80:
                end += 1
            try:
                out.append(body[start:end].decode("gb18030"))
                runs += 1
            except UnicodeDecodeError:
                out.append("\ufffd")
                bad += 1
                end = start + 1
            pos = end
    return "".join(out), runs, bad


def decode(body: bytes, content_type: str | None) -> tuple[str, str, str | None, str | None]:
    """(text, encoding used, note when the declarations were wrong, damage: what was replaced or guessed)."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if body.startswith(bom):
            text, bad = _lenient(body[len(bom):], enc)
            return text, enc, None, _replaced(bad, enc)
    m = _XML_DECL.match(body[:300])
    declared = _canon(m.group(1).decode("ascii", "replace")) if m else None
    hm = _CHARSET.search(content_type or "")
    header = _canon(hm.group(1)) if hm else None
    named = [e for e in (declared, header) if e]
    wrong = [e for e in named if e not in ("utf-8", "ascii")]
    text = _strict(body, "utf-8")
    if text is not None:
        note = None
        if wrong and not body.isascii():
            note = f"声明的编码 {'/'.join(wrong)} 与内容不符，按 UTF-8 解码"
        return text, "utf-8", note, None
    # Almost UTF-8: a few bad bytes in a UTF-8 document. The strict candidates below would
    # otherwise accept it as GB18030 (which decodes nearly any byte string) and garble it all.
    utext, ubad = _lenient(body, "utf-8")
    valid = len(utext) - len(utext.encode("ascii", "ignore")) - utext.count("\ufffd")  # C speed: feeds are MBs
    if valid >= ALMOST_RIGHT * ubad:
        note = f"声明的编码 {'/'.join(wrong)} 与内容不符，按 UTF-8 解码" if wrong else None
        return utext, "utf-8", note, _replaced(ubad, "utf-8")
    if valid >= ubad:
        # Much valid UTF-8 and many bad runs: items pasted from a GBK system into a UTF-8 feed.
        # Each run is read as GB18030 on its own, so neither half becomes mojibake.
        text, runs, bad = _mixed(body)
        parts = [f"{runs} 段文字不是 UTF-8，已按 GB18030 单独解码" if runs else "", _replaced(bad, "utf-8") or ""]
        return text, "utf-8", None, "；".join(p for p in parts if p) or None
    # Multi-byte encodings first: a single-byte one (latin-1) "decodes" anything.
    cands = sorted(dict.fromkeys(e for e in named if e != "utf-8"),
                   key=lambda e: e in ("latin_1", "iso8859-1", "cp1252", "ascii"))
    for enc in [*cands, "gb18030"]:
        text = _strict(body, enc)
        if text is not None:
            note = None
            if named and enc not in named:
                note = f"声明的编码 {'/'.join(named)} 与内容不符，按 {enc} 解码"
            elif len(named) == 2 and declared != header:
                note = f"HTTP 头声明 {header}，文档声明 {declared}，内容是 {enc}"
            return text, enc, note, None
    # Nothing fits exactly: the encoding that loses least, the declared one on a tie.
    best: tuple[int, int, str, str] | None = None
    for rank, enc in enumerate(dict.fromkeys([*named, *cands, "utf-8", "gb18030"])):
        try:
            t, bad = (utext, ubad) if enc == "utf-8" else _lenient(body, enc)
        except LookupError:
            continue
        if best is None or (bad, rank) < (best[0], best[1]):
            best = (bad, rank, t, enc)
    assert best is not None
    bad, _, text, enc = best
    note = f"声明的编码 {'/'.join(named)} 与内容不符，按 {enc} 解码" if named and enc not in named else None
    return text, enc, note, _replaced(max(bad, 1), enc)


# ---------------------------------------------------------------- sniffing

_HTML_START = re.compile(r"^\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html|<head|<body)", re.I | re.S)
_FEED_ROOT = re.compile(r"<(?:rss|feed|rdf:RDF|channel)[\s>]", re.I)
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}


def looks_like_html(text: str) -> bool:
    head = text[:2000]
    return bool(_HTML_START.match(head)) and not _FEED_ROOT.search(head)


def _numeric_entities(text: str) -> str:
    """``&nbsp;`` and friends are HTML, not XML: without this a portal feed is 'malformed' for a space."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _XML_ENTITIES:
            return m.group(0)
        cp = html.entities.name2codepoint.get(name)
        return f"&#{cp};" if cp is not None else m.group(0)

    return _ENTITY.sub(sub, text) if "&" in text else text


def sniff_kind(body: bytes, content_type: str | None = None, name: str = "") -> str:
    """``feed`` or ``json`` for a file or URL whose kind is not declared."""
    low = name.lower()
    if low.endswith(".json"):
        return "json"
    if low.endswith((".xml", ".rss", ".atom", ".rdf")):
        return "feed"
    ct = (content_type or "").lower()
    if "json" in ct:
        return "json"
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "json" if head[:1] in (b"{", b"[") else "feed"


# ---------------------------------------------------------------- items


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[:n]


_FIELD_LABEL = {"title": "标题", "body": "正文", "guid": "ID", "link": "链接", "date": "发布时间", "level": "级别",
                "category": "分类"}


def _make_item(*, guid: Any, title: Any, link: Any, body: Any, date_raw: Any, date_struct: Any,
               level: Any, category: Any, now: dt.datetime) -> ParsedItem | str:
    """A ParsedItem, or a Chinese reason why this entry cannot be used.

    Every string field is scrubbed here, at the parse boundary, because each one is
    stored and rendered downstream (database, JSON, mail): a character that cannot be
    encoded must never reach them (issue 13).
    """
    damage: list[str] = []
    raw: dict[str, str] = {}
    for key, value in (("title", title), ("body", body), ("guid", guid), ("link", link), ("level", level),
                       ("category", category), ("date", date_raw if isinstance(date_raw, str) else None)):
        text, surrogates, controls = scrub(_scalar(value))
        raw[key] = text
        if surrogates or controls:
            what = "、".join(x for x in (f"{surrogates} 个孤立代理字符替换为 �" if surrogates else "",
                                          f"删除 {controls} 个控制字符" if controls else "") if x)
            damage.append(f"{_FIELD_LABEL[key]}中 {what}")
    t = _clip(one_line(raw["title"]), MAX_TITLE)
    text = _clip(plain_text(raw["body"]), MAX_TEXT)
    if not t and not text:
        return "条目既没有标题也没有正文"
    lk = raw["link"].strip() or None
    if lk and not re.match(r"^(https?|ftp)://", lk, re.I):
        lk = lk if lk.startswith("/") else None  # javascript:, data: and the like are dropped
    tk = title_key(t)
    ch = content_hash(t, text)
    g = raw["guid"].strip() or (lk or "") or f"sha256:{ch}"
    if len(g) > MAX_GUID:
        import hashlib

        g = "sha256:" + hashlib.sha256(g.encode("utf-8", "replace")).hexdigest()
    date_in = raw["date"].strip() or None if isinstance(date_raw, str) else date_raw
    published = parse_date(date_in, fallback=date_struct)
    note = None
    source: Literal["feed", "first_seen"] = "feed"
    if published is None:
        shown = raw["date"].strip() if isinstance(date_raw, str) else scrub_text(_scalar(date_raw)).strip()
        note = f"发布时间“{_clip(shown, 60)}”无法识别，按首次看到的时间计" if shown else "条目没有发布时间，按首次看到的时间计"
        published, source = now, "first_seen"
    return ParsedItem(
        guid=g, title=t, link=lk, text=text, published_at=published, published_source=source,
        declared_level=_clip(raw["level"].strip(), 50) or None,
        declared_category=_clip(raw["category"].strip(), 100) or None,
        content_hash=ch, title_key=tk, date_note=note, damage_note="；".join(damage) or None,
    )


def _scalar(v: Any) -> str:
    if v is None or isinstance(v, (dict, list, tuple)):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _result(items: list[ParsedItem], rejects: list[str], fatal: str | None, enc: str | None,
            note: str | None = None, damage: list[str] | None = None) -> ParseResult:
    """The document's verdict. Text quoted from the feed is scrubbed: reasons go to the database and logs."""
    rej = tuple(scrub_text(r) for r in rejects)
    dmg = [*(damage or ()), *(f"条目“{_clip(it.title, 30)}”：{it.damage_note}" for it in items if it.damage_note)]
    dmg_t = tuple(scrub_text(d) for d in dmg)
    if fatal:
        fatal = scrub_text(fatal)
    if fatal and not items:
        return ParseResult((), "rejected", fatal, rej, enc, dmg_t)
    if fatal:
        return ParseResult(tuple(items), "partial", fatal, rej, enc, dmg_t)
    if rejects and not items:
        return ParseResult((), "rejected", f"{len(rej)} 个条目均无法使用：{rej[0]}", rej, enc, dmg_t)
    if rejects:
        return ParseResult(tuple(items), "partial", f"{len(rej)} 个条目无法使用：{rej[0]}", rej, enc, dmg_t)
    if dmg_t:
        head = f"内容有损坏，已修复后采用（{len(dmg_t)} 处）：{dmg_t[0]}"
        return ParseResult(tuple(items), "damaged", "；".join(x for x in (head, note) if x), (), enc, dmg_t)
    return ParseResult(tuple(items), "ok", note, (), enc)


def _parse_xml(text: str, enc: str, note: str | None, now: dt.datetime, damage: list[str]) -> ParseResult:
    if looks_like_html(text):
        return ParseResult((), "rejected", "收到的是 HTML 网页而不是订阅源（可能是错误页或登录页）", (), enc)
    fixed = re.sub(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""", r"\1utf-8\2", text, count=1)
    fixed = _numeric_entities(fixed)
    d = feedparser.parse(fixed.encode("utf-8"), response_headers={"content-type": "application/xml; charset=utf-8"},
                         sanitize_html=False, resolve_relative_uris=False)
    entries = list(d.entries)
    fatal: str | None = None
    rejects: list[str] = []
    if d.bozo:
        exc = d.get("bozo_exception")
        detail = f"{type(exc).__name__}: {_clip(str(exc), 160)}" if exc else "未知错误"
        fatal = f"订阅源格式有误（{detail}）"
        closed = len(re.findall(r"</(?:\w+:)?(?:item|entry)\s*>", fixed, re.I))
        if len(entries) > closed:
            rejects.append(f"{len(entries) - closed} 个条目不完整（下载被截断或格式错误），已丢弃")
            entries = entries[:closed]
    elif not d.get("version") and not entries:
        return ParseResult((), "rejected", "不是可识别的 RSS/Atom 订阅源", (), enc)
    items: list[ParsedItem] = []
    for i, e in enumerate(entries):
        content = e.get("content") or []
        body = content[0].get("value") if content else e.get("summary")
        raw = _raw(e, "published") or _raw(e, "updated") or _raw(e, "created")
        struct = _raw(e, "published_parsed") or _raw(e, "updated_parsed") or _raw(e, "created_parsed")
        tags = e.get("tags") or []
        cat = tags[0].get("term") if tags and isinstance(tags[0], dict) else None
        got = _make_item(guid=e.get("id"), title=e.get("title"), link=e.get("link"), body=body, date_raw=raw,
                         date_struct=struct, level=e.get("level"), category=cat, now=now)
        if isinstance(got, str):
            rejects.append(f"第 {i + 1} 个条目：{got}")
        else:
            items.append(got)
    return _result(items, rejects, fatal, enc, note, damage)


def _raw(entry: Any, key: str) -> Any:
    """Plain dict access: feedparser's own mapping of updated→published warns and blurs the two."""
    return dict.get(entry, key)


def _path(doc: Any, path: str) -> tuple[bool, Any]:
    cur = doc
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return False, None
    return True, cur


JSONFEED = JsonMapping(items="items", id="id", title="title", body="content_text", link="url",
                       published="date_published", category="tags.0")


def _parse_json(text: str, enc: str, note: str | None, mapping: JsonMapping | None, kind: str,
                now: dt.datetime, damage: list[str]) -> ParseResult:
    if looks_like_html(text):
        return ParseResult((), "rejected", "收到的是 HTML 网页而不是 JSON（可能是错误页或登录页）", (), enc)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return ParseResult((), "rejected", f"JSON 无效：{exc.msg}（第 {exc.lineno} 行第 {exc.colno} 列）", (), enc)
    except RecursionError:
        return ParseResult((), "rejected", "JSON 嵌套过深", (), enc)
    is_jsonfeed = isinstance(doc, dict) and str(doc.get("version", "")).startswith("https://jsonfeed.org/")
    m = mapping or JSONFEED
    if mapping is None and not is_jsonfeed and kind != "jsonfeed":
        m = JSONFEED
    if m.items:
        found, rows = _path(doc, m.items)
        if not found or not isinstance(rows, list):
            keys = scrub_text(", ".join(list(doc)[:10])) if isinstance(doc, dict) else type(doc).__name__
            return ParseResult((), "rejected", f"映射不匹配：找不到条目列表“{m.items}”（顶层是：{keys}）", (), enc)
    elif isinstance(doc, list):
        rows = doc
    elif isinstance(doc, dict) and isinstance(doc.get("items"), list):
        rows = doc["items"]
    else:
        return ParseResult((), "rejected", "映射不匹配：文档不是条目列表，也没有 items", (), enc)
    items: list[ParsedItem] = []
    rejects: list[str] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            rejects.append(f"第 {i + 1} 个条目不是 JSON 对象")
            continue
        get = lambda p: _path(row, p)[1] if p else None  # noqa: E731
        body = get(m.body)
        if body is None and m is JSONFEED:
            body = row.get("content_html") or row.get("summary")
        date_raw = get(m.published)
        if date_raw is None and m is JSONFEED:
            date_raw = row.get("date_modified")
        if get(m.title) is None and body is None:
            keys = "、".join(list(row)[:12])
            rejects.append(f"第 {i + 1} 个条目：映射不匹配，没有字段“{m.title}”或“{m.body}”（条目的键：{keys}）")
            continue
        got = _make_item(guid=get(m.id), title=get(m.title), link=get(m.link), body=body, date_raw=date_raw,
                         date_struct=None, level=get(m.level), category=get(m.category), now=now)
        if isinstance(got, str):
            rejects.append(f"第 {i + 1} 个条目：{got}")
        else:
            items.append(got)
    return _result(items, rejects, None, enc, note, damage)


def parse_feed(body: bytes, *, content_type: str | None, kind: str, mapping: JsonMapping | None = None,
               now: dt.datetime) -> ParseResult:
    """Parse one document. Never raises on bad input: a rejection always carries a reason."""
    try:
        if not body or not body.strip():
            return ParseResult((), "rejected", "内容为空", ())
        k = kind
        if k == "file":
            k = sniff_kind(body, content_type)
        text, enc, note, broken = decode(body, content_type)
        damage = [broken] if broken else []
        if k in ("json", "jsonfeed"):
            return _parse_json(text, enc, note, mapping, k, now, damage)
        return _parse_xml(text, enc, note, now, damage)
    except Exception as exc:  # the last line of defence: bad input must never crash a poll
        return ParseResult((), "rejected", scrub_text(f"解析失败（{type(exc).__name__}: {_clip(str(exc), 160)}）"), ())
