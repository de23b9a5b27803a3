"""``POST /intake/<source>`` (issue 17): items a vendor pushes, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from starlette.testclient import TestClient

from responder import engine as eng
from responder.models import AuditEvent, Case, Item, Source
from responder.testing.engine import make_test_settings
from responder.web import create_app

UTC = dt.timezone.utc
TOKEN = "vendor-token-" + "t" * 24
HKEY = "vendor-hmac-key-" + "h" * 24
SOURCES = '''
[[source]]
name = "vendor-a"
kind = "push"
role = "incident"
mapping = { items = "data", id = "id", title = "title", body = "content", link = "url", published = "time", level = "level" }
push = { auth = "bearer", key_secret = "vendor_a_token", max_bytes = 2048 }

[[source]]
name = "vendor-b"
kind = "push"
role = "opinion"
mapping = { id = "msgId", title = "title", body = "text", link = "url", published = "time" }
push = { auth = "hmac", key_secret = "vendor_b_key", header = "X-Vendor-Signature" }
'''


@pytest.fixture
def world(tmp_path, engine, monkeypatch):
    monkeypatch.setenv("RESPONDER_VENDOR_A_TOKEN", TOKEN)
    monkeypatch.setenv("RESPONDER_VENDOR_B_KEY", HKEY)
    settings = make_test_settings(tmp_path, extra_toml=SOURCES)
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    app = create_app(settings, engine, clock=lambda: now, key="k" * 40)
    return settings, engine, now, TestClient(app, follow_redirects=False)


FIRE = {"id": "A-1001", "title": "石台县丁香镇一化工厂发生火灾 已致12人死亡", "content": "丁香镇化工厂火灾，已造成12人死亡。",
        "url": "https://vendor.example/a/1001", "time": "2026-11-30T19:30:00+08:00", "level": ""}


def body_a(*items: dict) -> bytes:
    return json.dumps({"code": 0, "data": list(items)}, ensure_ascii=False).encode()


def items(engine) -> list[Item]:
    with Session(engine) as s:
        return list(s.exec(select(Item).order_by(Item.id)).all())


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def bearer(t: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}


def test_pushed_item_is_stored_once_and_opens_a_case_like_a_polled_one(world):
    """A bearer-authenticated push stores the item through the ingest path; the same item again is a duplicate;
    the engine then opens the 5-hour case from it. No session cookie is set and no CSRF token is needed."""
    settings, engine, now, c = world
    r = c.post("/intake/vendor-a", content=body_a(FIRE), headers=bearer())
    assert r.status_code == 200, r.text
    assert r.json()["new"] == 1 and "set-cookie" not in r.headers
    r = c.post("/intake/vendor-a", content=body_a(FIRE), headers=bearer())
    assert r.status_code == 200 and r.json()["new"] == 0 and r.json()["duplicate"] == 1
    got = items(engine)
    assert len(got) == 1 and got[0].source_name == "vendor-a" and got[0].guid == "A-1001" and got[0].role == "incident"
    assert got[0].published_at.replace(tzinfo=UTC) == dt.datetime(2026, 11, 30, 11, 30, tzinfo=UTC)  # 19:30 Beijing
    eng.open_cases(engine, settings, now)
    with Session(engine) as s:
        case = s.exec(select(Case)).one()
        assert case.clock_class == "5h"
        src = s.get(Source, "vendor-a")
        assert src.kind == "push" and src.items_total == 1 and src.last_success_at is not None
        assert s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "source.polled")).one() == 2


def test_wrong_or_missing_secret_is_401_and_changes_nothing(world):
    """A wrong bearer token, a missing header, or a bad HMAC is refused with 401; nothing is stored or audited."""
    _settings, engine, _now, c = world
    before = count(engine, AuditEvent)
    assert c.post("/intake/vendor-a", content=body_a(FIRE), headers=bearer("nope")).status_code == 401
    assert c.post("/intake/vendor-a", content=body_a(FIRE), headers={"Content-Type": "application/json"}).status_code == 401
    body = json.dumps({"msgId": "B-1", "title": "网友反映仁里镇中心小学乱收费", "text": "家长反映学校收取补课费。"},
                      ensure_ascii=False).encode()
    bad = hmac.new(b"other-key", body, hashlib.sha256).hexdigest()
    r = c.post("/intake/vendor-b", content=body, headers={"X-Vendor-Signature": f"sha256={bad}"})
    assert r.status_code == 401 and "签名" in r.json()["error"]
    # A valid token for vendor A is not a signature for vendor B.
    assert c.post("/intake/vendor-b", content=body, headers=bearer()).status_code == 401
    assert count(engine, Item) == 0 and count(engine, AuditEvent) == before


def test_hmac_signed_single_object_is_accepted(world):
    """Vendor B signs the raw body with HMAC-SHA256 (``sha256=`` prefix or bare hex) and posts one bare object."""
    _settings, engine, _now, c = world
    body = json.dumps({"msgId": "B-1", "title": "网友反映仁里镇中心小学乱收费", "text": "家长反映学校收取补课费。",
                       "time": "2026-11-30 18:00:00"}, ensure_ascii=False).encode()
    sig = hmac.new(HKEY.encode(), body, hashlib.sha256).hexdigest()
    r = c.post("/intake/vendor-b", content=body, headers={"X-Vendor-Signature": f"sha256={sig}"})
    assert r.status_code == 200 and r.json()["new"] == 1, r.text
    r = c.post("/intake/vendor-b", content=body, headers={"X-Vendor-Signature": sig.upper()})
    assert r.status_code == 200 and r.json()["duplicate"] == 1
    assert [i.guid for i in items(engine)] == ["B-1"]


def test_oversized_body_is_413_even_with_a_lying_length(world):
    """Over ``push.max_bytes`` is refused with 413, by the declared length or by what actually arrives."""
    _settings, engine, _now, c = world
    big = body_a(dict(FIRE, content="火" * 2000))
    assert len(big) > 2048
    r = c.post("/intake/vendor-a", content=big, headers=bearer())
    assert r.status_code == 413 and "2048" in r.json()["error"]

    def chunks():  # streamed without a Content-Length
        yield big[:1000]
        yield big[1000:]

    r = c.post("/intake/vendor-a", content=chunks(), headers=bearer())
    assert r.status_code == 413
    assert count(engine, Item) == 0


def test_malformed_or_unmappable_json_is_400_with_the_reason(world):
    """Broken JSON, or JSON without the mapped list, is refused with 400 and a reason; nothing changes."""
    _settings, engine, _now, c = world
    before = count(engine, AuditEvent)
    r = c.post("/intake/vendor-a", content=b'{"data": [', headers=bearer())
    assert r.status_code == 400 and "JSON 无效" in r.json()["error"]
    r = c.post("/intake/vendor-a", content=b'{"rows": []}', headers=bearer())
    assert r.status_code == 400 and "data" in r.json()["error"]
    r = c.post("/intake/vendor-a", content=body_a({"id": "x", "nothing": 1}), headers=bearer())
    assert r.status_code == 400 and r.json()["rejects"]
    assert count(engine, Item) == 0 and count(engine, AuditEvent) == before


def test_unknown_or_polled_source_is_404(world):
    """Only configured push sources have an intake address."""
    settings, _engine, _now, c = world
    assert c.post("/intake/nope", content=b"[]", headers=bearer()).status_code == 404
    polled = next(s.name for s in settings.file.source if s.kind != "push")
    assert c.post(f"/intake/{polled}", content=b"[]", headers=bearer()).status_code == 404


def test_push_source_config_is_checked(tmp_path):
    """A push source without its ``push`` table, or a polled one without a url, is a configuration error."""
    from responder.config import ConfigError

    with pytest.raises(ConfigError, match="push"):
        make_test_settings(tmp_path / "a", extra_toml='[[source]]\nname = "v"\nkind = "push"\nrole = "opinion"\n')
    with pytest.raises(ConfigError, match="url"):
        make_test_settings(tmp_path / "b", extra_toml='[[source]]\nname = "v"\nkind = "json"\nrole = "opinion"\n')


def test_a_body_with_one_broken_item_keeps_the_good_ones(world):
    """One unusable item never holds back the others (a 5-hour incident among them): they are stored, the rest listed."""
    _settings, engine, _now, c = world
    r = c.post("/intake/vendor-a", content=body_a(FIRE, {"id": "bad", "nothing": 1}), headers=bearer())
    assert r.status_code == 200 and r.json()["status"] == "partial" and r.json()["new"] == 1 and r.json()["rejects"]
    assert [i.guid for i in items(engine)] == ["A-1001"]
