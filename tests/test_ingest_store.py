"""Deduplication, cross-source attachment, releases, replay and restarts, on real databases."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from responder import db
from responder.config_sources import SourceConfig
from responder.ingest import FetchedDoc, FetchResult, ingest_fetched
from responder.models import AuditEvent, Case, Item
from responder.testing.feeds import rss

UTC = dt.timezone.utc
NOW = dt.datetime(2022, 7, 18, 8, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent

FIRE = {"title": "石台县某工业园区一企业厂房发生火灾", "guid": "fire-1", "link": "https://a.invalid/fire",
        "pubDate": "2022-07-18 13:05:00", "description": "县工业园区一家企业生产车间发生火灾，造成11人死亡。"}
NOISE = {"title": "城区某建筑工地夜间施工噪音扰民", "guid": "noise-1", "pubDate": "2022-07-18 10:35:00",
         "description": "县城秋浦路附近一处在建楼盘连续一周夜间施工。"}


def cfg(name: str, role: str = "opinion") -> SourceConfig:
    return SourceConfig(name=name, kind="rss", url=f"https://{name}.invalid/feed.xml", role=role)


def run(engine, source: SourceConfig, items: list[dict[str, str]], now: dt.datetime = NOW, **kw: Any):
    fr = FetchResult(status=200, documents=(FetchedDoc(source.url, rss(items), "application/rss+xml"),))
    return ingest_fetched(engine, source, fr, now=now, state=None, jitter=0.5, **kw)


def stored(engine) -> list[Item]:
    with Session(engine) as s:
        return list(s.exec(select(Item).order_by(Item.id)))


def test_same_item_again_is_a_duplicate(engine) -> None:
    """Same guid, same link or same content from the same source is not a new item."""
    a = cfg("portal")
    first = run(engine, a, [FIRE, NOISE])
    moved = dict(NOISE, guid="noise-other-guid")           # same content, new guid
    relinked = dict(FIRE, guid="fire-new", description="更新后的正文，内容有变化，但链接相同。")
    again = run(engine, a, [FIRE, moved, relinked], NOW + dt.timedelta(minutes=5))
    assert (first.new, again.new, again.duplicate) == (2, 0, 3)
    assert len(stored(engine)) == 2
    reasons = [o.reason for o in again.items]
    assert "相同标识" in reasons[0] and "内容相同" in reasons[1] and "相同标识" in reasons[2]


def test_duplicates_within_one_feed(engine) -> None:
    """An item repeated inside one feed is stored once."""
    rep = run(engine, cfg("portal"), [FIRE, FIRE])
    assert (rep.new, rep.duplicate) == (1, 1) and len(stored(engine)) == 1


def test_same_story_from_two_sources_without_a_case(engine) -> None:
    """A repost with a normalised-equal title from another source points at the first item, with a reason."""
    run(engine, cfg("yingji", "incident"), [FIRE])
    repost = dict(FIRE, title="转发：石台县某工业园区，一企业厂房发生火灾！", guid="wb-1", link="https://wb.invalid/1",
                  description="网传视频显示厂房冒出浓烟。")
    rep = run(engine, cfg("weibo"), [repost], NOW + dt.timedelta(hours=1))
    assert rep.same_story == 1
    first, second = stored(engine)
    assert second.status == "new" and second.case_id is None
    assert second.extra["same_story_as"] == first.id
    assert second.attach_reason == f"与来源 yingji 的条目#{first.id} 标题相同（归一化后），属同一事件"


def test_attached_to_existing_case_by_content(engine) -> None:
    """Same content under a different title attaches to the other item's case, status attached."""
    run(engine, cfg("portal"), [NOISE])
    with Session(engine) as s:
        case = Case(title="噪音", detected_at=NOW, opened_at=NOW, updated_at=NOW)
        s.add(case)
        s.commit()
        s.refresh(case)
        item = s.exec(select(Item)).one()
        item.case_id = case.id
        s.add(item)
        s.commit()
        case_id, item_id = case.id, item.id
    copy = dict(NOISE, title="居民：晚上工地太吵了", guid="x-9")
    rep = run(engine, cfg("forum"), [copy], NOW + dt.timedelta(hours=2))
    assert rep.attached == 1 and rep.items[0].case_id == case_id
    new = stored(engine)[-1]
    assert (new.status, new.case_id) == ("attached", case_id)
    assert new.attach_reason == f"与来源 portal 的条目#{item_id} 内容相同（归一化后）"


def test_no_attachment_outside_the_window_or_to_releases(engine) -> None:
    """An old item (beyond 72 h) and release items never pull a new story in."""
    run(engine, cfg("portal"), [FIRE], NOW - dt.timedelta(hours=80))
    rel = run(engine, cfg("gov", "release"), [dict(FIRE, guid="r1")], NOW)
    rep = run(engine, cfg("weibo"), [dict(FIRE, guid="w1")], NOW)
    assert rel.release == 1 and rep.new == 1 and rep.same_story == 0
    assert [i.status for i in stored(engine)] == ["new", "release", "new"]


def test_audit_event_per_poll_with_counts(engine) -> None:
    """Each poll records source.polled with its counts."""
    run(engine, cfg("portal"), [FIRE, NOISE])
    with Session(engine) as s:
        ev = s.exec(select(AuditEvent).where(AuditEvent.kind == "source.polled")).one()
    assert ev.subject == "source:portal" and ev.data["new"] == 2 and ev.data["status"] == "ok"


def test_replay_holds_back_items_dated_after_now(sqlite_engine, tmp_path) -> None:
    """A local file replayed under a virtual now releases each item only once its time has come."""
    from responder.ingest import make_client, poll_source
    import asyncio
    from types import SimpleNamespace

    (tmp_path / "f.xml").write_bytes(rss([NOISE, FIRE]))  # 10:35 and 13:05 Beijing
    source = SourceConfig(name="replay", kind="file", url="f.xml", role="opinion")
    settings = SimpleNamespace(base_dir=tmp_path)

    def at(hh: int):
        async def go():
            async with make_client() as c:
                return await poll_source(sqlite_engine, settings, source, now=dt.datetime(2022, 7, 18, hh - 8, tzinfo=UTC),
                                         client=c, jitter=0.5)
        return asyncio.run(go())

    r1, r2, r3 = at(11), at(14), at(15)
    assert (r1.new, r1.held) == (1, 1)
    assert (r2.new, r2.duplicate, r2.held) == (1, 1, 0)
    assert r3.status == "unchanged"


def test_restart_new_engine_same_file_still_deduplicates(sqlite_engine) -> None:
    """A new engine on the same SQLite file (a restart) recognises items already stored."""
    run(sqlite_engine, cfg("portal"), [FIRE, NOISE])
    url = str(sqlite_engine.url)
    sqlite_engine.dispose()
    fresh = db.make_engine(url)
    try:
        rep = run(fresh, cfg("portal"), [FIRE, NOISE], NOW + dt.timedelta(hours=1))
        rep2 = run(fresh, cfg("weibo"), [dict(FIRE, guid="w")], NOW + dt.timedelta(hours=1))
    finally:
        fresh.dispose()
    assert (rep.new, rep.duplicate, rep2.same_story) == (0, 2, 1)


def _config(tmp: Path, feed: Path, feed2: Path) -> Path:
    text = f"""
[service]
state_dir = "{tmp / 'state'}"
[data]
domains = "{REPO / 'config/domains.toml'}"
units = "{REPO / 'config/units.toml'}"
plan = "{REPO / 'config/plan.toml'}"
thresholds = "{REPO / 'config/thresholds.toml'}"
routing = "{REPO / 'config/routing.toml'}"
policies = "{REPO / 'config/policies.toml'}"
templates = "{REPO / 'templates'}"
[[source]]
name = "portal"
kind = "file"
url = "{feed}"
role = "opinion"
[[source]]
name = "weibo"
kind = "file"
url = "{feed2}"
role = "opinion"
[notify]
channels = []
"""
    p = tmp / "responder.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _cli(conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RESPONDER_CONFIG=str(conf))
    return subprocess.run([sys.executable, "-m", "responder", *args], capture_output=True, text=True, env=env,
                          timeout=60, cwd=conf.parent)


def test_subprocess_ingest_across_restarts(tmp_path) -> None:
    """Separate `responder ingest` processes on one database: duplicates and cross-source stories are recognised."""
    feed, feed2 = tmp_path / "portal.xml", tmp_path / "weibo.xml"
    feed.write_bytes(rss([NOISE], encoding="gbk"))
    feed2.write_bytes(rss([dict(FIRE, title="转发：" + FIRE["title"], guid="wb")]))
    conf = _config(tmp_path, feed, feed2)
    up = _cli(conf, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    r1 = _cli(conf, "ingest", "portal", "--json")
    feed.write_bytes(rss([NOISE, FIRE], encoding="gbk"))
    r2 = _cli(conf, "ingest", "portal", "--json")
    r3 = _cli(conf, "ingest", "weibo", "--json")
    src = _cli(conf, "sources", "--json")
    out = [json.loads(r.stdout) for r in (r1, r2, r3)]
    assert [r.returncode for r in (r1, r2, r3, src)] == [0, 0, 0, 0], (r1.stderr, r2.stderr, r3.stderr)
    assert (out[0]["new"], out[1]["new"], out[1]["duplicate"]) == (1, 1, 1)
    assert out[2]["same_story"] == 1 and "portal" in out[2]["items"][0]["reason"]
    health = {s["name"]: s for s in json.loads(src.stdout)}
    assert health["portal"]["healthy"] is True and health["portal"]["items_total"] == 2


def test_cli_dry_run_json_needs_no_configuration(tmp_path) -> None:
    """`ingest --dry-run --json PATH` prints one line per item and a final status line, storing nothing."""
    f = tmp_path / "x.xml"
    f.write_bytes(rss([NOISE, {"title": "无日期", "guid": "nd"}]))
    env = {k: v for k, v in os.environ.items() if k != "RESPONDER_CONFIG"}
    r = subprocess.run([sys.executable, "-m", "responder", "ingest", "--dry-run", "--json", str(f)],
                       capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert r.returncode == 0, r.stderr
    assert lines[0]["published"] == "2022-07-18T02:35:00Z" and lines[0]["published_source"] == "feed"
    assert lines[1]["published_source"] == "first_seen"
    assert set(lines[0]) == {"guid", "title", "link", "published", "published_source", "text"}
    assert lines[-1] == {"status": "ok", "reason": None, "items": 2}
    assert not (tmp_path / "var").exists()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r2 = subprocess.run([sys.executable, "-m", "responder", "ingest", "--dry-run", "--json", str(bad)],
                        capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    last = json.loads(r2.stdout.splitlines()[-1])
    assert r2.returncode == 1 and last["status"] == "rejected" and "JSON" in last["reason"] and last["items"] == 0


def test_request_feed_items_are_stored_for_registration_never_attached(engine) -> None:
    """Items of a `request` source get status `request` (registered as 依申请公开, issue 19), even when
    they read like an opinion item already stored: an application is never folded into an opinion case."""
    run(engine, cfg("portal"), [NOISE])
    rep = run(engine, cfg("yisq", "request"), [dict(NOISE, guid="req-1")], NOW + dt.timedelta(hours=1))
    assert rep.new == 1
    item = stored(engine)[-1]
    assert (item.role, item.status, item.case_id) == ("request", "request", None)
    assert "same_story_as" not in item.extra
