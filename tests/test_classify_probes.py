"""Regression guard on reports written outside the development corpus (bench/probes, and the corpus when present).

Not a score to tune against: the held-out figures are in docs/classifier.md. This only keeps
what the classifier already gets right: no 5-hour report missed, levels mostly right.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from responder.classify import load_default

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_classify", ROOT / "bench" / "classify.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

SETS = [ROOT / "bench" / "probes" / "a", ROOT / "bench" / "probes" / "b", ROOT.parent / "shared" / "corpus" / "dev"]


@pytest.mark.parametrize("root", SETS, ids=lambda p: p.name)
def test_no_five_hour_report_is_missed(root):
    if not (root / "labels.jsonl").is_file():
        pytest.skip(f"{root} not present")
    items = bench.load_corpus(root)
    clf = load_default()
    decisions = [clf.classify(r["title"], r["body"]) for r in items]
    s = bench.score(items, [(d.level, d.clock == "5h") for d in decisions])
    assert s["scored"] >= 50
    assert s["five_hour_recall"] == 1.0, s
    assert s["five_hour_precision"] >= 0.9 and s["level_accuracy"] >= 0.95, s
