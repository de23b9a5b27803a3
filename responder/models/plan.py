"""Implementation-plan progress (issue 7): requirement completion and featured experiences.

The plan itself (phases, tasks, requirements, units) is data in ``config/plan.toml``;
only what people record lives here. Reminders are ordinary :class:`Clock` rows with
``obligation = 'plan_phase'``, driven by the same engine as the response clocks.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from responder.models.common import utc_required


class PlanCompletion(SQLModel, table=True):
    __tablename__ = "plan_completion"
    __table_args__ = (UniqueConstraint("plan_id", "unit_id", "requirement", name="uq_plan_completion"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: str = Field(max_length=40)
    unit_id: str = Field(max_length=100, index=True)
    requirement: str = Field(max_length=20)
    """Requirement number as the plan spells it: ``23`` or ``21.2``."""
    done_at: dt.datetime = utc_required()
    evidence: str | None = None
    note: str | None = None
    recorded_by: str = "operator"
    recorded_at: dt.datetime = utc_required()


class PlanExperience(SQLModel, table=True):
    __tablename__ = "plan_experience"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: str = Field(max_length=40)
    unit_id: str = Field(max_length=100, index=True)
    title: str
    url: str
    recorded_by: str = "operator"
    recorded_at: dt.datetime = utc_required()
