"""The clocks engine (issue 5): see ``core`` for the design, ``handlers`` for the contract."""

from responder.engine.core import (
    AdvanceResult, EngineError, OpenResult, ack_case, advance, close_case, create_case, decide_proposal,
    next_due_at, open_cases, policies_for, reclassify, record_release, self_check,
)

__all__ = [
    "AdvanceResult", "EngineError", "OpenResult", "ack_case", "advance", "close_case", "create_case",
    "decide_proposal", "next_due_at", "open_cases", "policies_for", "reclassify", "record_release", "self_check",
]
