"""The domain matcher segments only the blocks that can hold a domain word, and loses nothing by it.

jieba segments each run of CJK letters and digits on its own, so tokens from the other blocks can
never be (or end with) a domain word. The reference below is the matcher as it was before, segmenting
the whole title and opening; texts written here.
"""

from responder.classify import load_default

TEXTS = [
    ("县城中心小学门口发生交通事故", "今日上午，一辆货车在县城中心小学门口失控，撞倒多名学生，3人受伤送医。"),
    ("网友反映小区乱收费", "某小区物业乱收费，业主多次向12345热线反映，县住建局回应称正在核查，涉及停车费、电梯费。"),
    ("化工园区企业发生泄漏", "园区一家企业储罐泄漏，县生态环境分局、县应急管理局赶赴现场，周边学校停课一天。"),
    ("低保金发放延迟", "多名困难群众反映本月低保金、特困供养金未按时到账。"),
    ("", "没有标题的一段话，讲的是公交线路调整和出租车收费。"),
]


def _reference(dm, title, head):
    scores, hits = {}, {}
    for text, weight in ((title, dm._title_weight), (head, 1)):
        for tok in dm._seg.lcut(text):
            for name in dm._index.get(tok, ()) or dm._head_match(tok):
                scores[name] = scores.get(name, 0) + weight
                if tok not in hits.setdefault(name, []):
                    hits[name].append(tok)
    return sorted(((n, s, hits[n]) for n, s in scores.items()), key=lambda x: -x[1])


def test_segmenting_only_blocks_with_a_domain_word_scores_the_same():
    dm = load_default()._domains
    found = 0
    for title, head in TEXTS:
        got = dm.score(title, head)
        assert got == _reference(dm, title, head), title
        found += bool(got)
    assert found >= 4  # the texts do name domains: the comparison is not between two empty lists


def test_blocks_without_a_domain_word_are_not_segmented():
    dm = load_default()._domains
    text = "今天天气很好，我们去公园散步，然后回家吃饭。"
    assert dm._seg.lcut_around(text, dm._words) == []
    assert dm._seg.lcut_around("今天天气很好，小区物业乱收费。", dm._words) == dm._seg.lcut("小区物业乱收费")
