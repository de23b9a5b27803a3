"""The operator console in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Chromium is required: if it is missing these tests FAIL with a clear message;
set RESPONDER_SKIP_CHROMIUM=1 to skip them explicitly (the skip is reported).
Playwright's own browser download is never used (``executable_path``).
The screenshots docs/console.md shows are taken by this run: into docs/console/ when
RESPONDER_SCREENSHOTS=1 (to refresh the docs), otherwise into a temporary folder, so a test run
leaves the work tree clean.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlmodel import Session, select

from responder.models import AuditEvent, Clock, Release
from responder.web import create_app
from web_support import HOSTILE, PASSWORD, LiveServer, build_world

SHOTS = (Path(__file__).resolve().parent.parent / "docs" / "console" if os.environ.get("RESPONDER_SCREENSHOTS") == "1"
         else Path(tempfile.mkdtemp(prefix="responder-shots-")))


def chromium_path() -> str:
    if os.environ.get("RESPONDER_SKIP_CHROMIUM") == "1":
        pytest.skip("headless Chromium tests skipped explicitly (RESPONDER_SKIP_CHROMIUM=1)")
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is required for the console tests: `apt-get install -y chromium` "
                "(or set RESPONDER_SKIP_CHROMIUM=1 to skip them explicitly)")


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the console tests need Playwright's Python client: pip install -e '.[test]'")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def site(tmp_path):
    world = build_world(tmp_path)
    app = create_app(world.settings, world.engine, key="test-secret-" + "x" * 32)
    with LiveServer(app) as server:
        yield world, server
    world.engine.dispose()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    ctx.close()


def login(page, url: str, name: str) -> None:
    page.goto(url + "/cases")
    assert "/login" in page.url
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases$"))


def test_login_then_a_due_5_hour_case_shows_its_countdown(site, page):
    """After logging in, the 5-hour case is marked 5小时 with its Beijing deadline and time left; the overdue one says 已超时."""
    world, server = site
    login(page, server.url, "wang")
    fire = page.locator(f"li.case:has(a[href='/cases/{world.fire_id}'])")
    assert fire.locator(".tag-5h").inner_text() == "5小时"
    countdown = fire.locator(".countdown").inner_text()
    assert re.fullmatch(r"剩余 (\d+小时)?\d+分", countdown), countdown
    school = page.locator(f"li.case:has(a[href='/cases/{world.school_id}'])")
    assert "overdue" in school.get_attribute("class") and school.locator(".tag-overdue").inner_text() == "已超时"
    # overdue first, then by time left
    hrefs = page.locator("li.case a.title").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert hrefs.index(f"/cases/{world.school_id}") < hrefs.index(f"/cases/{world.fire_id}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "case-list.png"), full_page=True)


def test_release_recorded_through_the_form_stops_the_clock_and_names_the_person(site, page):
    """The release form stops the 5-hour clock; the page and the audit trail name 王值班 as the one who recorded it."""
    world, server = site
    login(page, server.url, "wang")
    page.goto(f"{server.url}/cases/{world.fire_id}")
    assert page.locator("#form-release input[name=at]").input_value()  # defaults to now, Beijing time
    page.fill("#form-release input[name=url]", "https://www.shitai.gov.cn/qwfb/1")
    page.click("#form-release button[type=submit]")
    page.wait_for_selector(".flash")
    assert "王值班" in page.locator(".flash").inner_text()
    five = page.locator(".clock-row", has_text="5小时内发布权威信息")
    assert "按时完成" in five.inner_text()
    event = page.locator("ol.events li", has_text="release.recorded")
    assert "王值班（wang）" in event.locator(".actor").inner_text()
    with Session(world.engine) as s:
        clock = s.exec(select(Clock).where(Clock.case_id == world.fire_id, Clock.obligation == "release_5h")).one()
        ev = s.exec(select(AuditEvent).where(AuditEvent.kind == "release.recorded")).one()
    assert clock.state == "met" and ev.actor == "王值班（wang）"
    page.screenshot(path=str(SHOTS / "case-page.png"), full_page=True)


def test_liaison_cannot_see_or_act_on_another_units_case(site, page):
    """A liaison's list has only their unit's case; the other unit's page is 404 and a forged POST (with a valid token) is 403."""
    world, server = site
    login(page, server.url, "li")
    hrefs = page.locator("li.case a.title").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert hrefs == [f"/cases/{world.fire_id}"]
    r = page.goto(f"{server.url}/cases/{world.school_id}")
    assert r.status == 404 and "不属于您的单位" in page.inner_text("main")
    page.goto(f"{server.url}/cases/{world.fire_id}")
    token = page.locator("#form-release input[name=csrf_token]").input_value()
    # the forged form: this page's valid token, the other unit's case as target
    with page.expect_response(lambda r: r.request.method == "POST") as resp:
        page.evaluate("""([action, token]) => {
            const f = document.createElement("form"); f.method = "post"; f.action = action;
            for (const [k, v] of Object.entries({csrf_token: token, url: "https://evil.example/x", kind: "权威发布", at: ""})) {
                const i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; f.appendChild(i); }
            document.body.appendChild(f); f.submit(); }""", [f"/cases/{world.school_id}/release", token])
    assert resp.value.status == 403
    page.wait_for_load_state()
    assert "无权" in page.inner_text("main")
    with Session(world.engine) as s:
        assert s.exec(select(Release).where(Release.case_id == world.school_id)).all() == []


def test_a_form_without_its_csrf_token_is_refused(site, page):
    """Submitting the release form with its token removed is refused (403) and records nothing."""
    world, server = site
    login(page, server.url, "wang")
    page.goto(f"{server.url}/cases/{world.fire_id}")
    page.evaluate("document.querySelector('#form-release input[name=csrf_token]').remove()")
    page.fill("#form-release input[name=url]", "https://www.shitai.gov.cn/qwfb/2")
    with page.expect_navigation():
        page.click("#form-release button[type=submit]")
    assert "CSRF" in page.inner_text("main")
    with Session(world.engine) as s:
        assert s.exec(select(Release)).all() == []


def test_the_hostile_feed_title_is_inert_on_every_page(site, page):
    """The title's <script>, onerror and {{ }} show as text on every page: nothing runs, no image, no template evaluated."""
    world, server = site
    login(page, server.url, "wang")
    pages = ["/cases", f"/cases/{world.fire_id}", "/outbox", "/sources", "/plan", "/reports", "/audit"]
    shown = 0
    for path in pages:
        page.goto(server.url + path)
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("img").count() == 0, path
        text = page.inner_text("body")
        if "化工厂" in text:
            assert HOSTILE in text, path  # printed literally: escaped, not stripped and not evaluated
            shown += 1
    # a refused form re-renders the case page (with the title) too
    page.goto(f"{server.url}/cases/{world.fire_id}")
    page.fill("#form-release input[name=url]", "javascript:alert(1)")
    page.evaluate("document.querySelector('#form-release input[name=url]').type = 'text'")
    page.click("#form-release button[type=submit]")
    page.wait_for_selector("#form-release .error")
    assert page.evaluate("window.__pwned") is None and HOSTILE in page.inner_text("h1")
    assert shown >= 2 and page.dialogs == []


def test_the_case_list_at_375px_has_no_horizontal_scroll_and_prints_without_forms(site, browser):
    """At a phone's 375 px the case list and case page fit the width; printing hides navigation and forms."""
    world, server = site
    ctx = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True)
    page = ctx.new_page()
    login(page, server.url, "wang")
    for path in ("/cases", f"/cases/{world.fire_id}"):
        page.goto(server.url + path)
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1] <= 375, (path, width)
        if path == "/cases":
            page.screenshot(path=str(SHOTS / "phone-case-list.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.locator("#actions").is_hidden() and page.locator("header nav").is_hidden()
    ctx.close()
