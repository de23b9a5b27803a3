"""What the text says the event really is, when the words that first name it mislead.

An inquiry's finding outranks the first guess (原以为食堂饭菜出问题，查明系一氧化碳泄漏); a toxic gas that
poisoned people around it is an environmental event whatever vessel leaked (水厂氯气泄漏…周边居民咳嗽胸闷，
送医62人: 国办函〔2014〕119号, 50 poisoned → 重大); a spill that cut a drinking-water intake is one too
(县级城市 intake interrupted → 重大). Pure: routing, text and the first reading in, the settled kind out.
"""

from __future__ import annotations

import re

from .cues import CAUSE_RE, POLLUTANT_RE, intake_cut_phrase
from .route import Kind, Routing, Segmenter, detect_kind

TOXIC_RELEASE_RE = re.compile(r"(?:氯气|液氯|氨气|液氨|硫化氢|二氧化硫|光气|氰化氢)[^，,。；;]{0,4}?(?:泄漏|泄露|逸出|外溢|逸散|漏)")
POISONED_RE = re.compile(r"\d+名?[^，,。；;]{0,6}中毒|中毒[^，,。；;]{0,4}\d+人")
SYMPTOMS_RE = re.compile(r"咳嗽|胸闷|头晕|头痛|恶心|呕吐|呼吸困难|中毒症状|不适症状")


def settle_kind(routing: Routing, seg: Segmenter, kind: Kind | None, kind_words: list[str], full: str,
                reasons: list[str]) -> tuple[Kind | None, list[str]]:
    """The kind to grade by, with a reason appended whenever it differs from the words' first reading."""
    cause = CAUSE_RE.search(full)
    if cause is not None:
        # 原以为食堂饭菜出问题，查明系一氧化碳泄漏: what the inquiry found names the event, not the first guess.
        found, _s, found_words = detect_kind(routing, cause.group("what"), "", seg)
        if found is not None and found is not kind:
            kind, kind_words = found, found_words
            reasons.append(f"文中称“{cause.group(0)[:24]}”，按查明的事件类型分级")
    if ((kind is None or (kind.category == "事故灾难" and kind.standard != "env_2014"))
            and TOXIC_RELEASE_RE.search(full) and (SYMPTOMS_RE.search(full) or POISONED_RE.search(full))):
        # 水厂氯气泄漏…周边居民出现咳嗽、胸闷…送医62人: people poisoned by a release, the environmental rows.
        env = next((k for k in routing.kinds if k.standard == "env_2014"), None)
        if env is not None:
            reasons.append("有毒气体泄漏致周边群众中毒，按突发环境事件分级")
            kind, kind_words = env, []
    if kind is not None and kind.standard != "env_2014" and intake_cut_phrase(full) and POLLUTANT_RE.search(full):
        # 苯酚运输车侧翻泄漏…取水泵站暂停取水: the spill cut a drinking-water intake, an environmental row.
        env = next((k for k in routing.kinds if k.standard == "env_2014"), None)
        if env is not None:
            reasons.append("污染导致饮用水取水中断，按突发环境事件分级")
            kind, kind_words = env, []
    return kind, kind_words


__all__ = ["SYMPTOMS_RE", "settle_kind"]
