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
SETS = [  # (set, least precision, least level accuracy). Issue 20: precision >= 0.90 on b, c and d, and
    # level accuracy not below the figure measured before its rules (c 0.864, d 0.765 at b265cd3; e 0.817, its one
    # held-out measurement at 7022d3b; f 0.824, measured before its rules at b1ff7f8;
    # g 0.841, its one held-out measurement at 7b92bde; h 0.803, measured before its rules at 751429e;
    # i 0.806, its one held-out measurement at db5b0b8; j 0.761, k 0.641 and l 0.706, measured before their
    # rules at e3eaa74). Sets k and l hold precision 0.9 and 0.89 on purpose: k's three false alarms and l's four
    # are the escalation list (霍乱, 鼠疫, 炭疽 with counts below their rows), a plan's response level (Ⅱ级应急响应)
    # and an 约 loss widened past a bound, all the stricter clock by design (docs/classifier.md). m 0.844: its one
    # held-out measurement at 3564b0e; n 0.829, its one held-out measurement at 3c997c5; o 0.781, its one
    # held-out measurement at 92adde5.
    (PROBES / "a", 0.9, 0.95), (PROBES / "b", 0.9, 0.95), (PROBES / "c", 0.9, 0.864), (PROBES / "d", 0.9, 0.765),
    (PROBES / "e", 0.9, 0.817), (PROBES / "f", 0.9, 0.824), (PROBES / "g", 0.9, 0.841),
    (PROBES / "h", 0.9, 0.803), (PROBES / "i", 0.9, 0.806), (PROBES / "j", 0.9, 0.761), (PROBES / "k", 0.9, 0.641),
    (PROBES / "l", 0.89, 0.706), (PROBES / "m", 0.9, 0.844), (PROBES / "n", 0.9, 0.829),
    (PROBES / "o", 0.9, 0.781),
    (None, 0.9, 0.95),  # the development corpus, outside the repository: RESPONDER_CORPUS
]


def test_every_probe_set_is_checked():
    """A new probe set under bench/probes joins the no-missed-5-hour-report check."""
    on_disk = {p.name for p in PROBES.iterdir() if (p / "labels.jsonl").is_file()}
    assert on_disk == {p.name for p, _, _ in SETS if p is not None and p.parent == PROBES}


@pytest.mark.parametrize("root,precision,accuracy", SETS, ids=["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "dev"])
def test_no_five_hour_report_is_missed(root, precision, accuracy):
    """On every probe set and the dev corpus: 5-hour recall 1.00, precision and level accuracy held."""
    root = root or corpus.corpus_dir()
    assert (root / "labels.jsonl").is_file(), f"{root} has no labels.jsonl"
    items = bench.load_corpus(root)
    clf = load_default()
    decisions = [clf.classify(r["title"], r["body"], reported=r["reported"]) for r in items]
    s = bench.score(items, [(d.level, d.clock == "5h") for d in decisions])
    assert s["scored"] >= 40
    assert s["five_hour_recall"] == 1.0, s
    assert s["five_hour_precision"] >= precision and s["level_accuracy"] >= accuracy, s
