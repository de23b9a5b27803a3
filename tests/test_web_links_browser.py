"""A link from an escalation message opened in real headless Chromium (issue 17): record the release on the
link's page, the clock stops, and the link is then refused. Chromium as in tests/test_web_browser.py."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from responder import engine as eng
from responder.models import Clock, OutboxMessage
from responder.web import create_app
from test_web_browser import browser, page  # noqa: F401  (fixtures)
from test_web_links import LINK_RE, NOW, open_fire, settings_for
from web_support import LiveServer


def test_release_through_the_link_in_chromium_stops_the_clock(tmp_path, sqlite_engine, page):  # noqa: F811
    """The liaison opens their link, fills URL and time, submits: the release is recorded in their name, the
    5-hour clock is met, and opening the link again shows that it has been used."""
    settings = settings_for(tmp_path)
    case_id = open_fire(sqlite_engine, settings)
    with Session(sqlite_engine) as s:
        ctx = next(m.context for m in s.exec(select(OutboxMessage).where(OutboxMessage.channel == "sms")).all()
                   if m.context.get("link_purpose") == "release")
    token = LINK_RE.search(ctx["link_url"]).group(2)
    later = NOW + dt.timedelta(hours=1)
    app = create_app(settings, sqlite_engine, clock=lambda: later, key="k" * 40)
    with LiveServer(app) as server:
        page.goto(f"{server.url}/l/{token}")
        assert "记录发布" in page.inner_text("h1")
        page.fill("input[name=url]", "https://www.shitai.gov.cn/xxgk/fire.html")
        page.fill("input[name=at]", "2026-11-30T10:50")
        page.click("#form-link button[type=submit]")
        page.wait_for_selector("#link-done")
        assert ctx["recipient_name"] in page.inner_text("#link-done")
        page.goto(f"{server.url}/l/{token}")
        assert "已经使用过" in page.inner_text("#link-problem")
        assert page.dialogs == []
    eng.advance(sqlite_engine, settings, later)
    with Session(sqlite_engine) as s:
        clock = s.exec(select(Clock).where(Clock.case_id == case_id, Clock.obligation == "release_5h")).one()
        assert clock.state == "met"
