"""Feed ingestion (issue 3): RSS/Atom/JSON/files → deduplicated, normalised items.

Functional core: :mod:`parse` (bytes → items), :mod:`dates`, :mod:`normalise`,
:mod:`decide` (duplicate / attach / backoff decisions). Imperative shell:
:mod:`fetch` (HTTP and files), :mod:`store` (SQL), :mod:`poll` (one poll, a round).
See ``docs/ingest.md``.
"""

from responder.ingest.decide import Decision, settle_dates
from responder.ingest.fetch import FetchedDoc, FetchResult, fetch, fetch_url, make_client, read_path
from responder.ingest.parse import ParsedItem, ParseResult, parse_feed, sniff_kind
from responder.ingest.poll import analyse, ingest_fetched, poll_due, poll_source
from responder.ingest.store import ItemOutcome, PollReport, load_states, sync_sources

__all__ = [
    "Decision", "FetchResult", "FetchedDoc", "ItemOutcome", "ParseResult", "ParsedItem", "PollReport", "analyse",
    "fetch", "fetch_url", "ingest_fetched", "load_states", "make_client", "parse_feed", "poll_due", "poll_source",
    "read_path", "settle_dates", "sniff_kind", "sync_sources",
]
