"""Response policies as data (``config/policies.toml``), loaded into frozen values.

A policy turns a case's clock class (``5h``/``48h``) into obligations; a clock
stores :meth:`Policies.snapshot` of its policy when it starts, so what governs a
running obligation is the snapshot, never the current file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from responder.data import ROLES, DataError, read_toml
from responder.disclosure.policy import InquiryPolicy, RequestsPolicy

RELEASE_KINDS = ("权威发布", "新闻发布会", "吹风会", "媒体采访", "回应")
"""What can stop a clock (rules.md §1.5: AUTHORITATIVE_INFO, PRESS_CONFERENCE, BRIEFING, MEDIA_INTERVIEW, plus 回应)."""

Role = Literal["liaison", "deputy", "principal"]


class StepAt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    after_start_s: int | None = Field(default=None, ge=0)
    left: float | None = Field(default=None, ge=0, le=1)
    offset_s: int | None = None
    utc: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "StepAt":
        given = [k for k in ("after_start_s", "left", "offset_s", "utc") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("`at` needs exactly one of after_start_s, left, offset_s, utc")
        return self


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str
    at: StepAt
    roles: list[Role] = Field(default_factory=list)
    co_roles: list[Role] = Field(default_factory=list)
    office_roles: list[Role] = Field(default_factory=list)


class Repeat(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str = "repeat_overdue"
    every_s: int = Field(ge=60)
    max: int = Field(default=24, ge=1)
    roles: list[Role] = Field(default_factory=list)
    co_roles: list[Role] = Field(default_factory=list)
    office_roles: list[Role] = Field(default_factory=list)


class Ladder(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    steps: list[Step]
    repeat: Repeat | None = None


class PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    clock_class: Literal["5h", "48h"]
    obligation: str
    label: str
    deadline_hours: float = Field(gt=0)
    basis: str
    satisfied_by: list[str]
    urgent: bool = False
    ladder: str

    @model_validator(mode="after")
    def _kinds(self) -> "PolicyModel":
        bad = [k for k in self.satisfied_by if k not in RELEASE_KINDS]
        if bad:
            raise ValueError(f"satisfied_by: unknown release kind(s) {bad}; known: {', '.join(RELEASE_KINDS)}")
        return self


class ContinuedModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    cadence_hours: float = Field(default=24, gt=0)
    label: str = "持续发布权威信息"
    basis: str = "国办发〔2016〕61号、80号"
    satisfied_by: list[str] = Field(default_factory=lambda: list(RELEASE_KINDS[:4]))
    urgent: bool = False
    ladder: str = "continued"


class StartModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    basis: Literal["first_report", "first_seen", "event"] = "first_report"
    future_tolerance_s: int = Field(default=600, ge=0)
    upgrade_start: Literal["upgrade", "original"] = "upgrade"


class ReviewModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    roles: list[Role] = Field(default_factory=lambda: ["liaison", "deputy"])


class PoliciesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    start: StartModel = Field(default_factory=StartModel)
    policy: list[PolicyModel]
    continued_release: ContinuedModel = Field(default_factory=ContinuedModel)
    ladder: dict[str, Ladder]
    review: ReviewModel = Field(default_factory=ReviewModel)
    requests: RequestsPolicy | None = None
    inquiry: InquiryPolicy | None = None

    @model_validator(mode="after")
    def _refs(self) -> "PoliciesFile":
        for sec, wd in (("requests", self.requests), ("inquiry", self.inquiry)):
            if wd is not None and wd.ladder not in self.ladder:
                raise ValueError(f"{sec}: ladder {wd.ladder!r} is not defined under [ladder.*]")
        for p in self.policy:
            if p.ladder not in self.ladder:
                raise ValueError(f"policy {p.name!r}: ladder {p.ladder!r} is not defined under [ladder.*]")
        if self.continued_release.ladder not in self.ladder:
            raise ValueError(f"continued_release: ladder {self.continued_release.ladder!r} is not defined")
        for cls in ("5h", "48h"):
            if not any(p.clock_class == cls for p in self.policy):
                raise ValueError(f"no policy for clock_class {cls!r}: every case must get a clock")
        return self


@dataclass(frozen=True)
class Policies:
    file: PoliciesFile
    path: Path

    @property
    def start(self) -> StartModel:
        return self.file.start

    def for_class(self, clock_class: str) -> list[PolicyModel]:
        return [p for p in self.file.policy if p.clock_class == clock_class]

    def snapshot(self, p: PolicyModel, channels: list[str]) -> dict[str, Any]:
        ladder = self.file.ladder[p.ladder]
        return {
            "name": p.name, "obligation": p.obligation, "label": p.label, "basis": p.basis,
            "deadline_s": int(p.deadline_hours * 3600), "satisfied_by": list(p.satisfied_by), "urgent": p.urgent,
            "channels": list(channels), "clock_class": p.clock_class,
            "ladder": [s.model_dump(exclude_none=True) | {"at": s.at.model_dump(exclude_none=True)} for s in ladder.steps],
            "repeat": ladder.repeat.model_dump() if ladder.repeat else None,
            "version": 1,
        }

    def continued_snapshot(self, channels: list[str]) -> dict[str, Any]:
        c = self.file.continued_release
        ladder = self.file.ladder[c.ladder]
        return {
            "name": "continued_release", "obligation": "continued_release", "label": c.label, "basis": c.basis,
            "deadline_s": int(c.cadence_hours * 3600), "satisfied_by": list(c.satisfied_by), "urgent": c.urgent,
            "channels": list(channels), "clock_class": "5h",
            "ladder": [s.model_dump(exclude_none=True) | {"at": s.at.model_dump(exclude_none=True)} for s in ladder.steps],
            "repeat": ladder.repeat.model_dump() if ladder.repeat else None,
            "version": 1,
        }


def load_policies(path: str | Path) -> Policies:
    path = Path(path)
    raw = read_toml(path)
    try:
        return Policies(PoliciesFile.model_validate(raw), path)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e["loc"])
            msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
            lines.append(f"{path}: {loc}: {msg}")
        raise DataError("; ".join(lines)) from None


assert set(ROLES) == {"liaison", "deputy", "principal"}
