"""The pure parsing stage: encodings, dates, JSON mappings, bad input."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from responder.config.sources import JsonMapping
from responder.ingest.dates import parse_date
from responder.ingest.normalise import content_hash, title_key
from responder.ingest.parse import parse_feed
from responder.testing.feeds import atom, rss

UTC = dt.timezone.utc
NOW = dt.datetime(2022, 7, 20, 0, 0, tzinfo=UTC)
BJ_0830 = dt.datetime(2022, 7, 15, 0, 30, tzinfo=UTC)  # 2022-07-15 08:30 Beijing

DATE_STYLES = [
    "Fri, 15 Jul 2022 08:30:00 +0800",
    "Fri, 15 Jul 2022 00:30:00 GMT",
    "Fri, 15 Jul 2022 08:30:00",            # RFC 822 without a zone: Beijing
    "2022-07-15T08:30:00+08:00",
    "2022-07-15T00:30:00Z",
    "2022-07-15T08:30:00",                   # ISO without a zone: Beijing
    "2022-07-15 08:30:00",
    "2022-07-15 08:30",
    "2022年07月15日 08:30",
    "2022年7月15日 8时30分",
    "2022/07/15 08:30",
]


@pytest.mark.parametrize("raw", DATE_STYLES)
def test_rss_date_styles_come_out_as_utc(raw: str) -> None:
    """Every date style in an RSS pubDate gives the same UTC instant; zone-less means Beijing."""
    body = rss([{"title": "石台县某事项", "guid": "g1", "pubDate": raw}])
    res = parse_feed(body, content_type="application/rss+xml", kind="rss", now=NOW)
    assert res.status == "ok", res.reason
    assert res.items[0].published_at == BJ_0830
    assert res.items[0].published_source == "feed"


@pytest.mark.parametrize("raw", DATE_STYLES)
def test_atom_date_styles_come_out_as_utc(raw: str) -> None:
    """The same date styles in Atom <published> give the same UTC instant."""
    body = atom([{"title": "石台县某事项", "id": "urn:1", "published": raw, "link": "http://x.invalid/1"}])
    res = parse_feed(body, content_type="application/atom+xml", kind="atom", now=NOW)
    assert res.status == "ok", res.reason
    assert res.items[0].published_at == BJ_0830


def test_missing_or_garbage_date_uses_first_seen_and_says_so() -> None:
    """No date, or an unreadable one, means the time first seen, and the choice is recorded."""
    body = rss([{"title": "无日期条目", "guid": "a"}, {"title": "坏日期条目", "guid": "b", "pubDate": "昨天下午"}])
    res = parse_feed(body, content_type=None, kind="rss", now=NOW)
    assert [i.published_source for i in res.items] == ["first_seen", "first_seen"]
    assert all(i.published_at == NOW for i in res.items)
    assert "没有发布时间" in res.items[0].date_note and "昨天下午" in res.items[1].date_note


def test_parse_date_keeps_explicit_zones_and_epochs() -> None:
    """Explicit offsets are honoured and epoch seconds/milliseconds are UTC."""
    assert parse_date("2022-07-15T08:30:00-05:00") == dt.datetime(2022, 7, 15, 13, 30, tzinfo=UTC)
    assert parse_date(1657845000) == BJ_0830
    assert parse_date(1657845000000) == BJ_0830
    assert parse_date("") is None and parse_date(None) is None


ITEM = {"title": "石台县七都镇停水三天 居民生活受影响", "guid": "w1", "pubDate": "2022-07-15 08:30:00",
        "description": "七都镇居民反映停水，镕、堃、䶮等生僻字也要正确。"}


@pytest.mark.parametrize("encoding,declare,header", [
    ("gbk", "gbk", "application/rss+xml; charset=gbk"),          # all agree
    ("gbk", "gbk", "text/xml; charset=utf-8"),                   # header lies
    ("gbk", "utf-8", None),                                      # declaration lies
    ("gbk", None, None),                                          # no charset anywhere useful (declares itself)
    ("gb18030", "gb2312", "text/xml"),                            # declared gb2312, uses GB18030-only chars
    ("gb18030", "gb18030", "text/xml; charset=gb18030"),
    ("gb18030", "utf-8", "text/xml; charset=utf-8"),             # both lie
    ("utf-8", "gbk", "text/xml; charset=gbk"),                   # UTF-8 labelled GBK
])
def test_chinese_encodings_decode_to_correct_unicode(encoding: str, declare: str | None, header: str | None) -> None:
    """GBK and GB18030 feeds decode correctly whether or not the header and declaration are right."""
    item = dict(ITEM)
    if encoding == "gbk":  # 䶮 and friends are outside GBK
        item["description"] = "七都镇居民反映停水，希望尽快恢复。"
    body = rss([item], encoding=encoding, declare=declare)
    res = parse_feed(body, content_type=header, kind="rss", now=NOW)
    assert res.status == "ok", res.reason
    assert res.items[0].title == ITEM["title"]
    assert res.items[0].text == item["description"]
    assert res.items[0].published_at == BJ_0830


def test_json_with_custom_mapping() -> None:
    """A JSON API is read through its declared mapping, including level and category."""
    doc = {"code": 0, "result": {"list": [
        {"no": 17, "head": "山体滑坡 3人失联", "summary": "<p>大演乡发生山体滑坡</p>", "href": "https://y.invalid/17",
         "pubTime": "2022年07月15日 08:30", "grade": "较大", "kind": {"name": "自然灾害"}},
        {"no": 18, "head": "无时间条目", "summary": "正文", "href": "https://y.invalid/18"},
    ]}}
    m = JsonMapping(items="result.list", id="no", title="head", body="summary", link="href", published="pubTime",
                    level="grade", category="kind.name")
    res = parse_feed(json.dumps(doc, ensure_ascii=False).encode(), content_type="application/json", kind="json",
                     mapping=m, now=NOW)
    assert res.status == "ok", res.reason
    a, b = res.items
    assert (a.guid, a.title, a.text, a.link) == ("17", "山体滑坡 3人失联", "大演乡发生山体滑坡", "https://y.invalid/17")
    assert (a.published_at, a.declared_level, a.declared_category) == (BJ_0830, "较大", "自然灾害")
    assert b.published_source == "first_seen"


def test_json_feed_without_mapping() -> None:
    """A JSON Feed needs no mapping."""
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [
        {"id": "1", "title": "标题一", "content_text": "正文一", "url": "https://j.invalid/1",
         "date_published": "2022-07-15T08:30:00+08:00"}]}
    res = parse_feed(json.dumps(doc).encode(), content_type="application/feed+json", kind="jsonfeed", now=NOW)
    assert res.status == "ok" and res.items[0].published_at == BJ_0830 and res.items[0].text == "正文一"


@pytest.mark.parametrize("body,kind,mapping,needle", [
    (b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", "rss", None, "HTML"),
    (b"<html><head><title>\xe7\x99\xbb\xe5\xbd\x95</title></head></html>", "json", None, "HTML"),
    (b'{"data": [1, 2', "json", JsonMapping(items="data"), "JSON 无效"),
    (b'{"rows": []}', "json", JsonMapping(items="data"), "找不到条目列表"),
    (b'{"data": [{"foo": 1}]}', "json", JsonMapping(items="data"), "映射不匹配"),
    (b"", "rss", None, "内容为空"),
    (b"just some text", "rss", None, "订阅源"),
])
def test_bad_documents_are_rejected_with_a_reason(body: bytes, kind: str, mapping: JsonMapping | None, needle: str) -> None:
    """HTML error pages, invalid JSON, a mapping that does not match: rejected, and the reason says why."""
    res = parse_feed(body, content_type=None, kind=kind, mapping=mapping, now=NOW)
    assert res.status == "rejected" and not res.items
    assert needle in (res.reason or ""), res.reason


def test_truncated_feed_keeps_complete_items() -> None:
    """A truncated download keeps the complete items, drops the cut one, and is marked partial."""
    items = [{"title": f"条目{i}号石台县", "guid": f"g{i}", "description": "内容" * 20} for i in range(5)]
    body = rss(items)
    cut = body[: body.index(b"<item>", body.index(b"g3")) + 30]  # into the fifth item
    res = parse_feed(cut, content_type=None, kind="rss", now=NOW)
    assert res.status == "partial" and "格式有误" in res.reason
    assert [i.guid for i in res.items] == ["g0", "g1", "g2", "g3"]


def test_html_entities_do_not_make_a_feed_malformed() -> None:
    """&nbsp; (common on portals) is read as a space, not as a malformed feed."""
    body = b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>' \
           b"<item><title>A&nbsp;B&amp;C</title><guid>1</guid></item></channel></rss>"
    res = parse_feed(body, content_type=None, kind="rss", now=NOW)
    assert res.status == "ok" and res.items[0].title == "A B&C"


def test_feed_markup_is_stored_as_text_never_kept() -> None:
    """Script and markup from a feed become inert text; dangerous links are dropped."""
    body = rss([{"title": "<b>标题</b>", "guid": "x", "link": "javascript:alert(1)",
                 "description": "<script>alert('x')</script><p>正文 &lt;img src=x onerror=1&gt;</p>"}])
    it = parse_feed(body, content_type=None, kind="rss", now=NOW).items[0]
    assert it.title == "标题" and "alert" not in it.text and "<script" not in it.text
    assert it.link is None and it.guid == "x"


def test_title_key_ignores_width_punctuation_space_and_repost_prefix() -> None:
    """Full-width/half-width, punctuation, spacing and 转发 prefixes do not change the title key."""
    a = title_key("石台县某工业园区一企业厂房发生火灾！")
    assert a == title_key("转发：石台县 某工业园区，一企业厂房发生火灾")
    assert title_key("ＡＢＣ１２３") == title_key("abc 123")
    assert content_hash("t", "七都镇停水，居民反映三天没有通知，希望尽快恢复供水。") == \
        content_hash("other", "七都镇停水 居民反映三天没有通知 希望尽快恢复供水")


EXPLOSION = {"id": "boom", "title": "某化工厂爆炸致12人死亡", "content_text": "某化工厂发生爆炸，造成12人死亡，多人受伤。",
             "date_published": "2022-07-15T10:00:00+08:00"}


def test_lone_surrogate_is_replaced_and_reported_and_neighbours_kept() -> None:
    """A lone surrogate (half an emoji from a scraper) in any JSON field becomes U+FFFD, is reported as damage,
    and the item beside it is kept: every field that is stored or rendered can be encoded as UTF-8 (issue 13)."""
    bad = {"id": "x\ud83d", "title": "坏标题\ud83d", "content_text": "正文\udc00尾\x07", "url": "https://a.invalid/\ud83d",
           "tags": ["分类\ud83d"], "date_published": "2022-07-15\ud83d"}
    doc = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [bad, EXPLOSION]})
    res = parse_feed(doc.encode(), content_type="application/feed+json", kind="jsonfeed", now=NOW)
    assert res.status == "damaged" and len(res.items) == 2, res
    assert "孤立代理字符" in res.reason and res.damage
    first, boom = res.items
    assert first.title == "坏标题\ufffd" and first.text == "正文\ufffd尾"
    assert "孤立代理字符" in first.damage_note and "控制字符" in first.damage_note
    for it in res.items:
        for value in (it.guid, it.title, it.text, it.link or "", it.declared_category or "", it.date_note or ""):
            value.encode("utf-8")  # raises on a surrogate
    assert boom.title == EXPLOSION["title"] and boom.damage_note is None


def test_one_bad_byte_keeps_the_declared_utf8_and_reports_the_damage() -> None:
    """One invalid byte in a UTF-8 feed no longer turns the whole feed into GB18030 mojibake: the declared
    encoding is kept, the byte becomes U+FFFD, and the result says so ("damaged", never a silent "ok")."""
    items = [{"title": "石台县某化工厂爆炸致12人死亡", "guid": "1", "description": "爆炸造成12人死亡。"},
             {"title": "仁里镇中心小学乱收费", "guid": "2", "description": "坏字节在这里：X。"}]
    body = rss(items, encoding="utf-8").replace("这里：X".encode(), "这里：".encode() + b"\xff")
    res = parse_feed(body, content_type="application/rss+xml; charset=utf-8", kind="rss", now=NOW)
    assert res.encoding == "utf-8", res
    assert [i.title for i in res.items] == [items[0]["title"], items[1]["title"]]
    assert res.status == "damaged" and "1 处字节无法按 utf-8 解码" in res.reason
    assert "\ufffd" in res.items[1].text


def test_a_handful_of_stray_bytes_still_reads_as_utf8_but_gbk_declared_utf8_does_not() -> None:
    """'Almost right' is measured: a few stray bytes among many valid characters keep UTF-8; a GBK feed
    that claims UTF-8 fails on nearly every character and is read as GB18030 without loss."""
    long = [{"title": f"第{i}条：县城供水管网改造工程进展顺利", "guid": str(i)} for i in range(20)]
    body = bytearray(rss(long, encoding="utf-8"))
    for n in range(5):
        pos = body.index("供水".encode(), 200 + n * 300)
        body[pos] = 0xFF
    res = parse_feed(bytes(body), content_type=None, kind="rss", now=NOW)
    assert res.encoding == "utf-8" and res.status == "damaged" and len(res.items) == 20
    assert "5 处字节" in res.reason
    gbk = rss([{"title": "石台县某化工厂爆炸致12人死亡", "guid": "1"}], encoding="gbk", declare="utf-8")
    res = parse_feed(gbk, content_type="text/xml; charset=utf-8", kind="rss", now=NOW)
    assert res.items[0].title == "石台县某化工厂爆炸致12人死亡" and res.status == "ok"
