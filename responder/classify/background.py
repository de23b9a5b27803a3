"""Which clauses speak of another event: a year's statistics, a remembered disaster, another place's accident.

Their figures are read but never graded as this event's toll (issue 20: background figures read as
this event's toll were one of the four classes of false 5-hour alarm). Two scopes: a background cue
(今年以来, 去年, 剧中, 以…为例, a date months before the report, 外省…发生) opens the rest of its sentence; a
remembered time (十年前, 当年, 曾经) covers only its own clause, unless that clause also dates this event.

Pure: text in, booleans out.
"""

from __future__ import annotations

import datetime as dt
import re

# Background figures (issue 20): year-to-date, last-year and cumulative statistics describe other
# events. Counting them as this event's toll over-grades it (493号 grades one accident, not a year).
BACKGROUND_RE = re.compile(
    r"(?:今年以来|今年(?=[^，。；]{0,6}(?:全|共|累计|已发生|已有))|(?:今年|本年)(?:暑期|暑假|汛期|入夏|入冬|寒假)|"
    r"(?:全省|全国|全市)[^，。；]{0,4}(?:今年|本年|年内)|年初以来|去年|前年|上半年|下半年|全年|往年|历年|"
    r"近(?:[一二三四五六七八九十两\d]+|几|数)年|同比|曾发生|曾经发生|发生过|以往|此前[^，。；]{0,12}发生|"
    r"曾(?:在|于|经)[^，。；]{0,12}?(?:发生|造成|导致)|每年|年均|平均每年|(?:入夏|入汛|入冬|暑期|暑假|汛期|寒假)以来|"
    r"(?:全市|全县|全省|全国|全区|辖区|本市|本县)[^，。；]{0,10}累计|累计[^，。；]{0,6}(?:全市|全县|全省|全国)|"
    r"(?:共|累计|先后)发生[^，。；]{0,16}?(?:\d+|[一二三四五六七八九十两]+)起|发生[^，。；]{0,16}?\d{2,}起|"
    r"(?:\d{1,2}|[一二三四五六七八九十]{1,2})(?:至|到|-|—|~)(?:\d{1,2}|[一二三四五六七八九十]{1,3})月(?!\d|[一二三四五六七八九十]+日)|"
    r"前(?:\d+|[一二三四五六七八九十]+)个月|前[一二三]季度|"
    r"剧中|片中|影片中|电影中|小说中|故事中|剧情|模拟|为例|为鉴|担心|讲述(?:了)?(?:一场|一个|一段)|的故事|影片|电影《|纪录片|比如|例如|可能造成或已造成|万一|假如|生怕|一旦发生|一审|二审|终审|宣判|判处|庭审|公诉|开庭审理|警示教育|典型案例)"
    r"(?![^，。；]{0,2}(?:最|首))")
PAST_RE = re.compile(r"(?:\d+|[一二三四五六七八九十两几数]+)(?:多|余)?年(?:多)?(?:前|以前)|当年|那年|历史上|曾经|前几年|前些年|早些年|"
                     r"[五六七八九]几年|[五六七八九]十年代|解放前|曾造成|曾导致|曾致|"
                     r"(?<!\d)(?:19|20)\d\d年(?!\d|[一二三四五六七八九十]{1,2}月|以来|至今|[全上下]半?年)")
PRESENT_RE = re.compile(r"此次|本次|这次|这起|该起|目前|昨日|昨天|今日|今天|今晨|昨晚|昨夜|日前|近日|凌晨|上午|下午|傍晚|"
                        r"夜间|晚间|\d+日|\d+时")
ATTRIBUTIVE_PAST_RE = re.compile(r"(?:建成|开工|投产|修建|竣工|开业|启用|投用|改造|翻修|购置|安装|入住|通车|成立|搬入|查处|整改|"
                                 r"建设|建造|搬迁|挂牌|运营)[^，。；]{0,4}?的")
"""A remembered event (十年前那场6.8级地震死了200多人, 当年…, 历史上…, 曾经…): its figures are background (probe set
e). Unlike BACKGROUND_RE the cue covers its own clause only, and not when the clause also dates this event
(昨日, 凌晨, 3日) or the time word only describes a thing (3年前建成的大桥 … 垮塌)."""


def _remembered(seg: str) -> bool:
    m = PAST_RE.search(seg)
    return (m is not None and not PRESENT_RE.search(seg)
            and not ATTRIBUTIVE_PAST_RE.match(seg, m.end()) and not ATTRIBUTIVE_PAST_RE.search(seg[m.end():m.end() + 14]))


THIS_EVENT_RE = re.compile(r"此次|本次|这次|这起|该起|此起|目前|现场")
ELSEWHERE_RE = re.compile(r"外省|省外|外市|其他省份|外地[^，,。；;]{0,12}?发生")
HERE_RE = re.compile(r"我县|本县|我市|本市|县内|境内|我镇|本镇|辖区")
"""外省某化工园区发生爆炸事故，造成40余人遇难 (a meeting taking a lesson from it): another place's event; 外地游客
在我县…发生 is ours."""
DATED_RE = re.compile(r"(?<!\d)((?:19|20)\d\d)年(?:(\d{1,2})月(?:(\d{1,2})日)?)?")
EARLIER_DAYS = 60
"""A date this many days before the report is another event's (2016年11月3日…12名矿工遇难 in a 2026 feature);
nearer dates may be this event's (2025年12月31日 in a report of 2026-01-01)."""


def _dated_before(seg: str, reported: dt.date | None) -> bool:
    """The clause dates something well before the report (and not a thing built or opened then)."""
    if reported is None:
        return False
    for m in DATED_RE.finditer(seg):
        try:
            when = dt.date(int(m.group(1)), int(m.group(2) or 12), int(m.group(3) or 1))
        except ValueError:
            continue
        if m.group(2) is None:
            when = dt.date(int(m.group(1)), 12, 31)
        if (reported - when).days > EARLIER_DAYS and not ATTRIBUTIVE_PAST_RE.search(seg[m.end():m.end() + 14]):
            return True
    return False


def opens_background(seg: str, reported: dt.date | None) -> bool:
    """Whether this clause starts a background stretch of its sentence."""
    return (BACKGROUND_RE.search(seg) is not None or _dated_before(seg, reported)
            or (ELSEWHERE_RE.search(seg) is not None and HERE_RE.search(seg) is None))


def may_have_background(text: str, reported: dt.date | None) -> bool:
    """A cheap test first: most reports have no background cue at all."""
    return (BACKGROUND_RE.search(text) is not None or PAST_RE.search(text) is not None
            or ELSEWHERE_RE.search(text) is not None or (reported is not None and DATED_RE.search(text) is not None))


def in_background(text: str, pos: int) -> bool:
    """Whether the sentence around ``pos``, up to it, opens a background or remembered clause (see extract)."""
    start = max(text.rfind(c, 0, pos) for c in "。；;！!？?\n") + 1
    before = text[start:pos + 1]
    clause_start = max(before.rfind(c) for c in "，,") + 1
    return BACKGROUND_RE.search(before) is not None or _remembered(before[clause_start:] + text[pos:pos + 8])


HISTORY_RE = re.compile(r"历史上|史料|曾发生|曾经发生|曾遭受|以来最大|有记录以来")
YEAR_RE = re.compile(r"(1[0-9]{3}|20[0-9]{2})年")
_CLAUSE_START = re.compile(r"[，,。；;！!？?\n]")


def _past(text: str, pos: int, latest_year: int | None) -> bool:
    """The clause around ``pos`` tells of an earlier event (1303年曾发生洪洞8级大地震): a history word,
    or a year before the latest year the report names. Its magnitude is not this event's."""
    start = max((m.end() for m in _CLAUSE_START.finditer(text, 0, pos)), default=0)
    end_m = _CLAUSE_START.search(text, pos)
    clause = text[start:end_m.start() if end_m else len(text)]
    if HISTORY_RE.search(clause) or _remembered(clause):
        return True
    return latest_year is not None and any(int(y) < latest_year for y in YEAR_RE.findall(clause))
