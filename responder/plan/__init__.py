"""The implementation plan of 石政公办〔2022〕1号 (issue 7): plan data, milestone clocks, progress.

``load_plan`` reads ``plan.toml``; ``schedule_plan`` turns it into engine clocks
(run at every start, idempotent); ``record_done`` / ``record_experience`` record
progress with audit events; ``status_matrix`` and ``plan_progress`` report it.
See docs/plan.md.
"""

from responder.plan.load import PlanError, load_plan
from responder.plan.model import Deliverable, Phase, Plan, PlanUnit, Requirement
from responder.plan.progress import plan_progress, status_matrix
from responder.plan.record import Recorded, record_done, record_experience
from responder.plan.schedule import schedule_plan

__all__ = [
    "Deliverable", "Phase", "Plan", "PlanError", "PlanUnit", "Recorded", "Requirement", "load_plan",
    "plan_progress", "record_done", "record_experience", "schedule_plan", "status_matrix",
]
