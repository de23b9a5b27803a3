"""Joining independent reports and matching releases on the store, on SQLite and PostgreSQL (issue 14).

Texts written for these tests: fictional events in 石台县's real townships.
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from responder import db
from responder import engine as eng
from responder.audit import AuditEvent
from responder.cli import main
from responder.engine import unjoin_item
from responder.models import Case, Clock, Item, Release
from responder.testing.engine import add_item, make_test_settings

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 Beijing
H = dt.timedelta(hours=1)

FIRE_AGENCY = ("记者从有关方面获悉，6月1日上午8时许，石台县仁里镇贡溪村一家木材加工厂发生火灾，造成2人死亡、4人受伤。"
               "伤者已被送往石台县人民医院救治，起火原因正在调查。")
FIRE_WECHAT = "今天上午，贡溪村的木材加工厂着火了！有村民拍下视频发到朋友圈。据了解，两人遇难，四人受伤。小编将持续关注。"
FIRE_OTHER = "6月1日上午10时许，石台县仁里镇桃坑村一民房起火，消防人员赶到后很快扑灭明火，所幸无人员伤亡。"


@pytest.fixture
def settings(tmp_path):
    return make_test_settings(tmp_path)


def add(e, title, text, at, **kw):
    return add_item(e, title=title, text=text, published_at=at, first_seen_at=at, guid=kw.pop("guid", title), **kw)


def case_of(e, item_id):
    with Session(e) as s:
        return s.get(Item, item_id).case_id


def test_an_independent_report_joins_its_event_and_a_same_day_distractor_does_not(engine, settings):
    """Different outlets' wording of one fire → one case, recorded as item.joined with reasons; another fire that day → its own case."""
    first = add(engine, "石台县仁里镇贡溪村木材加工厂火灾 造成2人死亡", FIRE_AGENCY, T0, source="agency")
    eng.open_cases(engine, settings, T0)
    second = add(engine, "突发！贡溪村木材加工厂着火", FIRE_WECHAT, T0 + H, source="wechat")
    other = add(engine, "仁里镇桃坑村一民房起火", FIRE_OTHER, T0 + 2 * H, source="wechat")
    res = eng.open_cases(engine, settings, T0 + 2 * H)
    cid = case_of(engine, first)
    assert case_of(engine, second) == cid and case_of(engine, other) != cid
    assert res.attached == [second] and len(res.cases_opened) == 1
    with Session(engine) as s:
        item = s.get(Item, second)
        ev = s.exec(select(AuditEvent).where(AuditEvent.kind == "item.joined")).one()
    assert item.extra["join"]["case_id"] == cid and "具体地点相同：贡溪村" in item.extra["join"]["reasons"]
    assert ev.subject == f"case:{cid}" and "具体地点相同：贡溪村" in ev.data["reasons"]
    assert "同一事件（独立报道）" in item.attach_reason


def test_a_release_naming_the_county_hospital_is_not_attached_to_another_accident(engine, settings):
    """Every accident report names 石台县人民医院; a release about an accident nobody reported stays unattached."""
    a = add(engine, "石台县七都镇河口村一货车侧翻 2人死亡",
            "6月1日上午8时许，七都镇河口村路段一辆货车侧翻，造成2人死亡、3人受伤，伤者被送往石台县人民医院救治。", T0)
    b = add(engine, "丁香镇光明村两车相撞 1人死亡",
            "6月1日上午9时许，丁香镇光明村路段一辆面包车与轿车相撞，造成1人死亡，伤者已送石台县人民医院抢救。", T0 + H, guid="b")
    eng.open_cases(engine, settings, T0 + H)
    rel = add(engine, "关于小河镇唐田村交通事故的情况通报",
              "6月1日上午，小河镇唐田村路段一辆农用车侧翻，造成1人受伤，伤者已送石台县人民医院救治，目前生命体征平稳。",
              T0 + 2 * H, role="release", source="portal", guid="rel")
    res = eng.open_cases(engine, settings, T0 + 2 * H)
    assert res.releases_attached == []
    with Session(engine) as s:
        clocks = s.exec(select(Clock).where(Clock.case_id.in_([case_of(engine, a), case_of(engine, b)]))).all()
        assert all(c.state in ("running", "overdue") for c in clocks)
        assert s.get(Item, rel).status in ("release_unmatched", "release_matched")


def test_a_school_poisoning_release_attaches_to_its_own_school_never_to_the_other(engine, settings):
    """多名小学生 at two schools the same day: the release about one stops only that case's clock."""
    a = add(engine, "横渡镇兰关小学多名小学生疑似食物中毒",
            "6月1日中午，石台县横渡镇兰关小学多名小学生午餐后出现呕吐、腹泻症状，共23人，已送县人民医院。", T0)
    b = add(engine, "大演乡剡溪小学多名小学生呕吐腹泻",
            "6月1日中午，石台县大演乡剡溪小学多名小学生在食堂用餐后呕吐腹泻，共11人，已送县人民医院观察。", T0, guid="b")
    eng.open_cases(engine, settings, T0)
    add(engine, "关于大演乡剡溪小学学生疑似食物中毒事件的情况通报",
        "6月1日中午，大演乡剡溪小学11名学生在校用餐后出现呕吐、腹泻症状，经县人民医院诊治，均无生命危险。",
        T0 + 3 * H, role="release", source="portal", guid="rel")
    res = eng.open_cases(engine, settings, T0 + 3 * H)
    with Session(engine) as s:
        rel = s.exec(select(Release)).one()
    assert rel.case_id == case_of(engine, b) and rel.case_id != case_of(engine, a)
    assert res.releases_attached == [rel.id] or res.releases_proposed == [rel.id]


def test_an_orphan_release_is_never_attached(engine, settings):
    """A release about a landslide nobody reported, same township and kind as an open case elsewhere: never attached."""
    add(engine, "横渡镇兰关村山体滑坡 2人受伤", "6月1日凌晨，横渡镇兰关村发生山体滑坡，2人受伤。", T0)
    eng.open_cases(engine, settings, T0)
    add(engine, "关于横渡镇香口村山体滑坡的情况通报", "6月1日上午，横渡镇香口村一处山坡发生山体滑坡，掩埋村道约三十米，未造成人员伤亡。",
        T0 + 2 * H, role="release", source="portal", guid="rel")
    res = eng.open_cases(engine, settings, T0 + 2 * H)
    assert res.releases_attached == []


def test_unjoin_gives_the_item_its_own_case_with_clocks_from_its_arrival(engine, settings):
    """Undoing a join: a new case whose 48-hour clock started when the item arrived; steps due by now are taken next pass."""
    add(engine, "石台县仁里镇贡溪村木材加工厂火灾 造成2人死亡", FIRE_AGENCY, T0, source="agency")
    eng.open_cases(engine, settings, T0)
    second = add(engine, "突发！贡溪村木材加工厂着火", FIRE_WECHAT, T0 + H, source="wechat")
    eng.open_cases(engine, settings, T0 + H)
    old = case_of(engine, second)
    later = T0 + 50 * H
    with pytest.raises(eng.EngineError):
        unjoin_item(engine, settings, second - 1, reason="x", now=later)  # the case's own first report
    new = unjoin_item(engine, settings, second, reason="核实为另一起火灾", now=later, actor="王值班")
    assert new.id != old and case_of(engine, second) == new.id
    with Session(engine) as s:
        clock = s.exec(select(Clock).where(Clock.case_id == new.id)).one()
        item = s.get(Item, second)
        evs = s.exec(select(AuditEvent).where(AuditEvent.kind == "item.unjoined")).all()
    assert clock.started_at.replace(tzinfo=UTC) == T0 + H and clock.state == "overdue"
    assert item.attach_reason is None and item.extra["unjoined"]["from_case"] == old
    assert {e.subject for e in evs} == {f"case:{old}", f"case:{new.id}"} and evs[0].actor == "王值班"
    r = eng.advance(engine, settings, later)
    assert new.id in r.case_ids  # the steps already due are taken by the next pass


def test_unjoin_from_the_cli(tmp_path):
    """`responder unjoin ITEM --reason …` prints the new case; a wrong id gets a clear error."""
    s = make_test_settings(tmp_path)
    e = db.make_engine(s.database_url)
    db.upgrade(e)
    now = dt.datetime.now(UTC).replace(microsecond=0)
    add(e, "石台县仁里镇贡溪村木材加工厂火灾 造成2人死亡", FIRE_AGENCY, now - 2 * H, source="agency")
    eng.open_cases(e, s, now - 2 * H)
    second = add(e, "突发！贡溪村木材加工厂着火", FIRE_WECHAT, now - H, source="wechat")
    eng.open_cases(e, s, now - H)
    r = CliRunner().invoke(main, ["unjoin", str(second), "--reason", "不是同一起", "-c", str(s.path)])
    assert r.exit_code == 0 and "新建案件" in r.output, r.output
    with Session(e) as sess:
        assert sess.get(Case, case_of(e, second)).first_report_at.replace(tzinfo=UTC) == now - H
    r = CliRunner().invoke(main, ["unjoin", "999", "--reason", "x", "-c", str(s.path)])
    assert r.exit_code != 0 and "不存在" in r.output
    assert "unjoin" in CliRunner().invoke(main, ["--help"]).output


QUAKE = "6月1日14时28分，云岭县发生7.2级地震，震源深度10千米，震中附近房屋倒塌，伤亡情况正在统计。"
FELT = ("今天14时33分左右，石台县城不少居民感到明显震感，吊灯来回摇晃，许多人跑到楼下空地。"
        "有关震级和震中的信息，记者正在向地震部门核实。")
ATTACK = "6月1日21时许，江城市火车站广场发生暴力恐怖袭击，造成5人死亡、20余人受伤，伤者已送医院救治。"


def test_a_quake_felt_in_the_county_at_its_minute_joins_the_quake_case(engine, settings):
    """A felt report with neither magnitude nor epicentre joins the quake's case by the felt time; its reasons say so."""
    first = add(engine, "云岭县发生7.2级地震", QUAKE, T0 + 6 * H)
    eng.open_cases(engine, settings, T0 + 6 * H)
    felt = add(engine, "石台县城居民感到明显震感", FELT, T0 + 7 * H, source="wechat")
    later = add(engine, "仁里镇居民感到轻微震感", "6月1日17时50分左右，仁里镇部分居民感到轻微震感，持续数秒，暂无损失报告。",
                T0 + 10 * H, source="wechat")
    eng.open_cases(engine, settings, T0 + 10 * H)
    assert case_of(engine, felt) == case_of(engine, first) and case_of(engine, later) != case_of(engine, first)
    with Session(engine) as s:
        assert "同日同一时刻有震感（相差不超过10分钟）" in s.get(Item, felt).extra["join"]["reasons"]


def test_a_release_about_a_vigil_days_later_is_proposed_not_attached(engine, settings):
    """A release naming the attack but dated three days later is only proposed: the attack case's clocks keep running."""
    attack = add(engine, "江城火车站暴力恐怖袭击事件 5人死亡", ATTACK, T0 + 12 * H)
    eng.open_cases(engine, settings, T0 + 12 * H)
    add(engine, "江城各界悼念暴力恐怖袭击事件遇难者", "6月4日晚，江城市民自发来到火车站广场，为江城暴力恐怖袭击事件遇难者献花悼念。",
        T0 + 84 * H, role="release", source="portal", guid="rel")
    res = eng.open_cases(engine, settings, T0 + 84 * H)
    with Session(engine) as s:
        rel = s.exec(select(Release)).one()
        clocks = s.exec(select(Clock).where(Clock.case_id == case_of(engine, attack))).all()
    assert rel.case_id == case_of(engine, attack) and rel.status == "proposed" and res.releases_attached == []
    assert any("可能是后续报道" in r for r in rel.match_reasons)
    assert all(c.state in ("running", "overdue") for c in clocks)
