"""Score the classifier on a labelled corpus and time it.

Usage (from the project root):
    .venv/bin/python bench/classify.py [--corpus DIR] [--show-errors]

DIR is the labelled corpus (labels.jsonl + texts/); it defaults to $RESPONDER_CORPUS, the
development corpus, which is not part of the repository. bench/probes/a|b|c are corpora too.

Scoring follows the corpus README: recall and precision of the 5-hour class and
level accuracy (IV and "below IV" count as one, so a null level equals IV) over
the reports that are not marked ambiguous. In the same run it measures two
baselines: a keyword-only classifier (headline words 特别重大/重大/特大 and a
"N人死亡 with N ≥ 10" pattern) and raw jieba segmentation of the same texts, so
throughput can be read as a ratio on a noisy shared machine. The last line of
output is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from responder.classify import load_default  # noqa: E402


def report_date(line: str) -> dt.date | None:
    """The first line's date (2026-05-14 16:20, 2026-01-09, 2026年4月22日), or None."""
    m = re.match(r"\s*(\d{4})[-年/.](\d{1,2})[-月/.](\d{1,2})", line)
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        return None


def load_corpus(root: Path) -> list[dict]:
    """Labels with their texts; the first line of a text file is the report date, not content."""
    items = []
    with open(root / "labels.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            raw = (root / row["text_file"]).read_text(encoding="utf-8")
            body = raw.split("\n", 1)[1] if "\n" in raw else ""
            row["body"] = body
            row["reported"] = report_date(raw.split("\n", 1)[0])
            items.append(row)
    return items


def score(items: list[dict], predictions: list[tuple[str | None, bool]]) -> dict:
    tp = fp = fn = 0
    correct = n = 0
    for row, (level, five) in zip(items, predictions):
        exp = row["expected"]
        if exp.get("ambiguous"):
            continue
        n += 1
        if five and exp["five_hour"]:
            tp += 1
        elif five:
            fp += 1
        elif exp["five_hour"]:
            fn += 1
        if (level or "IV") == (exp["level"] or "IV"):
            correct += 1
    return {
        "scored": n,
        "five_hour_recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "five_hour_precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "level_accuracy": round(correct / n, 3) if n else None,
        "tp": tp, "fp": fp, "fn": fn,
    }


_KW_DEATHS = re.compile(r"(\d+)\s*(?:人|名)?(?:死亡|遇难)")


def keyword_baseline(title: str, body: str) -> tuple[str | None, bool]:
    text = title + body
    if "特别重大" in text:
        return "I", True
    m = max((int(x) for x in _KW_DEATHS.findall(text)), default=0)
    if re.search("重大|特大", title) or m >= 10:
        return "II", True
    if m >= 3:
        return "III", False
    return "IV", False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.environ.get("RESPONDER_CORPUS") or None,
                    help="corpus directory (labels.jsonl + texts/), relative to CWD; default $RESPONDER_CORPUS")
    ap.add_argument("--repeat", type=int, default=5, help="interleaved timing passes (the best of each is reported)")
    ap.add_argument("--show-errors", action="store_true", help="print each scored disagreement")
    args = ap.parse_args(argv)
    if not args.corpus:
        ap.error("--corpus is required when RESPONDER_CORPUS is unset")
    root = Path(args.corpus).expanduser().resolve()
    if not (root / "labels.jsonl").is_file():
        print(f"error: {root}/labels.jsonl not found", file=sys.stderr)
        return 2
    items = load_corpus(root)

    t0 = time.perf_counter()
    clf = load_default()
    load_s = time.perf_counter() - t0

    decisions = [clf.classify(r["title"], r["body"], reported=r["reported"]) for r in items]
    preds = [(d.level, d.clock == "5h") for d in decisions]
    ours = score(items, preds)
    base = score(items, [keyword_baseline(r["title"], r["body"]) for r in items])

    import jieba
    tok = jieba.Tokenizer()
    tok.initialize()
    # Interleaved passes (classifier, then jieba, repeat), best of each, in CPU time of this process:
    # on a shared 2-core machine at load 8 wall-clock blocks made the ratio swing from 0.45 to 1.0
    # between runs; both sides are single-threaded, so CPU time is what one core delivers.
    best = jbest = float("inf")
    for _ in range(max(1, args.repeat)):
        t = time.process_time()
        for r in items:
            clf.classify(r["title"], r["body"], reported=r["reported"])
        best = min(best, time.process_time() - t)
        t = time.process_time()
        for r in items:
            tok.lcut(r["title"] + r["body"], HMM=False)
        jbest = min(jbest, time.process_time() - t)
    ips = len(items) / best
    jips = len(items) / jbest

    if args.show_errors:
        for r, d in zip(items, decisions):
            exp = r["expected"]
            if exp.get("ambiguous"):
                continue
            if (d.level or "IV") != exp["level"] or (d.clock == "5h") != exp["five_hour"]:
                print(f"  {r['text_file']}: expected {exp['level']}/{'5h' if exp['five_hour'] else '48h'}, "
                      f"got {d.level}/{d.clock} — {r['title']}")
                for reason in d.reasons:
                    print(f"      {reason}")

    print(f"corpus: {root} ({len(items)} reports, {ours['scored']} scored, ambiguous left out)")
    print(f"classifier : 5h recall {ours['five_hour_recall']}  precision {ours['five_hour_precision']}  "
          f"level accuracy {ours['level_accuracy']}  (tp {ours['tp']} fp {ours['fp']} fn {ours['fn']})")
    print(f"keyword baseline: 5h recall {base['five_hour_recall']}  precision {base['five_hour_precision']}  "
          f"level accuracy {base['level_accuracy']}")
    print(f"throughput : {ips:.0f} items/s of CPU time (data load {load_s:.2f} s); raw jieba segmentation of the same "
          f"texts {jips:.0f} items/s; ratio {ips / jips:.2f}")
    print(json.dumps({
        "n": ours["scored"], "five_hour_recall": ours["five_hour_recall"],
        "five_hour_precision": ours["five_hour_precision"], "level_accuracy": ours["level_accuracy"],
        "items_per_s": round(ips, 1),
        "baseline_keyword": {k: base[k] for k in ("five_hour_recall", "five_hour_precision", "level_accuracy")},
        "baseline_jieba_items_per_s": round(jips, 1), "speed_ratio_vs_jieba": round(ips / jips, 2),
    }, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
