"""Configuration of feed sources: where to poll, how often, and how to read a JSON feed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SourceKind = Literal["rss", "atom", "feed", "json", "jsonfeed", "file", "push"]
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


class PushConfig(BaseModel):
    """How a vendor that pushes items (``kind = "push"``, ``POST /intake/<name>``) proves it is that vendor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auth: Literal["bearer", "hmac"] = "bearer"
    """``bearer``: ``Authorization: Bearer <secret>``; ``hmac``: hex HMAC-SHA256 of the raw body in ``header``."""
    key_secret: str = Field(min_length=1)
    """Name of the secret (``$RESPONDER_<NAME>`` or a systemd credential) holding the token or HMAC key."""
    header: str = "X-Signature"
    """Header carrying the HMAC (``sha256=<hex>`` or bare hex), for ``auth = "hmac"``."""
    max_bytes: int = Field(default=1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    """Largest accepted body; a larger one is refused (413) before it is read whole."""


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    kind: SourceKind
    url: str = ""
    """http(s) URL, or a local file/directory path (relative to the config file) for kind ``file``; none for ``push``."""
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
    push: PushConfig | None = None
    """For ``kind = "push"`` (issue 17): never polled; items arrive at ``POST /intake/<name>``."""

    @model_validator(mode="after")
    def _mapping_only_for_json(self) -> "SourceConfig":
        if self.mapping is not None and self.kind not in ("json", "jsonfeed", "file", "push"):
            raise ValueError("`mapping` applies only to kind json/jsonfeed/file/push")
        if self.kind == "push" and self.push is None:
            raise ValueError('kind "push" needs a `push` table: auth ("bearer"/"hmac") and key_secret')
        if self.kind != "push" and self.push is not None:
            raise ValueError('`push` applies only to kind "push"')
        if self.kind != "push" and not self.url:
            raise ValueError("`url` is required (except for kind push)")
        return self

    @property
    def polled(self) -> bool:
        """Pushed sources are never fetched: the vendor calls us."""
        return self.enabled and self.kind != "push"
