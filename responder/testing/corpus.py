"""Where the development corpus is, for the tests that need it.

The corpus (labelled reports, corpus/dev) is not part of the repository: it
belongs to the field's shared material. A clone on a new machine has no corpus,
so the tests that need one find it through ``RESPONDER_CORPUS`` (the corpus/dev
directory) and skip with a loud reason when it is unset; CI sets it and also
sets ``RESPONDER_REQUIRE_ALL=1``, under which a missing corpus is a failure, so
CI skips nothing. Never a path relative to the checkout: that would reach
outside the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "RESPONDER_CORPUS"


def configured() -> Path | None:
    """The corpus directory named by ``RESPONDER_CORPUS``, or None when it is unset or empty."""
    value = os.environ.get(ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None


def problem() -> str | None:
    """Why the corpus cannot be used (None when it can): unset, or not a corpus directory."""
    root = configured()
    if root is None:
        return f"{ENV} is unset (set it to the corpus/dev directory to run the corpus tests)"
    if not (root / "labels.jsonl").is_file() or not (root / "texts").is_dir():
        return f"{ENV}={root} is not a corpus directory (no labels.jsonl and texts/)"
    return None


def must_run() -> bool:
    """A missing corpus fails rather than skips: CI (RESPONDER_REQUIRE_ALL=1), or the variable set but wrong."""
    return os.environ.get("RESPONDER_REQUIRE_ALL") == "1" or configured() is not None


def corpus_dir() -> Path:
    """The corpus directory, or skip the calling test LOUDLY; a failure under RESPONDER_REQUIRE_ALL=1.

    A misnamed directory is never a skip: someone who set the variable meant to run these tests.
    """
    import pytest

    why = problem()
    if why is None:
        root = configured()
        assert root is not None
        return root
    if must_run():
        pytest.fail(f"corpus test cannot run: {why}", pytrace=False)
    pytest.skip(f"SKIPPED corpus test: {why}")
