"""The Prometheus endpoint serves figures read from the database."""

from __future__ import annotations

import datetime as dt

import httpx

from responder import engine as eng
from responder.service.metrics import DatabaseCollector
from responder.testing.engine import add_item, make_test_settings
from responder.testing.smtp import free_port

UTC = dt.timezone.utc


def test_metrics_endpoint_reports_open_cases_overdue_and_sources(sqlite_engine, tmp_path):
    """Open cases by level, overdue clocks and per-source health appear on a loopback HTTP endpoint."""
    from prometheus_client import CollectorRegistry, start_http_server

    s = make_test_settings(tmp_path)
    now = dt.datetime.now(UTC)
    add_item(sqlite_engine, title="网友反映仁里镇中心小学乱收费", text="家长反映学校收费", published_at=now - dt.timedelta(hours=60),
             first_seen_at=now)
    eng.open_cases(sqlite_engine, s, now)
    reg = CollectorRegistry()
    reg.register(DatabaseCollector(sqlite_engine))
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=reg)
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.shutdown()
    assert 'responder_open_cases{level="none"} 1.0' in text
    assert "responder_overdue_clocks 1.0" in text
    assert 'responder_source_consecutive_failures{source="test-opinion"} 0.0' in text
