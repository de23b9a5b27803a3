"""Test helpers shipped in the package (as structlog ships ``structlog.testing``).

They are real parts, not mocks: migrated databases, loopback servers, sinks.
The demo uses some of them too (the SMTP sink, the SMS gateway stub).
"""
