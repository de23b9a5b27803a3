"""Regression guard on reports written outside the development corpus (bench/probes, and the corpus when present).

Not a score to tune against: the held-out figures are in docs/classifier.md. This only keeps
what the classifier already gets right: no 5-hour report missed, levels mostly right.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from responder.classify import load_default
from responder.testing import corpus

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_classify", ROOT / "bench" / "classify.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

PROBES = ROOT / "bench" / "probes"
SETS = [  # (set, least precision, least level accuracy): c is held out, so only its recall is held to 1.0
    (PROBES / "a", 0.9, 0.95), (PROBES / "b", 0.9, 0.95), (PROBES / "c", 0.0, 0.0),
    (None, 0.9, 0.95),  # the development corpus, outside the repository: RESPONDER_CORPUS
]


@pytest.mark.parametrize("root,precision,accuracy", SETS, ids=lambda p: getattr(p, "name", "dev") if p else "dev")
def test_no_five_hour_report_is_missed(root, precision, accuracy):
    """Every 5-hour report of each probe set (and of the dev corpus) is caught; precision and levels hold."""
    root = root or corpus.corpus_dir()
    assert (root / "labels.jsonl").is_file(), f"{root} has no labels.jsonl"
    items = bench.load_corpus(root)
    clf = load_default()
    decisions = [clf.classify(r["title"], r["body"]) for r in items]
    s = bench.score(items, [(d.level, d.clock == "5h") for d in decisions])
    assert s["scored"] >= 40
    assert s["five_hour_recall"] == 1.0, s
    assert s["five_hour_precision"] >= precision and s["level_accuracy"] >= accuracy, s
