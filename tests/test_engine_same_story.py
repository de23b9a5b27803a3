"""Near-duplicate stories: a repost joins the open case by its title or by its body text; a different incident never does."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from sqlmodel import Session, select

from responder import engine as eng
from responder.engine import matching
from responder.models import Item
from responder.testing import corpus
from responder.testing.engine import add_item, make_test_settings

UTC = dt.timezone.utc
T0 = dt.datetime(2022, 7, 18, 2, 0, tzinfo=UTC)
H = dt.timedelta(hours=1)

# Written for these tests. Two different incidents in one county share the
# boilerplate of local reporting; the repost rewrites the headline and trims a sentence.
FLOOD = ("7月18日凌晨，受强降雨影响，石台县七都镇高路亭村山洪暴发，冲毁村道两处、农田约四十亩，"
         "三户村民房屋进水。镇村干部连夜转移群众二十余人，目前无人员伤亡。县应急管理局已派出工作组赶赴现场，"
         "组织抢修道路，排查地质灾害隐患点。")
FLOOD_REPOST = ("网友转发：7月18日凌晨，受强降雨影响，石台县七都镇高路亭村山洪暴发，冲毁村道两处、农田约四十亩，"
                "三户村民房屋进水。镇村干部连夜转移群众二十余人，目前无人员伤亡。")
LANDSLIDE = ("7月18日上午，受持续降雨影响，石台县仙寓镇大演村发生山体滑坡，掩埋乡道约五十米，一辆货车受损。"
             "县应急管理局已派出工作组赶赴现场，组织抢修道路，排查地质灾害隐患点，目前无人员伤亡。")


def test_a_repost_of_the_text_contains_it_and_another_incident_does_not():
    flood, repost, slide = (matching.text_shingles(t) for t in (FLOOD, FLOOD_REPOST, LANDSLIDE))
    assert matching.text_containment(repost, flood) >= matching.SAME_STORY_TEXT
    assert matching.text_containment(slide, flood) < matching.SAME_STORY_TEXT
    assert matching.text_shingles("村民反映停水三天。") == frozenset()  # too short to judge by text


def test_no_two_reports_of_the_dev_corpus_read_as_one_text():
    """124 real reports of different events (and a few independent reports of one event) stay apart.

    Needs the development corpus (RESPONDER_CORPUS); skipped loudly without it.
    """
    texts = corpus.corpus_dir() / "texts"
    shingles = {p.name: matching.text_shingles(re.sub(r"^.*\n", "", p.read_text(encoding="utf-8"), count=1))
                for p in sorted(texts.glob("*.txt"))}
    assert len(shingles) > 100
    worst = max(matching.text_containment(shingles[a], shingles[b]) for a, b in itertools.combinations(shingles, 2))
    assert 0.2 < worst < matching.SAME_STORY_TEXT


def test_same_story_prefers_the_better_case_and_respects_the_window():
    flood = matching.StoryRef(1, T0, ["七都镇山洪冲毁村道"], [matching.text_shingles(FLOOD)])
    slide = matching.StoryRef(2, T0, ["仙寓镇山体滑坡"], [matching.text_shingles(LANDSLIDE)])
    hit = matching.same_story("山里的村子被水冲了", FLOOD_REPOST, T0 + H, [slide, flood])
    assert hit is not None and (hit.case_id, hit.by) == (1, "text") and hit.similarity >= 0.9
    assert matching.same_story("山里的村子被水冲了", FLOOD_REPOST, T0 + 73 * H, [flood]) is None
    by_title = matching.same_story("转发：七都镇山洪冲毁村道", "", T0, [flood])
    assert by_title is not None and by_title.by == "title"


@pytest.fixture
def settings(tmp_path):
    return make_test_settings(tmp_path)


def test_a_repost_with_a_new_headline_joins_the_open_case_and_another_incident_opens_its_own(sqlite_engine, settings):
    add_item(sqlite_engine, title="七都镇高路亭村山洪冲毁村道农田", text=FLOOD, published_at=T0, first_seen_at=T0)
    first = eng.open_cases(sqlite_engine, settings, T0)
    assert len(first.cases_opened) == 1
    cid = first.cases_opened[0]
    add_item(sqlite_engine, title="昨夜一场大雨，山里的村子被水冲了", text=FLOOD_REPOST, source="repost",
             published_at=T0 + H, first_seen_at=T0 + H)
    add_item(sqlite_engine, title="仙寓镇大演村山体滑坡掩埋乡道", text=LANDSLIDE, source="repost",
             published_at=T0 + H, first_seen_at=T0 + H, guid="slide")
    res = eng.open_cases(sqlite_engine, settings, T0 + H)
    assert len(res.attached) == 1 and len(res.cases_opened) == 1 and res.cases_opened[0] != cid
    with Session(sqlite_engine) as s:
        joined = s.exec(select(Item).where(Item.id == res.attached[0])).one()
    assert joined.case_id == cid
    assert f"与案件#{cid}正文高度相似" in joined.attach_reason


def test_two_copies_in_one_batch_open_one_case(sqlite_engine, settings):
    """The second copy is compared with the case the first one just opened, in the same pass."""
    add_item(sqlite_engine, title="村子被水冲了", text=FLOOD, published_at=T0, first_seen_at=T0)
    add_item(sqlite_engine, title="高路亭村昨夜山洪", text=FLOOD_REPOST, source="repost", published_at=T0,
             first_seen_at=T0, guid="copy")
    res = eng.open_cases(sqlite_engine, settings, T0)
    assert len(res.cases_opened) == 1 and len(res.attached) == 1
