"""Prometheus metrics read from the database at scrape time (no state of their own)."""

from __future__ import annotations

from typing import Any

from prometheus_client import start_http_server
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from sqlalchemy import func
from sqlmodel import Session, select

from responder.models import Case, Clock, OutboxMessage, Source
from responder.timeutil import utcnow


class DatabaseCollector:
    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def collect(self):  # noqa: ANN201 - prometheus_client protocol
        now = utcnow()
        with Session(self.engine) as s:
            by_level = s.exec(select(Case.level, func.count()).where(Case.state == "open").group_by(Case.level)).all()
            overdue = s.exec(select(func.count()).select_from(Clock).where(Clock.state == "overdue", Clock.case_id.is_not(None))).one()
            nearest = s.exec(select(func.min(Clock.deadline_at)).where(Clock.state == "running", Clock.case_id.is_not(None))).one()
            sources = s.exec(select(Source)).all()
            backlog = s.exec(select(OutboxMessage.status, func.count()).where(
                OutboxMessage.status.in_(("pending", "sending", "held", "failed"))).group_by(OutboxMessage.status)).all()
            dead = s.exec(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "dead")).one()
        g = GaugeMetricFamily("responder_open_cases", "Open cases by emergency level", labels=["level"])
        for level, n in by_level:
            g.add_metric([level or "none"], n)
        yield g
        yield GaugeMetricFamily("responder_overdue_clocks", "Response clocks past their deadline", value=overdue)
        yield GaugeMetricFamily("responder_seconds_to_next_deadline", "Seconds until the nearest running deadline",
                                value=(nearest - now).total_seconds() if nearest else float("nan"))
        h = GaugeMetricFamily("responder_source_consecutive_failures", "Failed polls in a row", labels=["source"])
        ok = GaugeMetricFamily("responder_source_last_success_age_seconds", "Seconds since the last good poll", labels=["source"])
        for src in sources:
            h.add_metric([src.name], src.consecutive_failures)
            ok.add_metric([src.name], (now - src.last_success_at).total_seconds() if src.last_success_at else float("nan"))
        yield h
        yield ok
        b = GaugeMetricFamily("responder_outbox_backlog", "Messages not yet delivered", labels=["status"])
        for status, n in backlog:
            b.add_metric([status], n)
        yield b
        yield GaugeMetricFamily("responder_delivery_failures", "Messages that permanently failed", value=dead)


def serve(engine: Any, host: str, port: int) -> Any:
    REGISTRY.register(DatabaseCollector(engine))
    return start_http_server(port, addr=host)

