"""Structured logs: one JSON event per line on stdout (journald keeps them), never a secret.

Tiny pure processors, as structlog intends: mask phone and ID numbers that came
from feed text, and replace any configured secret value wherever it appears.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog


def _mask(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    from responder.masking import mask_value

    return {k: mask_value(v, k) for k, v in event.items()}


def _redactor(secrets: list[str]):
    values = [s for s in secrets if s and len(s) >= 4]

    def redact(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        if not values:
            return event
        out = {}
        for k, v in event.items():
            if isinstance(v, str):
                for s in values:
                    v = v.replace(s, "***")
            out[k] = v
        return out

    return redact


class TolerantStream:
    """A log stream whose write never raises: a full disk must not stop a clock.

    structlog's PrintLogger writes straight to the stream, so an ``ENOSPC`` would
    surface inside whatever logged — the engine's pass, a delivery lane — and turn
    a logging problem into a missed deadline. Lines that cannot be written are
    counted; the first line written afterwards says how many were lost.
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.dropped = 0

    def write(self, text: str) -> int:
        try:
            if self.dropped:
                self.stream.write('{"event": "log.lines_dropped", "count": %d, "level": "warning", '
                                  '"reason": "the log could not be written (disk full?)"}\n' % self.dropped)
                self.dropped = 0
            return self.stream.write(text)
        except (OSError, ValueError):
            self.dropped += text.count("\n")
            return 0

    def flush(self) -> None:
        try:
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def configure(level: str = "info", fmt: str = "json", secrets: list[str] | None = None, stream: Any = None) -> None:
    lvl = getattr(logging, level.upper(), logging.INFO)
    stream = TolerantStream(stream or sys.stdout)
    renderer = (structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json"
                else structlog.dev.ConsoleRenderer(colors=False))
    shared = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Libraries and our stdlib loggers come out as the same one-line JSON events.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.format_exc_info,
                    _mask, _redactor(list(secrets or [])), renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(lvl)
    for noisy in ("apscheduler", "httpx", "httpcore", "jieba", "aiosmtpd", "mail.log", "alembic"):
        logging.getLogger(noisy).setLevel(max(lvl, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _mask,
            _redactor(list(secrets or [])),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
