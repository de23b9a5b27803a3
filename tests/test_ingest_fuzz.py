"""Fuzzing the parser stage: random and mutated feed bytes never raise, and every rejection has a reason."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings, strategies as st

from responder.config.sources import JsonMapping
from responder.ingest.parse import parse_feed
from responder.testing.feeds import atom, rss

NOW = dt.datetime(2022, 7, 20, tzinfo=dt.timezone.utc)
SEEDS = [
    rss([{"title": "石台县停水", "guid": "1", "pubDate": "2022-07-15 08:30:00", "description": "<p>正文&amp;</p>"},
         {"title": "第二条", "link": "http://x.invalid/2", "pubDate": "2022年07月15日 08:30"}], encoding="gbk"),
    atom([{"title": "Atom 条目", "id": "urn:a", "updated": "2022-07-15T08:30:00+08:00", "link": "http://x.invalid/a"}]),
    json.dumps({"data": [{"id": 1, "title": "标题", "content": "正文", "time": "2022-07-15 08:30"}]},
               ensure_ascii=False).encode("gb18030"),
]
MAPPING = JsonMapping(items="data", id="id", title="title", body="content", published="time")


def check(body: bytes, kind: str, content_type: str | None) -> None:
    res = parse_feed(body, content_type=content_type, kind=kind, mapping=MAPPING if kind == "json" else None, now=NOW)
    assert res.status in ("ok", "damaged", "partial", "rejected")
    if res.status != "ok":
        assert res.reason, res
    assert not (res.reason or "").startswith("解析失败"), res.reason  # the catch-all is a backstop, not the design
    if res.status == "rejected":
        assert res.items == ()
    for it in res.items:
        assert isinstance(it.title, str) and isinstance(it.text, str) and it.guid
        assert it.published_at is not None and it.published_at.utcoffset() == dt.timedelta(0)
        assert it.published_source in ("feed", "first_seen")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete", "dup"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.sampled_from([b"<", b"&", b"]]>", b"\x00", b"\xff\xfe", b"<item>", b'"', b"&nbsp",
                                              b"<!ENTITY x 'y'>", b"{", b"\xe4\xb8"]))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 20))]
        else:
            j = draw(st.integers(i, len(data)))
            data[i:i] = data[i:j]
    return bytes(data)


CT = st.sampled_from([None, "text/xml", "text/html", "application/json; charset=gbk", "text/xml; charset=bogus-x"])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=mutated(), kind=st.sampled_from(["rss", "json", "file", "jsonfeed"]), ct=CT)
def test_mutated_feeds_never_raise(body: bytes, kind: str, ct: str | None) -> None:
    """Mutated real feeds (bit flips, cuts, inserted markup) give a result, never an exception."""
    check(body, kind, ct)


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=600), kind=st.sampled_from(["rss", "json", "file"]), ct=CT)
def test_random_bytes_never_raise(body: bytes, kind: str, ct: str | None) -> None:
    """Arbitrary bytes give a result with a reason, never an exception."""
    check(body, kind, ct)
