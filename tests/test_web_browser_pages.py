"""The ledger and request pages in a real headless Chromium (issues 18, 19): forms work, hostile text stays inert.

Same browser setup and rules as tests/test_web_browser.py (Debian's chromium via ``executable_path``).
"""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import Session, select

from responder.models import AuditEvent, DisclosureRequest
from test_web_browser import browser, login, page, site  # noqa: F401  (fixtures)
from web_support import HOSTILE


def test_a_request_registered_in_the_browser_shows_its_deadline_and_stays_inert(site, page):  # noqa: F811
    """The add form registers a request; its page shows the due date, and the hostile applicant runs no script."""
    world, server = site
    login(page, server.url, "wang")
    page.goto(f"{server.url}/requests")
    received = (world.now + dt.timedelta(hours=8)).date() - dt.timedelta(days=1)
    page.fill("#form-add input[name=received]", received.isoformat())
    page.select_option("#form-add select[name=channel]", "邮寄")
    page.fill("#form-add input[name=applicant]", "张三" + HOSTILE)
    page.fill("#form-add textarea[name=description]", "申请公开道路资金" + HOSTILE)
    page.click("#form-add button[type=submit]")
    page.wait_for_selector(".flash")
    assert "王值班" in page.locator(".flash").inner_text()
    with Session(world.engine) as s:
        req = s.exec(select(DisclosureRequest)).one()
        ev = s.exec(select(AuditEvent).where(AuditEvent.kind == "request.received")).one()
    assert ev.actor == "王值班（wang）" and f"{req.due_date} 24:00" in page.inner_text("main")
    assert "<script>" in page.inner_text("main") and page.evaluate("window.__pwned") is None
    page.goto(f"{server.url}/requests")
    assert page.evaluate("window.__pwned") is None and f"/requests/{req.id}" in page.content()


def test_a_ledger_form_downloads_the_file(site, page):  # noqa: F811
    """The ledger form returns a download (JSON here) with the period's cases; the page itself is unchanged."""
    world, server = site
    login(page, server.url, "zhao")
    page.goto(f"{server.url}/ledgers")
    day = (world.now + dt.timedelta(hours=8)).date()
    page.fill("#form-ledger input[name=from]", (day - dt.timedelta(days=3)).isoformat())
    page.fill("#form-ledger input[name=to]", day.isoformat())
    page.select_option("#form-ledger select[name=format]", "json")
    with page.expect_download() as dl:
        page.click("#form-ledger button[type=submit]")
    lg = json.loads(open(dl.value.path(), encoding="utf-8").read())
    assert {r["case_id"] for r in lg["rows"]} == {world.fire_id, world.school_id}
    assert dl.value.suggested_filename.startswith("ledger-") and dl.value.suggested_filename.endswith(".json")
