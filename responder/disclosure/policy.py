"""Policies of the working-day obligations, read from ``policies.toml`` (``[requests]``, ``[inquiry]``).

Kept beside the engine's response policies (same file, same ladders) so an
office sees every deadline it owes in one place; kept in their own models so
that a policies file without these sections still loads (built-in defaults,
with the numbers of the 条例).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_REQUEST_LADDER: dict[str, Any] = {
    "steps": [
        {"kind": "case_opened", "at": {"after_start_s": 0}, "roles": ["liaison"], "office_roles": ["liaison"]},
        {"kind": "reminder", "at": {"left": 0.5}, "roles": ["liaison"], "office_roles": ["liaison"]},
        {"kind": "final_warning", "at": {"offset_s": -3 * 86400}, "roles": ["liaison", "deputy"],
         "office_roles": ["liaison", "deputy"]},
        {"kind": "overdue", "at": {"offset_s": 0}, "roles": ["liaison", "deputy", "principal"],
         "office_roles": ["liaison", "deputy", "principal"]},
    ],
    "repeat": {"kind": "repeat_overdue", "every_s": 86400, "max": 30, "roles": ["deputy", "principal"],
               "office_roles": ["deputy", "principal"]},
}
DEFAULT_INQUIRY_LADDER: dict[str, Any] = {
    "steps": [
        {"kind": "reminder", "at": {"left": 0.5}, "roles": ["liaison"]},
        {"kind": "final_warning", "at": {"offset_s": -86400}, "roles": ["liaison", "deputy"], "office_roles": ["liaison"]},
        {"kind": "overdue", "at": {"offset_s": 0}, "roles": ["liaison", "deputy", "principal"], "office_roles": ["liaison", "deputy"]},
    ],
    "repeat": {"kind": "repeat_overdue", "every_s": 86400, "max": 10, "roles": ["deputy"], "office_roles": ["deputy"]},
}


class RequestsPolicy(BaseModel):
    """依申请公开 (政府信息公开条例, 国务院令第711号)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    answer_days: int = Field(default=20, ge=1, le=60)
    """第33条: 20 个工作日 after receipt."""
    extension_max_days: int = Field(default=20, ge=0, le=60)
    """第33条: an approved extension adds at most 20 个工作日."""
    correction_notice_days: int = Field(default=7, ge=1, le=30)
    """第30条: the 补正 notice within 7 个工作日 of receipt."""
    consultation_days: int = Field(default=15, ge=1, le=60)
    """第32、34条: a third party or another agency has 15 个工作日 to give its opinion."""
    label: str = "依申请公开：20个工作日内答复"
    basis: str = "《政府信息公开条例》第33条：收到申请之日起20个工作日内予以答复；延长不超过20个工作日；征求第三方和其他机关意见所需时间不计算在内"
    unit: str | None = None
    """The unit that answers (its contacts get the ladder's ``roles``); default: the office (service.office_unit)."""
    ladder: str = "request"
    urgent: bool = False
    calendar_dir: str = "calendar"
    """Local per-year calendar files, relative to policies.toml."""


class InquiryPolicy(BaseModel):
    """网民留言、热线工单 from ``inquiry`` sources: a local rule, not a national one."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    answer_days: int = Field(default=5, ge=1, le=60)
    label: str = "网民留言、热线工单：5个工作日内答复"
    basis: str = "本县规定（待县政务公开办确认）：网民留言、12345热线工单5个工作日内答复"
    satisfied_by: list[str] = Field(default_factory=lambda: ["回应"])
    ladder: str = "inquiry"
    urgent: bool = False
    enabled: bool = True
