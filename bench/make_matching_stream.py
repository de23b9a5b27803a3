"""Write the labelled matching stream (tests/data/matching_stream.json) — fictional, written here.

Issue 14 asks for a stream written outside any corpus: at least 40 events with several
independent reports each (different outlets' wording, not reposts), same-type same-day
distractors, and county releases, some answering a case and some answering nothing.
Places are 石台县's real townships (config/gazetteer.toml) with villages and facilities
invented for the stream; every event, count and sentence is fictional.

Each outlet has its own way of telling an event (formal agency copy, a city paper, a
local WeChat account, a netizen's post) and mentions different facts: some name the
village, some only the township, some give counts, some name the hospital victims were
taken to (县人民医院, the trap of issue 14). Run it again to regenerate (deterministic):

    python bench/make_matching_stream.py
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "matching_stream.json"
BJ = dt.timezone(dt.timedelta(hours=8))
DAY0 = dt.datetime(2026, 6, 1, 0, 0, tzinfo=BJ)

TOWNS = {
    "仁里镇": ["贡溪村", "桃坑村", "源头村"], "七都镇": ["高路亭村", "河口村", "新棚村"],
    "丁香镇": ["黄龙村", "东庄村", "光明村"], "小河镇": ["唐田村", "莲花村", "联合村"],
    "横渡镇": ["兰关村", "香口村", "占坑村"], "仙寓镇": ["大山村", "竹溪村", "榉根村"],
    "大演乡": ["剡溪村", "严家村", "新安村"], "矶滩乡": ["洪墩村", "沟汀村", "马坑村"],
}
CN = "零一两三四五六七八九十"


def cn(n: int) -> str:
    return CN[n] if n <= 10 else str(n)


# ------------------------------------------------------------------ what happened, per kind

KINDS = {
    # kind: sites (with their measure word), department, and variants — each variant is one way the event
    # happens, told with synonyms by different outlets: (phrases, headline words, release word).
    "fire": {"sites": {"民房": "栋", "木材加工厂": "家", "茶厂": "家", "仓库": "座"}, "dept": "县消防救援大队", "variants": [
        (["发生火灾", "突发大火", "起火", "着火"], ["火灾", "大火", "起火"], "火灾")]},
    "traffic": {"sites": {"货车": "辆", "面包车": "辆", "客车": "辆", "农用车": "辆"}, "dept": "县公安局交警大队", "variants": [
        (["发生侧翻", "侧翻", "翻车", "侧翻在路边"], ["侧翻", "翻车"], "交通事故"),
        (["与一辆轿车相撞", "和一辆小车撞在一起", "与对向轿车发生碰撞", "撞上一辆轿车"], ["车祸", "两车相撞"], "交通事故")]},
    "food_poisoning": {"sites": {"婚宴": "场", "寿宴": "场", "学校食堂": "所", "工地食堂": "处"}, "dept": "县市场监管局",
                       "variants": [(["出现呕吐、腹泻等食物中毒症状", "疑似食物中毒", "用餐后出现呕吐腹泻", "发生集体食物中毒"],
                                     ["食物中毒", "集体中毒"], "食物中毒事件")]},
    "disaster": {"sites": {"山坡": "处", "沟谷": "处"}, "dept": "县应急管理局", "variants": [
        (["发生山体滑坡", "突发山体滑坡", "山体滑坡", "发生滑坡"], ["山体滑坡", "滑坡"], "山体滑坡灾害"),
        (["突发山洪", "暴发山洪", "发生山洪", "山洪暴发"], ["山洪", "山洪灾害"], "山洪灾害")]},
    "safety": {"sites": {"石料厂": "家", "建筑工地": "处", "烟花作坊": "家"}, "dept": "县应急管理局", "variants": [
        (["发生坍塌事故", "发生坍塌", "垮塌", "发生垮塌事故"], ["坍塌", "垮塌"], "坍塌事故"),
        (["发生爆炸", "突然爆炸", "发生爆燃", "爆炸"], ["爆炸", "爆燃"], "爆炸事故")]},
    "terror": {"sites": {"集市": "处", "村口": "处", "商店门前": "处"}, "dept": "县公安局", "variants": [
        (["发生一起持刀袭击事件", "一男子持刀行凶", "发生持刀伤人事件", "有人持刀砍人"], ["持刀伤人", "持刀袭击"], "持刀伤人事件"),
        (["发生暴力袭击", "发生一起暴恐袭击", "遭到暴力袭击", "发生袭击事件"], ["暴恐袭击", "暴力袭击"], "暴力袭击事件")]},
}


def when_words(t: dt.datetime) -> tuple[str, str]:
    h = t.hour
    part = "凌晨" if h < 6 else "上午" if h < 12 else "下午" if h < 18 else "晚上"
    hh = h if h <= 12 else h - 12
    return f"{t.month}月{t.day}日{part}{hh}时许", f"{t.day}日{part}"


def casualty_phrase(ev: dict, style: int, r: random.Random) -> str:
    d, i = ev["deaths"], ev["injuries"]
    if ev["kind"] == "food_poisoning":
        n = ev["poisoned"]
        return [f"共有{n}人出现不适症状", f"{n}人中毒", f"中毒人数为{n}人", f"{cn(n) if n <= 10 else n}名就餐人员出现症状"][style % 4]
    if d == 0 and i == 0:
        return ["未造成人员伤亡", "所幸无人员伤亡", "暂无人员伤亡报告", "没有人受伤"][style % 4]
    parts = []
    if d:
        parts.append([f"造成{d}人死亡", f"{cn(d)}人遇难", f"致{d}人身亡", f"{d}人不幸罹难"][style % 4])
    if i:
        parts.append([f"{i}人受伤", f"{cn(i)}人受伤", f"另有{i}人受伤", f"{i}名伤者"][style % 4])
    return "，".join(parts)


def place_phrase(ev: dict, detail: int) -> str:
    """detail 2: town + village (+ site); 1: town only; 0: county + village."""
    fac = ev.get("facility")
    if detail == 2:
        return f"石台县{ev['town']}{ev['village']}" + (fac or "")
    if detail == 1:
        return f"石台县{ev['town']}"
    return f"{ev['village']}" + (fac or "")


def report(ev: dict, outlet: int, r: random.Random, published: dt.datetime) -> tuple[str, str]:
    """One outlet's own telling of the event (different words, different facts)."""
    k = KINDS[ev["kind"]]
    phrases, heads, _rel = k["variants"][ev["variant"]]
    at, short = when_words(ev["at"])
    site = ev["site"]
    unit = k["sites"][site]
    verb = phrases[(outlet + ev["n"]) % len(phrases)]
    cas = casualty_phrase(ev, outlet + ev["n"], r)
    hosp = "伤者已被送往石台县人民医院救治。" if (ev["deaths"] or ev["injuries"] or ev["kind"] == "food_poisoning") else ""
    if ev["kind"] == "food_poisoning" and "学校" in site:
        who = "多名小学生"
    else:
        who = "多名群众"
    if outlet == 0:  # agency copy: full place, counts, formal
        title = f"石台县{ev['town']}{ev['village']}{site}{heads[0]}" + (f" {cas.split('，')[0]}" if cas else "")
        text = (f"记者从有关方面获悉，{at}，{place_phrase(ev, 2)}一{unit}{site}{verb}，{cas}。{hosp}"
                f"事发后，当地迅速组织力量开展处置，{k['dept']}等部门已赶赴现场，具体原因正在进一步调查中。")
    elif outlet == 1:  # city paper: township only in the lead, village later, colloquial
        title = f"{ev['town']}一{unit}{site}{heads[-1]}，{cas.split('，')[0]}"
        text = (f"{short}，{place_phrase(ev, 1)}传来消息，辖区一{unit}{site}{verb}。据现场目击者讲述，事发地位于{ev['village']}附近，"
                f"现场一度十分混乱，{who}围观。{cas}。{hosp}目前事件正在处置中。")
    elif outlet == 2:  # local WeChat account: village first, hospital detail, no township
        title = f"突发！{ev['village']}{site}{heads[0]}"
        day = "今天" if published.date() == ev["at"].date() else "昨天"
        text = (f"{day}{short.split('日')[1]}，{place_phrase(ev, 0)}{verb}。有村民拍下视频发到朋友圈，画面中可以看到现场情况。"
                f"据了解，{cas}。{hosp}小编将持续关注。")
    else:  # netizen post: first person, sparse facts, township only
        title = f"网友爆料：{ev['town']}{heads[-1]}了"
        text = (f"刚刚路过{ev['town']}，看到{site}那边{verb}，来了好多车，听说{cas}。我们这边{ev['village'][:-1]}一带的路都堵了，"
                f"希望大家平安。")
    return title, text


def release(ev: dict, r: random.Random) -> tuple[str, str]:
    k = KINDS[ev["kind"]]
    phrases, _heads, word = k["variants"][ev["variant"]]
    at, _ = when_words(ev["at"])
    cas = casualty_phrase(ev, 0, r)
    title = f"关于{ev['town']}{ev['village']}{word}的情况通报"
    text = (f"{at}，{place_phrase(ev, 2)}一{k['sites'][ev['site']]}{ev['site']}{phrases[0]}。接报后，县委、县政府高度重视，主要负责同志第一时间赶赴现场"
            f"指挥处置，{k['dept']}等部门迅速开展救援工作。经初步核实，{cas}。事件原因正在调查中，后续情况将及时发布。")
    return title, text


def build(seed: int = 14) -> dict:
    r = random.Random(seed)
    events: list[dict] = []
    kinds = list(KINDS)
    n = 0
    # Three days, about 30 events a day: pairs of same-kind events in the same township on the same day
    # (distractors for each other), plus single same-kind events elsewhere.
    for day in range(3):
        towns = list(TOWNS)
        r.shuffle(towns)
        for j, kind in enumerate(kinds * 5):
            if len([e for e in events if e["day"] == day]) >= 30:
                break
            town = towns[(j % len(kinds) + (j // len(kinds)) // 2) % len(towns)]  # rounds 0-1, 2-3: same town
            village = TOWNS[town][(j // len(kinds)) % 3]
            site = r.choice(list(KINDS[kind]["sites"]))
            variant = r.randrange(len(KINDS[kind]["variants"]))
            deaths = r.choice([0, 0, 1, 2, 3]) if kind != "food_poisoning" else 0
            injuries = r.choice([0, 1, 2, 4, 6]) if kind != "food_poisoning" else 0
            ev = {"id": f"E{n:03d}", "n": n, "day": day, "kind": kind, "town": town, "village": village, "site": site, "variant": variant,
                  "deaths": deaths, "injuries": injuries, "poisoned": r.choice([12, 18, 23, 35, 41]),
                  "at": DAY0 + dt.timedelta(days=day, hours=r.randint(6, 20), minutes=r.choice([0, 10, 25, 40, 55]))}
            events.append(ev)
            n += 1
    items = []
    for ev in events:
        outlets = r.sample([0, 1, 2, 3], k=r.choice([2, 3, 3, 4]) if ev["n"] % 5 else 1)
        for m, o in enumerate(sorted(outlets, key=lambda x: r.random())):
            t = ev["at"] + dt.timedelta(minutes=25 + 70 * m + r.randint(0, 30))
            title, text = report(ev, o, r, t)
            items.append({"id": f"{ev['id']}-r{m}", "event": ev["id"], "role": "opinion", "outlet": ["agency", "citypaper",
                          "wechat", "netizen"][o], "published_at": t.isoformat(), "title": title, "text": text})
    # Releases: about half the reported events get the county's 情况通报 2-4 hours later; events with no
    # report at all (n % 5 == 0 get one report; a few others are dropped from the opinion feed below) get
    # a release that answers nothing.
    orphans = {ev["id"] for ev in events if ev["n"] % 7 == 3}
    items = [it for it in items if it["event"] not in orphans]
    for ev in events:
        if ev["id"] in orphans or ev["n"] % 2 == 0:
            title, text = release(ev, r)
            t = ev["at"] + dt.timedelta(hours=2, minutes=r.randint(0, 120))
            items.append({"id": f"{ev['id']}-rel", "event": ev["id"], "role": "release", "outlet": "county",
                          "answers": None if ev["id"] in orphans else ev["id"], "published_at": t.isoformat(),
                          "title": title, "text": text})
    items.sort(key=lambda it: it["published_at"])
    return {
        "about": ("Labelled matching stream for issue 14, written for responder (fictional events in 石台县's real "
                  "townships; villages, facilities and counts invented). Each opinion item names its event; each "
                  "release names the event it answers (null: an orphan release whose event has no report)."),
        "generator": "bench/make_matching_stream.py",
        "events": [{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in ev.items() if k not in ("n",)}
                   for ev in events],
        "items": items,
    }


def main() -> None:
    data = build()
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    ev = data["events"]
    rep = [i for i in data["items"] if i["role"] == "opinion"]
    rel = [i for i in data["items"] if i["role"] == "release"]
    multi = sum(1 for e in ev if sum(1 for i in rep if i["event"] == e["id"]) >= 2)
    print(f"{OUT}: {len(ev)} events ({multi} with several reports), {len(rep)} reports, {len(rel)} releases "
          f"({sum(1 for i in rel if i['answers'] is None)} answering nothing)")


if __name__ == "__main__":
    main()
