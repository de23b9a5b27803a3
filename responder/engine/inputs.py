"""What the engine reads from the settings, each read once: the policies, the channels, the classifier.

The policy file is re-read when its modification time changes (an operator's
edit takes effect on the next pass, ``responder reload`` or not); the
classifier is built once per set of data files because building it (and
jieba's dictionary) takes seconds. Reading these is the shell's business, so
they live here and not in the pure ``policy`` and ``rules`` modules.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from responder.config.notify import channels_on
from responder.timeutil import to_beijing
from responder.engine.policy import Policies, load_policies


@lru_cache(maxsize=8)
def _policies_cached(path: str, mtime: float) -> Policies:
    return load_policies(path)


def policies_for(settings: Any) -> Policies:
    p = Path(settings.data_paths["policies"])
    return _policies_cached(str(p), p.stat().st_mtime)


def channels_for(settings: Any) -> list[str]:
    return channels_on(settings.file.notify)  # the one rule, shared with the dispatcher and the loader


Classify = Callable[..., Any]


def reported_on(item: Any):
    """The Beijing date an item was published (or first seen): the classifier sets aside tolls dated months
    before it (2016年11月3日…12名矿工遇难 in a 2026 feature)."""
    at = getattr(item, "published_at", None) or getattr(item, "first_seen_at", None)
    return to_beijing(at).date() if at is not None else None


def default_classifier(settings: Any) -> Classify:
    """The configured classifier's ``classify``, built once per set of data files."""
    p = settings.data_paths
    c = cached_classifier(str(p["thresholds"]), str(p["routing"]), str(p["domains"]))
    return c.classify


@lru_cache(maxsize=4)
def cached_classifier(thresholds: str, routing: str, domains: str) -> Any:
    from responder.classify import Classifier  # importing it costs most of a second: paid only by those that classify

    return Classifier.from_paths(Path(thresholds), Path(routing), Path(domains))
