"""Intake: new items become cases, join the case they report, or answer one as a release.

``open_cases`` takes the items ingest stored since the last pass. A report is
classified, then attached to the open case it reposts (``matching``: same
title or text), joined to the case it independently reports
(``joining``/``event_identity``: same kind, place and time), or given a case of
its own with the clocks its class calls for; a later report that makes a case
major upgrades it. An item from the county's release channel is matched to the
case it answers: attached when the match is clear (its clocks stop), proposed to
a person when not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from responder import audit
from responder.db import transaction
from responder.engine import event_identity, joining, matching, places
from responder.engine.cases import create_case, upgrade_case
from responder.engine.clocks import bump_generation
from responder.engine.inputs import Classify, channels_for, default_classifier, policies_for, reported_on
from responder.engine.policy import Policies
from responder.engine.releases import satisfy
from responder.engine.rules import LEVEL_RANK, case_context, item_start
from responder.models import Case, Item, Release
from responder.notify import enqueue


@dataclass
class OpenResult:
    cases_opened: list[int] = field(default_factory=list)
    attached: list[int] = field(default_factory=list)
    upgraded: list[int] = field(default_factory=list)
    releases_attached: list[int] = field(default_factory=list)
    releases_proposed: list[int] = field(default_factory=list)


def open_cases(engine: Engine, settings: Any, now: dt.datetime, *, classify: Classify | None = None,
               limit: int = 500) -> OpenResult:
    """Turn newly ingested items into cases (or attach them), and match releases to cases."""
    classify = classify or default_classifier(settings)
    policies = policies_for(settings)
    res = OpenResult()
    with transaction(engine) as s:
        items = s.exec(select(Item).where(Item.status.in_(("new", "attached", "release"))).order_by(Item.id).limit(limit)).all()
        stories: dict[int, matching.StoryRef] = {}
        loaded = False  # open cases' titles and texts are read only if an item needs comparing (not on idle passes)
        identities: dict[int, Any] | None = None  # what identifies each open case's event (issue 14), read on demand
        for item in items:
            if item.status == "release":
                _match_release_item(s, settings, policies, item, now, res, classify)
                continue
            decision = classify(item.title, item.text, declared_level=item.declared_level,
                                declared_category=item.declared_category, reported=reported_on(item))
            target = None
            if item.case_id is not None:
                target = s.get(Case, item.case_id)
            elif (item.extra or {}).get("same_story_as"):
                other = s.get(Item, int(item.extra["same_story_as"]))
                if other is not None and other.case_id is not None:
                    target = s.get(Case, other.case_id)
                    item.attach_reason = item.attach_reason or f"与条目#{other.id}为同一事件"
            if target is None:
                if not loaded:
                    _load_open_stories(s, stories)
                    loaded = True
                target = _similar_case(s, item, stories)
            joined = False
            if target is not None and item.attach_reason and "高度相似" in item.attach_reason:
                if identities is None:
                    identities = joining.case_identities(s, places.gazetteer_for(settings),
                                                         answered_since=now - event_identity.JOIN_WINDOW)
                veto = joining.story_conflict(item, decision, target.id, identities, places.gazetteer_for(settings))
                if veto:  # similar words, different event: never merge on wording alone (issue 14)
                    item.extra = {**(item.extra or {}), "story_vetoed": f"与案件#{target.id}文字相似但{veto}"}
                    item.attach_reason, target = None, None
            if target is None:
                if identities is None:
                    identities = joining.case_identities(s, places.gazetteer_for(settings),
                                                         answered_since=now - event_identity.JOIN_WINDOW)
                target = joining.join_by_identity(s, item, decision, identities, places.gazetteer_for(settings),
                                                  joining.kind_names(settings), now)
                joined = target is not None
            if target is not None and (target.state == "open" or joined):
                item.case_id = target.id
                item.status = "classified"
                s.add(item)
                res.attached.append(item.id)
                audit.record(s, at=now, kind="item.joined" if joined else "item.attached", subject=f"case:{target.id}",
                             data={"item_id": item.id, "reason": item.attach_reason,
                                   **({"reasons": item.extra["join"]["reasons"]} if joined else {})})
                if target.state == "open" and LEVEL_RANK[decision.level] > LEVEL_RANK[target.level] and decision.clock == "5h":
                    upgrade_case(s, settings, policies, target, decision, item, now)
                    res.upgraded.append(target.id)
                continue
            start, basis, note = item_start(policies, item, now)
            case = create_case(s, settings, policies, title=item.title or item.text[:60], decision=decision, start=start,
                               basis=basis, now=now, source_role=item.role, note=note)
            item.case_id = case.id
            item.status = "classified"
            s.add(item)
            res.cases_opened.append(case.id)
            if loaded:
                stories[case.id] = matching.StoryRef(case.id, start, [case.title], [matching.text_shingles(item.text or "")])
            if identities is not None:
                identities[case.id] = event_identity.identity(joining.item_text(item), (case.facts or {}).get("kind"),
                                                              case.facts, start, places.gazetteer_for(settings))
    return res


def _load_open_stories(s: Session, into: dict[int, matching.StoryRef]) -> None:
    """Titles and texts of open cases and of their items: what a near-duplicate story is compared with."""
    for case in s.exec(select(Case).where(Case.state == "open")).all():
        into[case.id] = matching.StoryRef(case.id, case.first_report_at or case.opened_at, [case.title], [])
    if into:
        rows = s.exec(select(Item.case_id, Item.title, Item.text).where(Item.case_id.in_(list(into)))).all()
        for case_id, title, text in rows:
            ref = into[case_id]
            if title and title not in ref.titles:
                ref.titles.append(title)
            shingles = matching.text_shingles(text or "")
            if shingles:
                ref.texts.append(shingles)


def _similar_case(s: Session, item: Item, stories: dict[int, matching.StoryRef]) -> Case | None:
    """A new item that reads as an open case's story is attached to it, with the reason.

    Exact duplicates are caught at ingest; this catches reposts that change a word,
    add a prefix or rewrite the headline over the same text. The thresholds are
    high because merging two different incidents would hide one.
    """
    at = item.published_at or item.first_seen_at
    hit = matching.same_story(item.title, item.text or "", at, list(stories.values()))
    if hit is None:
        return None
    what = "标题" if hit.by == "title" else "正文"
    item.attach_reason = f"与案件#{hit.case_id}{what}高度相似（相似度{hit.similarity}），视为同一事件"
    return s.get(Case, hit.case_id)


def _match_release_item(s: Session, settings: Any, policies: Policies, item: Item, now: dt.datetime, res: OpenResult,
                        classify: Classify | None = None) -> None:
    text = f"{item.title}\n{item.text}"
    at = item.published_at or item.first_seen_at
    decision = joining.release_decision(s, settings, item, classify or default_classifier(settings))
    kind = matching.release_kind(text)
    item.status = "release_matched" if decision.action != "none" else "release_unmatched"
    if decision.action == "none" or decision.best is None:
        s.add(item)
        audit.record(s, at=now, kind="release.unmatched", subject=f"item:{item.id}", data={"title": item.title})
        return
    case = s.get(Case, decision.best.case_id)
    status = "confirmed" if decision.action == "attach" else "proposed"
    rel = Release(case_id=case.id, kind=kind, url=item.link, title=item.title, published_at=at, recorded_at=now,
                  recorded_by="matcher", item_id=item.id, status=status, match_score=decision.best.score,
                  match_reasons=list(decision.best.reasons))
    s.add(rel)
    s.flush()
    item.case_id = case.id
    item.attach_reason = ("自动匹配：" if status == "confirmed" else "待确认匹配：") + "；".join(decision.best.reasons)
    s.add(item)
    audit.record(s, at=now, kind=f"release.{'matched' if status == 'confirmed' else 'proposed'}", subject=f"case:{case.id}",
                 data={"release_id": rel.id, "item_id": item.id, "score": decision.best.score, "reasons": list(decision.best.reasons)})
    if status == "confirmed":
        bump_generation(s, case, now)
        satisfy(s, settings, policies, case, rel, now)
        res.releases_attached.append(rel.id)
    else:
        res.releases_proposed.append(rel.id)
        ctx = case_context(settings, case, None) | {"release_title": item.title, "release_url": item.link or "",
                                                     "score": decision.best.score}
        for role in policies.file.review.roles:
            c = settings.office.contact(role)
            if c is not None:
                enqueue(s, now=now, key=f"release:{rel.id}|propose", kind="release_proposed", contact=c, context=ctx,
                        channels=channels_for(settings), urgent=case.clock_class == "5h", case_id=case.id,
                        generation=case.generation)


def case_text(s: Session, case: Case) -> str:
    """A case's title and first items, as the word matcher read them (bench/matching.py's baseline)."""
    texts = [case.title]
    for it in s.exec(select(Item).where(Item.case_id == case.id).order_by(Item.id).limit(5)).all():
        texts.append(it.title)
        texts.append((it.text or "")[:500])
    return "\n".join(texts)
