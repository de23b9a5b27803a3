"""Severity, category and routing of one public-opinion item (see classifier.py for how it decides).

The package's face: callers import from here. The body lives in ``classifier`` (the decision),
``cues`` (what the text answers: closures, rescues, felt-far-away quakes), ``extract`` (facts),
``numerals``, ``grade`` (thresholds) and ``route`` (kinds and departments).
"""

from responder.data import DataError

from .classifier import Classifier, ClassifyError, Decision, default_paths, load_default, parse_level
from .grade import LEVEL_NAMES

__all__ = ["Decision", "Classifier", "ClassifyError", "load_default", "parse_level", "LEVEL_NAMES", "DataError",
           "default_paths"]
