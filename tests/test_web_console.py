"""The operator console over HTTP (Starlette's test client) on SQLite and PostgreSQL: accounts, roles, forms."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import func
from sqlmodel import Session, select
from starlette.testclient import TestClient

from responder.models import AuditEvent, Case, Item, OutboxMessage, Release, WeeklyReport
from responder.web import create_app
from responder.web.auth import set_password
from web_support import PASSWORD, build_world

KEY = "test-secret-" + "k" * 32


@pytest.fixture
def world(tmp_path, engine):
    return build_world(tmp_path, engine)


def client(world, **kw) -> TestClient:
    return TestClient(create_app(world.settings, world.engine, key=KEY), follow_redirects=False, **kw)


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def logged_in(world, name: str, **kw) -> TestClient:
    c = client(world, **kw)
    t = token(c.get("/login").text)
    r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": t, "next": "/cases"})
    assert r.status_code == 303 and r.headers["location"] == "/cases", r.text
    return c


def events(world) -> int:
    with Session(world.engine) as s:
        return s.exec(select(func.count()).select_from(AuditEvent)).one()


def test_pages_need_a_login_and_carry_a_strict_content_security_policy(world):
    """Every page redirects to the login form without a session; responses forbid inline script and framing."""
    c = client(world)
    for path in ("/cases", f"/cases/{world.fire_id}", "/outbox", "/sources", "/plan", "/reports", "/audit"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    r = c.get("/login")
    assert "script-src 'self'" in r.headers["content-security-policy"] and r.headers["x-frame-options"] == "DENY"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_login_failures_are_limited_across_restarts(world):
    """Five wrong passwords lock the name for the window, even for the right password and in a fresh app (a restart)."""
    c = client(world)
    for _ in range(5):
        r = c.post("/login", data={"name": "wang", "password": "wrong password!", "csrf_token": token(c.get("/login").text)})
        assert r.status_code == 401 and "用户名或密码不正确" in r.text
    c2 = client(world)
    r = c2.post("/login", data={"name": "wang", "password": PASSWORD, "csrf_token": token(c2.get("/login").text)})
    assert r.status_code == 401 and "次数过多" in r.text
    assert logged_in(world, "zhao")  # another person is not locked out


def test_login_without_csrf_token_and_open_redirects_are_refused(world):
    """The login form needs its token; ``next`` may only be a local path."""
    c = client(world)
    c.get("/login")
    assert c.post("/login", data={"name": "wang", "password": PASSWORD}).status_code == 403
    t = token(c.get("/login").text)
    r = c.post("/login", data={"name": "wang", "password": PASSWORD, "csrf_token": t, "next": "//evil.example/x"})
    assert r.status_code == 303 and r.headers["location"] == "/cases"


def test_a_password_change_or_disable_ends_open_sessions(world):
    """Sessions carry the password stamp: after ``passwd`` the old cookie is sent back to the login page."""
    c = logged_in(world, "wang")
    assert c.get("/cases").status_code == 200
    set_password(world.engine, "wang", PASSWORD + "!", now=world.now + dt.timedelta(seconds=5))
    assert c.get("/cases").status_code == 303


def test_logout_needs_the_token_and_ends_the_session(world):
    """Logout is a POST with the token; afterwards pages ask for a login again."""
    c = logged_in(world, "wang")
    assert c.post("/logout", data={}).status_code == 403
    assert c.post("/logout", data={"csrf_token": token(c.get("/cases").text)}).status_code == 303
    assert c.get("/cases").status_code == 303


def test_bad_input_is_shown_on_the_form_and_changes_nothing(world):
    """A bad URL, a future time, a missing reason: 400 with the message on the form, no audit event, no release."""
    c = logged_in(world, "wang")
    page = f"/cases/{world.fire_id}"
    t = token(c.get(page).text)
    before = events(world)
    cases = [
        ("release", {"url": "ftp://x", "kind": "权威发布", "at": ""}, "完整网址"),
        ("release", {"url": "https://a.gov.cn/1", "kind": "权威发布", "at": "2099-01-01T10:00"}, "不能晚于现在"),
        ("release", {"url": "https://a.gov.cn/1", "kind": "谣言", "at": ""}, "发布类型应为"),
        ("release", {"url": "https://a.gov.cn/1", "kind": "权威发布", "at": "yesterday"}, "时间格式"),
        ("reclassify", {"level": "V", "reason": "x"}, "请选择级别"),
        ("reclassify", {"level": "III", "reason": "  "}, "请说明调整理由"),
        ("close", {"kind": "resolved", "reason": ""}, "请说明关闭理由"),
        ("close", {"kind": "duplicate", "reason": "同一事件", "duplicate_of": "abc"}, "应为数字"),
        ("close", {"kind": "duplicate", "reason": "同一事件", "duplicate_of": ""}, "duplicate-of"),
    ]
    for action, data, message in cases:
        r = c.post(f"{page}/{action}", data={"csrf_token": t, **data})
        assert r.status_code == 400 and message in r.text, (action, data)
        assert f'id="form-{action}"' in r.text
    assert events(world) == before
    with Session(world.engine) as s:
        assert s.exec(select(Release)).all() == [] and s.get(Case, world.fire_id).state == "open"


def test_operator_actions_record_the_person_in_the_audit_trail(world):
    """Ack, reclassify and close through the forms call the core: each audit event's actor is the person."""
    c = logged_in(world, "wang")
    page = f"/cases/{world.school_id}"
    t = token(c.get(page).text)
    assert c.post(f"{page}/ack", data={"csrf_token": t, "note": "已转教体局"}).status_code == 303
    assert c.post(f"{page}/reclassify", data={"csrf_token": t, "level": "none", "reason": "一般咨询"}).status_code == 303
    assert c.post(f"{page}/close", data={"csrf_token": t, "kind": "resolved", "reason": "已答复家长"}).status_code == 303
    with Session(world.engine) as s:
        evs = s.exec(select(AuditEvent).where(AuditEvent.subject == f"case:{world.school_id}",
                                              AuditEvent.kind.in_(("case.acked", "case.reclassified", "case.closed")))).all()
        case = s.get(Case, world.school_id)
    assert sorted(e.kind for e in evs) == ["case.acked", "case.closed", "case.reclassified"]
    assert {e.actor for e in evs} == {"王值班（wang）"} and case.state == "closed" and case.acked_by == "王值班（wang）"
    assert c.get(page).status_code == 200 and "form-release" not in c.get(page).text  # closed: no forms


def _propose(world) -> int:
    with Session(world.engine) as s:
        rel = Release(case_id=world.fire_id, kind="权威发布", url="https://www.shitai.gov.cn/qwfb/9", title="关于丁香镇火灾的通报",
                      published_at=world.now, recorded_at=world.now, recorded_by="matcher", status="proposed",
                      match_score=0.5, match_reasons=["地名相同"])
        s.add(rel)
        s.commit()
        return rel.id


def test_a_proposed_match_is_confirmed_or_rejected_with_the_persons_name(world):
    """Reject needs a reason; confirm stops the 5-hour clock; both name the person (the liaison of the case's unit may)."""
    rid = _propose(world)
    c = logged_in(world, "li")
    t = token(c.get(f"/cases/{world.fire_id}").text)
    r = c.post(f"/releases/{rid}/reject", data={"csrf_token": t, "reason": ""})
    assert r.status_code == 400 and "否决理由" in r.text
    assert c.post(f"/releases/{rid}/confirm", data={"csrf_token": t}).status_code == 303
    with Session(world.engine) as s:
        rel = s.get(Release, rid)
        ev = s.exec(select(AuditEvent).where(AuditEvent.kind == "release.confirmed")).one()
    assert rel.status == "confirmed" and ev.actor == "李联络（li）"


def test_liaison_and_leader_are_refused_by_forged_posts(world):
    """Forged POSTs with a valid token: a liaison on another unit's case or on office-only actions, a leader on anything."""
    rid = _propose(world)
    li = logged_in(world, "li")
    t = token(li.get(f"/cases/{world.fire_id}").text)
    before = events(world)
    for path, data in [(f"/cases/{world.school_id}/release", {"url": "https://x.cn/1", "kind": "权威发布"}),
                       (f"/cases/{world.school_id}/ack", {}),
                       (f"/cases/{world.fire_id}/reclassify", {"level": "IV", "reason": "x"}),
                       (f"/cases/{world.fire_id}/close", {"kind": "resolved", "reason": "x"})]:
        assert li.post(path, data={"csrf_token": t, **data}).status_code == 403, path
    assert li.get(f"/cases/{world.school_id}").status_code == 404
    zhao = logged_in(world, "zhao")
    page = zhao.get(f"/cases/{world.fire_id}").text
    assert "form-release" not in page and "化工厂" in page  # a leader reads every unit's case, with no forms
    t = token(page)
    for path, data in [(f"/cases/{world.fire_id}/release", {"url": "https://x.cn/1", "kind": "权威发布"}),
                       (f"/cases/{world.fire_id}/ack", {}), (f"/releases/{rid}/confirm", {})]:
        assert zhao.post(path, data={"csrf_token": t, **data}).status_code == 403, path
    assert events(world) == before


def test_outbox_masks_phone_numbers_except_for_operators(world):
    """The office's operators see the number an SMS went to; a leader sees it masked."""
    with Session(world.engine) as s:
        sms = s.exec(select(OutboxMessage).where(OutboxMessage.channel == "sms")).first()
    assert sms is not None and re.fullmatch(r"1\d{10}", sms.address)
    masked = sms.address[:3] + "****" + sms.address[-4:]
    op = logged_in(world, "wang").get("/outbox").text
    lead = logged_in(world, "zhao").get("/outbox").text
    assert sms.address in op and sms.address not in lead and masked in lead


def test_liaison_outbox_and_plan_show_only_their_unit(world):
    """A liaison's outbox has no message about another unit's case; the plan matrix has their row only."""
    li = logged_in(world, "li").get("/outbox").text
    assert f"案件#{world.school_id}" not in li and f"案件#{world.fire_id}" in li
    plan = logged_in(world, "li").get("/plan").text
    assert plan.split("<tbody>")[1].count("<tr><th>") == 1


def test_weekly_log_downloads_only_listed_files(world, tmp_path):
    """An archived file listed in its report downloads as an attachment; anything else is 404."""
    folder = tmp_path / "archive" / "2022" / "2022-W30"
    folder.mkdir(parents=True)
    (folder / "weekly-2022-W30.csv").write_text("a,b\n", encoding="utf-8")
    (folder / "secret.txt").write_text("no", encoding="utf-8")
    with Session(world.engine) as s:
        s.add(WeeklyReport(week="2022-W30", generated_at=world.now, path=str(folder), files={"weekly-2022-W30.csv": "ab" * 32}))
        s.commit()
    c = logged_in(world, "zhao")
    assert "weekly-2022-W30.csv" in c.get("/reports").text
    r = c.get("/reports/2022-W30/weekly-2022-W30.csv")
    assert r.status_code == 200 and r.text == "a,b\n" and r.headers["content-disposition"].startswith("attachment")
    assert c.get("/reports/2022-W30/secret.txt").status_code == 404
    assert c.get("/reports/2022-W30/..%2Fsecret.txt").status_code == 404


def test_audit_page_shows_the_chain_state_and_a_break(world):
    """The audit page says the chain is intact, and names the first bad event after a row is edited behind our back."""
    c = logged_in(world, "zhao")
    assert "审计链完整" in c.get("/audit").text
    with Session(world.engine) as s:
        ev = s.exec(select(AuditEvent).order_by(AuditEvent.seq).limit(1)).one()
        ev.actor = "mallory"
        s.add(ev)
        s.commit()
    assert "审计链校验失败" in c.get("/audit").text


def test_proxy_header_identity_only_from_a_listed_proxy(world, tmp_path):
    """X-Remote-User names the person only when the request comes from an address in trusted_proxies."""
    from responder.testing.engine import make_test_settings

    settings = make_test_settings(tmp_path, extra_toml='[web]\ntrusted_proxies = ["127.0.0.1"]\n')
    via_proxy = TestClient(create_app(settings, world.engine, key=KEY), follow_redirects=False, client=("127.0.0.1", 5000))
    assert via_proxy.get("/cases", headers={"X-Remote-User": "wang"}).status_code == 200
    assert via_proxy.get("/cases", headers={"X-Remote-User": "nobody"}).status_code == 303
    direct = TestClient(create_app(settings, world.engine, key=KEY), follow_redirects=False, client=("10.0.0.9", 5000))
    assert direct.get("/cases", headers={"X-Remote-User": "wang"}).status_code == 303


def test_user_commands_add_list_passwd_disable(world, monkeypatch):
    """`responder user` manages accounts; a liaison needs a unit; list never shows a hash; disable ends logins."""
    from responder.cli import main

    from responder import db

    path = str(world.settings.path)
    db.upgrade(db.make_engine(world.settings.database_url))  # the CLI uses the configured file (the world may be on PostgreSQL)
    monkeypatch.setenv("RESPONDER_NEW_PASSWORD", "another long password")
    run = CliRunner().invoke
    r = run(main, ["user", "add", "chen", "--role", "liaison", "-c", path])
    assert r.exit_code == 2 and "--unit" in r.output
    r = run(main, ["user", "add", "chen", "--role", "liaison", "--unit", "县应急管理局", "--display-name", "陈联络", "-c", path])
    assert r.exit_code == 0, r.output
    r = run(main, ["user", "list", "--json", "-c", path])
    assert '"unit": "yjglj"' in r.output and "argon2" not in r.output
    assert run(main, ["user", "passwd", "chen", "-c", path]).exit_code == 0
    assert run(main, ["user", "disable", "chen", "-c", path]).exit_code == 0
    assert '"disabled": true' in run(main, ["user", "list", "--json", "-c", path]).output
    monkeypatch.setenv("RESPONDER_NEW_PASSWORD", "short")
    r = run(main, ["user", "passwd", "chen", "-c", path])
    assert r.exit_code == 2 and "至少" in r.output


def test_items_link_only_http_urls(world):
    """A feed item's javascript: link is shown as text, never as a link."""
    with Session(world.engine) as s:
        it = s.exec(select(Item).where(Item.case_id == world.fire_id)).first()
        it.link = "javascript:alert(1)"
        s.add(it)
        s.commit()
    page = logged_in(world, "wang").get(f"/cases/{world.fire_id}").text
    assert 'href="javascript:' not in page
