"""The corpus location: RESPONDER_CORPUS or a loud skip; never a skip where the corpus was required or named."""

from __future__ import annotations

import pytest

from responder.testing import corpus


def _corpus(tmp_path):
    (tmp_path / "texts").mkdir()
    (tmp_path / "labels.jsonl").write_text("", encoding="utf-8")
    return tmp_path


def test_the_variable_names_the_corpus(tmp_path, monkeypatch):
    """A corpus directory named by RESPONDER_CORPUS is returned as it is."""
    monkeypatch.setenv("RESPONDER_CORPUS", str(_corpus(tmp_path)))
    monkeypatch.delenv("RESPONDER_REQUIRE_ALL", raising=False)
    assert corpus.corpus_dir() == tmp_path.resolve()
    assert corpus.problem() is None


def test_unset_skips_and_says_why(monkeypatch):
    """Unset, the test is skipped with a reason naming the variable."""
    monkeypatch.delenv("RESPONDER_CORPUS", raising=False)
    monkeypatch.delenv("RESPONDER_REQUIRE_ALL", raising=False)
    with pytest.raises(pytest.skip.Exception, match="RESPONDER_CORPUS is unset"):
        corpus.corpus_dir()


def test_required_fails_instead_of_skipping(monkeypatch):
    """Under RESPONDER_REQUIRE_ALL=1 (CI) a missing corpus is a failure."""
    monkeypatch.delenv("RESPONDER_CORPUS", raising=False)
    monkeypatch.setenv("RESPONDER_REQUIRE_ALL", "1")
    with pytest.raises(pytest.fail.Exception, match="RESPONDER_CORPUS is unset"):
        corpus.corpus_dir()


def test_a_wrong_directory_fails(tmp_path, monkeypatch):
    """A variable that names no corpus is a mistake to report, not a reason to skip."""
    monkeypatch.setenv("RESPONDER_CORPUS", str(tmp_path / "nowhere"))
    monkeypatch.delenv("RESPONDER_REQUIRE_ALL", raising=False)
    with pytest.raises(pytest.fail.Exception, match="not a corpus directory"):
        corpus.corpus_dir()
