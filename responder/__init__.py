"""responder: keeps a county government's public-opinion response promises.

The package is split into a functional core (pure functions that take ``now``
as a parameter) and an imperative shell (database, network, clock, scheduler).
See ``docs/architecture.md``.
"""

__version__ = "0.1.0"
