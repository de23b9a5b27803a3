"""The clocks engine: cases, their obligations, and the pass that takes due steps.

One module per concern: ``advance`` (the pass: claim due clocks, take their
steps), ``intake`` (new items become cases, joins and releases), ``cases``
(case changes), ``releases`` (recording releases, the clocks they stop),
``clocks`` (start, stop, bump a generation), ``selfcheck``, ``inputs`` (policies,
channels and the classifier read from the settings). The pure rules are
``rules``, ``ladder``, ``matching``, ``policy``, ``places`` and
``event_identity``; ``handlers`` is the contract and the table of obligations.
This face re-exports what the rest of responder calls.
"""

from responder.engine.advance import AdvanceResult, advance, next_due_at
from responder.engine.cases import ack_case, close_case, create_case, reclassify, unjoin_item
from responder.engine.inputs import policies_for
from responder.engine.intake import OpenResult, open_cases
from responder.engine.releases import decide_proposal, record_release
from responder.engine.rules import EngineError
from responder.engine.selfcheck import self_check

__all__ = [
    "AdvanceResult", "EngineError", "OpenResult", "ack_case", "advance", "close_case", "create_case",
    "decide_proposal", "next_due_at", "open_cases", "policies_for", "reclassify", "record_release", "self_check",
    "unjoin_item",
]
