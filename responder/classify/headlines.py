"""Headlines that say no event is happening now: an exercise, a trial or anniversary, a statistics bulletin.

The body of such an item is full of tolls (模拟30人死亡, 该案造成12人死亡, 全年死亡47人) that belong to no
突发事件 of today (突发事件应对法 第2条: an event that happens suddenly). The item is still opinion to answer
within 48 hours. A headline that also reports harm of its own (演练中发生意外致1人死亡) is graded as usual.

Pure: a headline in, a reason (Chinese, for the operator) or None out.
"""

from __future__ import annotations

import re

DRILL_RE = re.compile(r"演练|演习|推演|拉练|实战化训练|模拟(?:演练|处置)")
HARM_IN_TITLE_RE = re.compile(r"事故|意外|伤亡|死亡|身亡|遇难|受伤|失踪|中毒|被困|失联|泄漏|送医|遇险|险情")
REAL_NOT_DRILL_RE = re.compile(r"实为|实际是|真实|并非演练|不是演练|原定演练|以为是演练")
"""以为是演练 实为水厂氯气泄漏, 原定演练日真实险情: the headline says this was no exercise."""
DRILL_SCENARIO_RE = re.compile(r"模拟[^ ，,。；]*|[^ ，,。；]{0,12}?(?:演练|演习|推演|拉练)")
"""危化品事故综合应急演练 模拟“30人死亡”: the exercise's name and scenario are no harm; 演练中发生意外致1人死亡 is."""
STATISTICS_TITLE_RE = re.compile(r"统计公报|统计年鉴|情况统计|统计数据|工作总结|年度总结|工作报告|年报")
"""2025年国民经济和社会发展统计公报: a year's totals (死亡47人) are many events, none of them graded (493号 grades one)."""
TRIAL_RE = re.compile(r"周年|一审|二审|终审|宣判|开庭|庭审|审理|判决|判处|获刑|被判|公诉|提起诉讼|再审")
"""A court hearing a case (矿难责任人一审获刑) or an anniversary (矿难十周年): the toll in it is an event
already reported and graded when it happened. The item is opinion to answer within 48 hours, not a new 突发事件 (突发事件应对法
第2条: an event that happens suddenly)."""
NEW_EVENT_IN_TITLE_RE = re.compile(r"发生|突发|起火|爆炸|坍塌|袭击|劫持|相撞|侧翻|翻沉|坠|倒塌|垮塌|泄漏")
NEW_HARM_RE = re.compile(r"再遭|又遭|突遭|再次发生|又发生")
"""…灾害三十周年前夕 桕岭乡再遭泥石流 14人遇难: a new blow named outside the old case's name is a new event
(not 12名遇难者家属旁听, which is the old case's dead)."""
OLD_CASE_RE = re.compile(r"[^ ，,。；;：:]{0,24}?(?:周年|一审|二审|终审|宣判|开庭|庭审|审理|判决|判处|获刑|被判|公诉|再审)")
"""“2024·10·17”烟花厂爆炸案一审开庭: the words before the court or anniversary word name the old case; an event
named elsewhere in the headline (；沙鬲镇一客车与货车相撞 10人遇难) is a new one."""


def no_event_now(title: str) -> str | None:
    """Why the headline reports no event happening now, or None when it may report one."""
    if (DRILL_RE.search(title) and not HARM_IN_TITLE_RE.search(DRILL_SCENARIO_RE.sub("", title))
            and not REAL_NOT_DRILL_RE.search(title)):
        return "标题表明是演练、演习或推演，文中情景不是实际发生的事件"
    if STATISTICS_TITLE_RE.search(title) and not NEW_EVENT_IN_TITLE_RE.search(title):
        return "标题表明是统计公报或工作总结，文中数字是一段时期的累计，不是某一起突发事件"
    rest = OLD_CASE_RE.sub("", title)
    if TRIAL_RE.search(title) and not NEW_EVENT_IN_TITLE_RE.search(rest) and not NEW_HARM_RE.search(rest):
        return "标题表明是对已发生事件的审判或周年纪念，文中伤亡属于当年的事件，不是新发生的突发事件"
    return None


__all__ = ["no_event_now"]
