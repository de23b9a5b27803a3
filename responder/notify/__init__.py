"""The notify wing: everything an SMS, e-mail or robot message passes through.

``enqueue`` writes the rows inside the state change's transaction; ``decide``
holds the pure decisions (quiet hours, backoff, limits, digests, the provider
message); ``dispatch`` is the shell that claims, sends and records;
``bundle`` (pure) and ``bundle_store`` put one person's urgent case messages into
one bundle (issue 17); ``attempts`` sends and records one claimed row;
``render`` turns a context into text from the templates; ``channels`` are the
providers behind one contract. It reads like ``ingest/`` (store, decide, poll)
in the other direction. Whether a channel is on is ``config.notify.channel_on``.
"""

from __future__ import annotations

from responder.notify.bundle import BundlePlan, Waiting, bundle_context, plan_bundles
from responder.notify.decide import (
    Candidate,
    backoff_seconds,
    build_outgoing,
    is_urgent,
    parse_quiet_hours,
    plan_batch,
    quiet_until,
    window_free_at,
)
from responder.notify.dispatch import DispatchReport, dispatch_due, next_due_at, reconcile_sending, send_now
from responder.notify.enqueue import enqueue, group_row, idem_key, message_rows
from responder.notify.render import Renderer

__all__ = [
    "BundlePlan", "Candidate", "DispatchReport", "Waiting", "bundle_context", "plan_bundles", "Renderer", "backoff_seconds", "build_outgoing", "dispatch_due", "enqueue",
    "group_row", "idem_key", "is_urgent", "message_rows", "next_due_at", "parse_quiet_hours", "plan_batch",
    "quiet_until", "reconcile_sending", "send_now", "window_free_at",
]
