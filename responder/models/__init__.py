"""All tables. Import from here; each module belongs to one capability (see its docstring)."""

from sqlmodel import SQLModel

from responder.models.audit import AuditEvent, Meta
from responder.models.cases import Case, Clock, ClockStep, Release
from responder.models.ingest import Item, Source
from responder.models.links import MessageLink, RecipientAck, ReplyCode, SmsReply
from responder.models.outbox import DeliveryAttempt, OutboxMessage
from responder.models.plan import PlanCompletion, PlanExperience
from responder.models.reports import LedgerReport, WeeklyReport
from responder.models.requests import DisclosureRequest
from responder.models.types import UtcDateTime
from responder.models.web import LoginAttempt, WebUser

metadata = SQLModel.metadata

__all__ = [
    "AuditEvent", "Case", "Clock", "ClockStep", "DeliveryAttempt", "DisclosureRequest", "Item", "LedgerReport",
    "LoginAttempt", "MessageLink", "Meta", "OutboxMessage", "PlanCompletion", "PlanExperience", "RecipientAck", "Release",
    "ReplyCode", "SmsReply", "Source", "UtcDateTime", "WebUser", "WeeklyReport", "metadata",
]
