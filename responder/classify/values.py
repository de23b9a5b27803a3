"""The values a standard is graded on: stated (low bounds of the counts) and possible (high bounds,
missing and trapped people counted as dead), with the readings that move a number from one metric to
another (493号's 急性工业中毒 as 重伤, a food poisoning's 就诊 as the ill) or set it aside (evacuees, a
quake felt far away). Pure functions over :class:`Facts`.
"""

from __future__ import annotations

from .cues import HAZARD_RE, POLLUTANT_RE, RELEASE_RE, _affirmed, _open_missing, _open_trapped, _qty
from .extract import Facts
from .numerals import INF
from .grade import RANK, Thresholds, fmt_value, grade, reason_for
from .route import Kind


def cases_seen(facts: Facts, stated: dict, possible: dict, shown: dict, reasons: list[str]) -> None:
    """In a suspected food poisoning the people who sought care (就诊, 住院) with symptoms are the cases the
    plan counts (中毒人数 is 发病人数); a report often gives only that figure. Without it a background
    total (今年以来…累计中毒146人) was what graded such reports, by accident."""
    q = facts.get("hospitalized")
    if q is None or q.low <= stated.get("poisoned", 0):
        return
    stated["poisoned"], possible["poisoned"] = q.low, max(q.high, possible.get("poisoned", 0))
    shown["poisoned"] = _qty(q) + "人"
    reasons.append(f"就诊/住院{_qty(q)}人按中毒（发病）人数计（食物中毒以发病人数分级）")

def evacuation_rank(thresholds: Thresholds, kind: Kind, std, possible: dict, metrics: dict, reasons: list[str],
                     text: str = "", set_aside: list[str] | None = None, closed: bool = False,
                     stated: dict | None = None) -> tuple[int, bool]:
    """A mass evacuation graded by the environmental plan when the event's own standard has no
    evacuation criterion: a leak or explosion that moves ten thousand people may be a 重大
    突发环境事件 (国办函〔2014〕119号), whatever the accident table says. Only for accidents
    (事故灾难): after an earthquake or a flood, moving people out is the response, not a leak.

    Returns the rank and whether it is stated: a release stated in words (液氯泄漏) of a named hazardous
    substance with a stated evacuation count is the plan's row as written (probe set e: a chlorine leak
    moving 1.2万 people is 重大, a pesticide leak moving 9000 较大); otherwise it is a conservative reading."""
    env = thresholds.standards.get("env_2014")
    if (env is None or std is env or kind.category != "事故灾难" or "evacuated" not in possible
            or any(r.metric == "evacuated" for r in std.rules)):
        return 0, False
    # A release stated (not 未发生泄漏) is graded; a hazardous substance alone only while the toll is open
    # and no release is denied.
    released = _affirmed(RELEASE_RE, text) is not None
    if not released and (not POLLUTANT_RE.search(text) or closed or RELEASE_RE.search(text)):
        if set_aside is not None:
            set_aside.append(f"疏散转移{fmt_value(possible['evacuated'])}人是避险措施，文中未提到污染物泄漏或扩散，"
                             "不按突发环境事件的疏散标准分级，也不计为伤亡或被困")
        return 0, False
    if released and stated is not None and "evacuated" in stated and _affirmed(HAZARD_RE, text):
        hits = grade(env, {"evacuated": stated["evacuated"]}, strict=False)
        if hits:
            reasons.append(f"{reason_for(hits[0], metrics)}（文中称危险物质泄漏并疏散群众）")
            return RANK[hits[0].rule.level], True
    hits = grade(env, {"evacuated": possible["evacuated"]}, strict=True)
    if not hits:
        return 0, False
    reasons.append("保守判断：" + reason_for(hits[0], metrics))
    return RANK[hits[0].rule.level], False


def values(thresholds: Thresholds, std, facts: Facts, text: str, closure=None, felt=None,
            set_aside: list[str] | None = None) -> tuple[dict, dict, dict]:
    """Stated (low bounds) and possible (high bounds, missing counted as dead) values."""
    set_aside = [] if set_aside is None else set_aside
    stated: dict[str, float] = {}
    possible: dict[str, float] = {}
    shown: dict[str, str] = {}
    for metric in ("deaths", "missing", "serious_injuries", "injuries", "poisoned", "evacuated",
                   "affected", "participants", "economic_loss", "blocked_hours"):
        q = _open_missing(facts, text, closure) if metric == "missing" else facts.get(metric)
        if q is None:
            continue
        stated[metric], possible[metric] = q.low, q.high
        if metric == "participants" and q.vague and q.high == INF:
            possible[metric] = q.low  # 多名村民聚集: a crowd of unknown size is no evidence of 1000 (2006 分级标准)
        unit = thresholds.metrics.get(metric, ("", ""))[1]
        shown[metric] = _qty(q) + unit
    cas = facts.get("casualties")
    if cas is not None and closure is not None and all(
            0 <= m.pos < closure[0] for m in facts.mentions if m.metric == "casualties"):
        cas = None  # 伤亡N人 … then 无人员伤亡: the later, definitive statement closes it
    if cas is not None and "deaths" not in stated:
        possible["deaths"] = cas.high  # 伤亡N人: every one could be a death
    if facts.magnitude is not None:
        if felt is not None and felt[0] == "none":
            set_aside.append(f"震级{fmt_value(facts.magnitude)}级是外地或海域震中的震级（“{felt[1]}”），"
                             "本地仅有震感、无灾情，按本地实际影响定级")
        elif felt is not None and felt[0] == "minor":
            set_aside.append(f"震级{fmt_value(facts.magnitude)}级是外地或海域震中的震级（“{felt[1]}”），"
                             "本地仅有轻微影响（物品掉落、轻微受伤），按本地实际影响定级")
        elif felt is not None and felt[0] == "silent":
            possible["magnitude"] = facts.magnitude  # the epicentre is elsewhere: a possibility, not a stated fact
        else:
            stated["magnitude"] = possible["magnitude"] = facts.magnitude
    for metric, as_metric, _cite in std.count_as:
        # 493号: 重伤（包括急性工业中毒）— the poisoned are graded with the seriously injured.
        for values in (stated, possible):
            if metric in values:
                values[as_metric] = max(values.get(as_metric, 0), values[metric])
    d_lo, d_hi = stated.get("deaths", 0), possible.get("deaths", 0)
    m_lo, m_hi = stated.get("missing", 0), possible.get("missing", 0)
    trapped, why = _open_trapped(facts, text, closure)
    if trapped is not None:
        # 被困 is listed with the missing (rules §4.1): until rescued, each may raise the toll.
        m_hi += trapped.high
        possible["missing"] = m_hi
    elif why:
        set_aside.append(why)
    if std.deaths_include_missing and (d_lo or m_lo):
        stated["deaths_incl_missing"] = d_lo + m_lo
    if d_hi or m_hi:
        possible["deaths_incl_missing"] = d_hi + m_hi
        possible["deaths"] = d_hi + m_hi
    if "deaths_incl_missing" in stated and m_lo:
        shown["deaths_incl_missing"] = f"{fmt_value(stated['deaths_incl_missing'])}人（死亡{fmt_value(d_lo)}、失踪{fmt_value(m_lo)}）"
    return stated, possible, shown
