"""Configuration of feed sources: where to poll, how often, and how to read a JSON feed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SourceKind = Literal["rss", "atom", "feed", "json", "jsonfeed", "file"]
SourceRole = Literal["opinion", "incident", "inquiry", "release", "request"]


class JsonMapping(BaseModel):
    """Where each field lives in a JSON item (dotted paths, e.g. ``data.title``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    items: str = ""
    """Path to the list of items; empty = the document itself is the list (JSON Feed: ``items``)."""
    id: str = "id"
    title: str = "title"
    body: str = "content"
    link: str = "url"
    published: str = "published"
    level: str | None = None
    category: str | None = None


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    kind: SourceKind
    url: str
    """http(s) URL, or a local file/directory path (relative to the config file) for kind ``file``."""
    role: SourceRole
    interval: int = Field(default=600, ge=10, le=86400)
    """Poll interval in seconds."""
    headers: dict[str, str] = Field(default_factory=dict)
    mapping: JsonMapping | None = None
    enabled: bool = True
    timeout: float = Field(default=20.0, gt=0, le=300)
    """Whole-fetch deadline in seconds (connect, headers and body): a slow source is cut off, not waited for."""
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)
    """Cap on the (decompressed) body; what arrived before the cap is still parsed."""

    @model_validator(mode="after")
    def _mapping_only_for_json(self) -> "SourceConfig":
        if self.mapping is not None and self.kind not in ("json", "jsonfeed", "file"):
            raise ValueError("`mapping` applies only to kind json/jsonfeed/file")
        return self
