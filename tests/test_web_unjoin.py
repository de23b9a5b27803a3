"""Undoing a join from the case page (issue 14): join reasons shown, an operator-only unjoin form, the new case."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from responder import engine as eng
from responder.models import AuditEvent, Case, Clock, Item
from responder.testing.engine import add_item
from test_web_console import logged_in, token
from web_support import HOSTILE, build_world

H = dt.timedelta(hours=1)
FIRE_AGENCY = ("记者从有关方面获悉，上午8时许，石台县仁里镇贡溪村一家木材加工厂发生火灾，造成2人死亡、4人受伤。"
               "伤者已被送往石台县人民医院救治，起火原因正在调查。")
FIRE_WECHAT = "今天上午，贡溪村的木材加工厂着火了！有村民拍下视频发到朋友圈。据了解，两人遇难，四人受伤。小编将持续关注。"


@pytest.fixture
def joined(tmp_path, engine):
    """The world plus a case whose second report was joined to it by event identity (the engine's own join)."""
    w = build_world(tmp_path, engine)
    first = add_item(w.engine, title="石台县仁里镇贡溪村木材加工厂火灾 造成2人死亡", text=FIRE_AGENCY,
                     published_at=w.now - 3 * H, first_seen_at=w.now - 3 * H, guid="agency-1", source="agency")
    eng.open_cases(w.engine, w.settings, w.now - 3 * H)
    second = add_item(w.engine, title="突发！贡溪村木材加工厂着火" + HOSTILE, text=FIRE_WECHAT, published_at=w.now - 2 * H,
                      first_seen_at=w.now - 2 * H, guid="wechat-1", source="wechat")
    eng.open_cases(w.engine, w.settings, w.now - 2 * H)
    with Session(w.engine) as s:
        a, b = s.get(Item, first), s.get(Item, second)
        assert a.case_id == b.case_id and b.attach_reason and b.extra["join"]["reasons"], (a.case_id, b.case_id)
        return w, a.case_id, first, second


def count(w) -> int:
    with Session(w.engine) as s:
        return s.exec(select(func.count()).select_from(AuditEvent)).one()


def test_the_case_page_shows_join_reasons_and_an_unjoin_form_for_operators_only(joined):
    """Joined items show their reasons; operators get the form on joined items only (not the case's first report)."""
    w, case_id, first, second = joined
    page = logged_in(w, "wang").get(f"/cases/{case_id}").text
    assert "归并理由" in page and f'id="form-unjoin-{second}"' in page and f'id="form-unjoin-{first}"' not in page
    assert "<script>window.__pwned" not in page and "&lt;script&gt;" in page
    lead = logged_in(w, "zhao").get(f"/cases/{case_id}").text
    assert "归并理由" in lead and "form-unjoin" not in lead


def test_unjoin_through_the_form_gives_the_item_its_own_case_with_the_persons_name(joined):
    """The form calls unjoin_item: the browser lands on the new case, whose clock started at the item's arrival."""
    w, case_id, first, second = joined
    c = logged_in(w, "wang")
    t = token(c.get(f"/cases/{case_id}").text)
    r = c.post(f"/items/{second}/unjoin", data={"csrf_token": t, "reason": "核实为另一起火灾"})
    assert r.status_code == 303
    with Session(w.engine) as s:
        new_id = s.get(Item, second).case_id
        clock = s.exec(select(Clock).where(Clock.case_id == new_id)).first()
        evs = s.exec(select(AuditEvent).where(AuditEvent.kind == "item.unjoined")).all()
        assert s.get(Case, new_id) is not None
    assert new_id != case_id and r.headers["location"] == f"/cases/{new_id}"
    assert clock.started_at.replace(tzinfo=dt.timezone.utc) == w.now - 2 * H
    assert {e.subject for e in evs} == {f"case:{case_id}", f"case:{new_id}"} and {e.actor for e in evs} == {"王值班（wang）"}
    page = c.get(f"/cases/{new_id}").text
    assert f'id="item-{second}"' in page and f"从案件 #{case_id} 拆出" in page and "核实为另一起火灾" in page
    assert f'id="item-{second}"' not in c.get(f"/cases/{case_id}").text


def test_unjoin_refusals_change_nothing(joined):
    """No token, no reason, the case's first report, a leader or a liaison: refused, no event, the item stays."""
    w, case_id, first, second = joined
    c = logged_in(w, "wang")
    t = token(c.get(f"/cases/{case_id}").text)
    before = count(w)
    assert c.post(f"/items/{second}/unjoin", data={"reason": "x"}).status_code == 403
    r = c.post(f"/items/{second}/unjoin", data={"csrf_token": t, "reason": "  "})
    assert r.status_code == 400 and "请说明拆分理由" in r.text
    r = c.post(f"/items/{first}/unjoin", data={"csrf_token": t, "reason": "x"})
    assert r.status_code == 400 and "首条报道" in r.text
    assert c.post("/items/999999/unjoin", data={"csrf_token": t, "reason": "x"}).status_code == 403
    for name in ("zhao", "li"):
        other = logged_in(w, name)
        t2 = token(other.get("/cases").text)
        assert other.post(f"/items/{second}/unjoin", data={"csrf_token": t2, "reason": "x"}).status_code == 403, name
    with Session(w.engine) as s:
        assert s.get(Item, second).case_id == case_id
    assert count(w) == before
