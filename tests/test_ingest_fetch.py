"""Fetching from a real HTTP server on loopback: validators, redirects, gzip, timeouts, limits, recovery."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session, select

from responder.config.sources import SourceConfig
from responder.ingest import make_client, poll_due, poll_source
from responder.models import AuditEvent, Item, Source
from responder.testing.feeds import FeedServer, Reply, rss

UTC = dt.timezone.utc
NOW = dt.datetime(2022, 7, 15, 2, 0, tzinfo=UTC)


def feed(n: int = 3, prefix: str = "石台县测试条目", **kw: Any) -> bytes:
    return rss([{"title": f"{prefix}{i}号", "guid": f"{prefix}-{i}", "pubDate": "2022-07-15 08:30:00",
                 "description": f"第{i}条的正文内容，关于石台县的一件事情。" * 3} for i in range(n)], **kw)


def src(url: str, name: str = "s1", **kw: Any) -> SourceConfig:
    return SourceConfig(name=name, kind="rss", url=url, role="opinion", interval=600, **kw)


def poll(engine, cfg: SourceConfig, now: dt.datetime = NOW, settings: Any = None):
    async def go():
        async with make_client() as client:
            return await poll_source(engine, settings, cfg, now=now, client=client, jitter=0.5)
    return asyncio.run(go())


def state(engine, name: str = "s1") -> Source:
    with Session(engine) as s:
        return s.get(Source, name)


def items(engine) -> list[Item]:
    with Session(engine) as s:
        return list(s.exec(select(Item).order_by(Item.id)))


def test_etag_and_last_modified_round_trip_to_304(sqlite_engine) -> None:
    """Validators from the first fetch are sent back; a 304 stores nothing and counts as healthy."""
    lm = "Fri, 15 Jul 2022 00:00:00 GMT"
    with FeedServer() as srv:
        cfg = src(srv.route("/f.xml", Reply(feed(), etag='"v1"', last_modified=lm)))
        first = poll(sqlite_engine, cfg)
        second = poll(sqlite_engine, cfg, NOW + dt.timedelta(minutes=10))
        sent = srv.hits("/f.xml")[1].headers
    assert (first.status, first.new) == ("ok", 3)
    assert (second.status, second.new, second.http_status) == ("not_modified", 0, 304)
    assert sent.get("if-none-match") == '"v1"' and sent.get("if-modified-since") == lm
    st = state(sqlite_engine)
    assert (st.etag, st.last_modified, st.consecutive_failures) == ('"v1"', lm, 0)
    assert st.last_success_at == NOW + dt.timedelta(minutes=10)


def test_last_modified_alone_gives_304(sqlite_engine) -> None:
    """A server that only sends Last-Modified still gets a conditional GET."""
    lm = "Fri, 15 Jul 2022 00:00:00 GMT"
    with FeedServer() as srv:
        cfg = src(srv.route("/lm.xml", Reply(feed(), last_modified=lm)))
        poll(sqlite_engine, cfg)
        again = poll(sqlite_engine, cfg, NOW + dt.timedelta(minutes=10))
    assert again.status == "not_modified"


def test_redirect_gzip_and_user_agent(sqlite_engine) -> None:
    """Redirects are followed, gzip is decoded, and the User-Agent names the service."""
    with FeedServer() as srv:
        srv.route("/new.xml", Reply(feed(2), gzip=True))
        cfg = src(srv.route("/old.xml", Reply(status=301, location="/new.xml")))
        rep = poll(sqlite_engine, cfg)
        hdr = srv.hits("/new.xml")[0].headers
    assert (rep.status, rep.new) == ("ok", 2)
    assert hdr["user-agent"].startswith("responder/") and "gzip" in hdr["accept-encoding"]


def test_per_source_headers_are_sent(sqlite_engine) -> None:
    """Headers declared for a source go out with its request."""
    with FeedServer() as srv:
        cfg = src(srv.route("/h.xml", Reply(feed(1))), headers={"X-Api-Key": "k123"})
        poll(sqlite_engine, cfg)
        assert srv.hits("/h.xml")[0].headers["x-api-key"] == "k123"


def test_slow_server_times_out_quickly(sqlite_engine) -> None:
    """A server that does not answer within the source's timeout is a failure with a reason, not a hang."""
    with FeedServer() as srv:
        cfg = src(srv.route("/slow.xml", Reply(feed(), delay=1.5)), timeout=0.3)
        t0 = time.monotonic()
        rep = poll(sqlite_engine, cfg)
        took = time.monotonic() - t0
    assert rep.status == "error" and "超时" in rep.reason
    assert took < 1.2
    assert state(sqlite_engine).consecutive_failures == 1


def test_slow_drip_is_cut_off_and_complete_items_kept(sqlite_engine) -> None:
    """A body that trickles in is cut at the deadline; items complete by then are kept, none half-read."""
    body = feed(40)
    with FeedServer() as srv:
        cfg = src(srv.route("/drip.xml", Reply(body, drip=0.01)), timeout=0.6)
        t0 = time.monotonic()
        rep = poll(sqlite_engine, cfg)
        took = time.monotonic() - t0
    assert took < 1.5
    assert rep.status in ("partial", "rejected", "error") and "超时" in rep.reason
    stored = items(sqlite_engine)
    assert len(stored) < 40
    assert all(it.text.endswith("事情。") for it in stored)


def test_oversized_body_is_capped_and_complete_items_kept(sqlite_engine) -> None:
    """A body over max_bytes is read only up to the cap; complete items before it are kept."""
    body = feed(60)
    with FeedServer() as srv:
        cfg = src(srv.route("/big.xml", Reply(body)), max_bytes=4096)
        rep = poll(sqlite_engine, cfg)
    assert len(body) > 4096
    assert rep.status == "partial" and "超过上限" in rep.reason
    assert 0 < rep.new < 60
    assert state(sqlite_engine).consecutive_failures == 1


def test_truncated_download_keeps_complete_items(sqlite_engine) -> None:
    """A connection closed before Content-Length is reached: partial, complete items stored."""
    body = feed(10)
    with FeedServer() as srv:
        cfg = src(srv.route("/cut.xml", Reply(body, truncate_at=len(body) // 2)))
        rep = poll(sqlite_engine, cfg)
    assert rep.status == "partial" and "不完整" in rep.reason
    assert 0 < rep.new < 10


def test_500s_back_off_then_recover(sqlite_engine) -> None:
    """Failures count up with growing backoff and a reason; a success resets the count and keeps going."""
    with FeedServer() as srv:
        cfg = src(srv.route("/f.xml", Reply(status=500, body=b"oops"), Reply(status=503, body=b"busy"), Reply(feed())))
        r1 = poll(sqlite_engine, cfg)
        t2 = NOW + dt.timedelta(minutes=10)
        r2 = poll(sqlite_engine, cfg, t2)
        t3 = NOW + dt.timedelta(minutes=40)
        r3 = poll(sqlite_engine, cfg, t3)
    assert (r1.status, r1.consecutive_failures, r1.reason) == ("error", 1, "HTTP 500 Internal Server Error")
    assert (r2.status, r2.consecutive_failures) == ("error", 2)
    assert r2.next_poll_at - t2 > r1.next_poll_at - NOW  # backoff grows
    assert (r3.status, r3.new, r3.consecutive_failures) == ("ok", 3, 0)
    st = state(sqlite_engine)
    assert st.last_success_at == t3 and st.last_error.startswith("HTTP 503") and st.next_poll_at == t3 + dt.timedelta(seconds=600)
    with Session(sqlite_engine) as s:
        kinds = [e.kind for e in s.exec(select(AuditEvent).order_by(AuditEvent.seq))]
    assert kinds.count("source.rejected") == 2 and kinds.count("source.polled") == 3


def test_html_error_page_with_status_200(sqlite_engine) -> None:
    """An HTML page served as 200 marks the source unhealthy with the reason; nothing is stored."""
    page = "<!DOCTYPE html><html><head><title>系统维护</title></head><body>系统维护中</body></html>".encode()
    with FeedServer() as srv:
        cfg = src(srv.route("/f.xml", Reply(page, content_type="text/html; charset=utf-8")))
        rep = poll(sqlite_engine, cfg)
    assert rep.status == "rejected" and "HTML" in rep.reason
    assert items(sqlite_engine) == [] and state(sqlite_engine).last_error == rep.reason


def test_gbk_feed_with_lying_header_stores_correct_text(sqlite_engine) -> None:
    """A GBK feed served as charset=utf-8 is stored as the right Chinese text."""
    body = feed(2, prefix="七都镇停水情况", encoding="gbk")
    with FeedServer() as srv:
        cfg = src(srv.route("/gbk.xml", Reply(body, content_type="text/xml; charset=utf-8")))
        rep = poll(sqlite_engine, cfg)
    assert rep.status == "ok"
    assert [i.title for i in items(sqlite_engine)] == ["七都镇停水情况0号", "七都镇停水情况1号"]


def test_json_source_over_http(sqlite_engine) -> None:
    """A JSON API source is fetched and mapped."""
    from responder.config.sources import JsonMapping

    body = '{"data": {"list": [{"id": 1, "t": "山体滑坡三人失联", "c": "正文", "time": "2022-07-15 08:30"}]}}'.encode()
    with FeedServer() as srv:
        url = srv.route("/api", Reply(body, content_type="application/json"))
        cfg = SourceConfig(name="j", kind="json", url=url, role="incident",
                           mapping=JsonMapping(items="data.list", id="id", title="t", body="c", published="time"))
        rep = poll(sqlite_engine, cfg)
    assert (rep.status, rep.new) == ("ok", 1)
    assert items(sqlite_engine)[0].published_at == dt.datetime(2022, 7, 15, 0, 30, tzinfo=UTC)


def test_poll_due_one_slow_source_does_not_delay_others(sqlite_engine, tmp_path) -> None:
    """In a round, a hanging source fails on its own deadline while the others finish; non-due ones wait."""
    with FeedServer() as srv:
        fast = src(srv.route("/fast.xml", Reply(feed(2))), name="fast")
        slow = src(srv.route("/slow.xml", Reply(feed(2), delay=1.5)), name="slow", timeout=0.4)
        settings = SimpleNamespace(file=SimpleNamespace(source=[fast, slow]), base_dir=tmp_path)

        async def go(now):
            async with make_client() as client:
                return await poll_due(sqlite_engine, settings, now=now, client=client)

        t0 = time.monotonic()
        reps = {r.source: r for r in asyncio.run(go(NOW))}
        took = time.monotonic() - t0
        again = asyncio.run(go(NOW + dt.timedelta(seconds=30)))
    assert took < 1.2
    assert reps["fast"].status == "ok" and reps["fast"].new == 2
    assert reps["slow"].status == "error" and "超时" in reps["slow"].reason
    assert again == []  # fast is due in 10 minutes, slow backs off: nobody is due 30 s later
