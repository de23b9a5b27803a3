"""Joining independent reports of one event to its open case; matching a release to the case it answers (issue 14).

The engine's ``open_cases`` asks :func:`join_by_identity` once a new item is neither
an exact duplicate nor a repost: it joins the one open case that
``event_identity.decide_join`` names (same kind, same specific place or a wider
place with an agreeing fact, within 72 hours, no rival). The join is recorded
(``item.joined``, with its reasons, and ``item.extra["join"]``) because it takes a
clock away: ``cases.unjoin_item`` gives the item its own case back, with clocks
computed from when it arrived, so steps already due are taken by the next pass.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from responder.engine import event_identity as ei
from responder.engine import matching
from responder.engine.inputs import cached_classifier, reported_on
from responder.engine.places import Gazetteer, gazetteer_for
from responder.models import Case, Item
from responder.timeutil import iso_utc


def kind_names(settings: Any) -> dict[str, str]:
    """Kind id → its Chinese name, from the routing data (for reasons a person reads)."""
    p = settings.data_paths
    try:
        c = cached_classifier(str(p["thresholds"]), str(p["routing"]), str(p["domains"]))
    except Exception:  # noqa: BLE001 - names are cosmetic; check-config reports a bad routing file
        return {}
    return {k.id: k.name for k in c.routing.kinds}


def item_text(item: Item) -> str:
    return f"{item.title or ''}\n{item.text or ''}"


def case_identities(s: Session, gaz: Gazetteer, *, answered_since: dt.datetime | None = None) -> dict[int, ei.Identity]:
    """Open cases, as what identifies their event (all their items' places).

    With ``answered_since``, also the cases closed as answered (a 48-hour case closes
    when its response is out) that started since then: a later report of an answered
    event joins it instead of opening a new case and a new alert.
    """
    cases = {c.id: c for c in s.exec(select(Case).where(Case.state == "open")).all()}
    if answered_since is not None:
        for c in s.exec(select(Case).where(Case.state == "closed", Case.close_kind == "met",
                                           Case.first_report_at >= answered_since)).all():
            cases[c.id] = c
    texts: dict[int, list[str]] = {cid: [c.title] for cid, c in cases.items()}
    if cases:
        for case_id, title, text in s.exec(select(Item.case_id, Item.title, Item.text)
                                           .where(Item.case_id.in_(list(cases)), Item.role != "release")).all():
            texts[case_id].append(f"{title or ''}\n{text or ''}")
    out = {}
    for cid, c in cases.items():
        facts = c.facts or {}
        out[cid] = ei.identity("\n".join(texts[cid]), facts.get("kind"), facts, c.first_report_at or c.opened_at, gaz)
    return out


def join_by_identity(s: Session, item: Item, decision: Any, identities: dict[int, ei.Identity], gaz: Gazetteer,
                     names: dict[str, str], now: dt.datetime) -> Case | None:
    """The open case this item independently reports, with the reasons set on the item; else None."""
    facts = getattr(decision, "facts", None) or {}
    mine = ei.identity(item_text(item), facts.get("kind"), facts, item.published_at or item.first_seen_at, gaz)
    verdict = ei.decide_join(mine, identities, names.get(mine.kind or ""))
    if verdict.case_id is None:
        if verdict.reasons and mine.kind is not None:
            item.extra = {**(item.extra or {}), "join_declined": list(verdict.reasons)}
        return None
    case = s.get(Case, verdict.case_id)
    if case is None:
        return None
    answered = case.state != "open"
    if answered and (case.close_kind != "met" or getattr(decision, "clock", "48h") == "5h"):
        return None  # a report that calls for the 5-hour clock never disappears into a closed case
    item.attach_reason = (f"与案件#{case.id}为同一事件（独立报道{'，该案件已回应' if answered else ''}）："
                          + "；".join(verdict.reasons))
    item.extra = {**(item.extra or {}), "join": {"by": "event_identity", "case_id": case.id, "at": iso_utc(now),
                                                 "reasons": list(verdict.reasons)}}
    identities[case.id] = ei.merge([identities[case.id], mine])
    return case


def release_decision(s: Session, settings: Any, item: Item, classify: Any) -> ei.ReleaseDecision:
    """Which open case a release from the county's channel answers, by what identifies the event.

    Shared words only rank candidates; they never attach (two reports of one event
    share no more words than two different events do).
    """
    gaz = gazetteer_for(settings)
    text = item_text(item)
    try:
        facts = classify(item.title or "", item.text or "", reported=reported_on(item)).facts or {}
    except Exception:  # noqa: BLE001 - an unclassifiable release still matches by place, never attaches by kind
        facts = {}
    mine = ei.identity(text, facts.get("kind"), facts, item.published_at or item.first_seen_at, gaz)
    identities = case_identities(s, gaz)
    words: dict[int, float] = {}
    topic: dict[int, bool] = {}
    if identities:
        mine_tokens, mine_events = matching.tokens(text), matching.events(text)
        case_texts: dict[int, list[str]] = {cid: [] for cid in identities}
        for c in s.exec(select(Case).where(Case.id.in_(list(identities)))).all():
            case_texts[c.id].append(c.title)
        for case_id, title, body in s.exec(select(Item.case_id, Item.title, Item.text)
                                           .where(Item.case_id.in_(list(identities)), Item.role != "release")).all():
            case_texts[case_id].append(f"{title or ''}\n{(body or '')[:500]}")
        for cid, parts in case_texts.items():
            joined = "\n".join(parts)
            a = matching.tokens(joined)
            words[cid] = min(2 * len(a & mine_tokens) / min(len(a), max(len(mine_tokens), 1)), 1.0) if a else 0.0
            topic[cid] = bool(matching.events(joined) & mine_events)
    return ei.decide_release(mine, identities, words, kind_names(settings), topic)


def story_conflict(item: Item, decision: Any, case_id: int, identities: dict[int, ei.Identity],
                   gaz: Gazetteer) -> str | None:
    """Why a near-duplicate by title or body cannot be the same event (another kind, place or magnitude); else None.

    Outlets reuse boilerplate ("有村民拍下视频……据了解"), so two short reports of
    different events can share most of their words; the identity evidence vetoes
    such a join.
    """
    case = identities.get(case_id)
    if case is None:
        return None
    facts = getattr(decision, "facts", None) or {}
    mine = ei.identity(item_text(item), facts.get("kind"), facts, item.published_at or item.first_seen_at, gaz)
    if mine.kind and case.kind and mine.kind != case.kind:
        return "事件类型不同"
    ev = ei.compare(mine, case_id, case, window_before=JOIN_ANY, window_after=JOIN_ANY)
    if ev.conflict:
        return ev.conflict
    differ = [ei.METRIC_NAMES[m] for m, v in mine.counts.items() if m in case.counts and case.counts[m] != v]
    return f"{'、'.join(differ)}人数不同" if differ else None


JOIN_ANY = dt.timedelta(days=3650)
