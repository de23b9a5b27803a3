"""Helpers for engine tests and the demo: settings on a test database, items as if ingested."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from responder.config import Settings, load, shipped_config_dir
from responder.db import transaction
from responder.models import Item, Source


def make_test_settings(tmp_path: Path, *, extra_toml: str = "", sms: bool = True) -> Settings:
    """The shipped configuration, copied into ``tmp_path`` with a state dir there and SMS on (HTTP gateway)."""
    cfg_dir = tmp_path / "config"
    if not cfg_dir.exists():
        shutil.copytree(shipped_config_dir(), cfg_dir, ignore=shutil.ignore_patterns("responder.toml"))
    text = (shipped_config_dir() / "responder.toml").read_text(encoding="utf-8")
    text = text.replace('state_dir = "../var"', f'state_dir = "{tmp_path / "state"}"')
    text = text.replace('templates = "../templates"', f'templates = "{shipped_config_dir().parent / "templates"}"')
    if sms:
        text = re.sub(r'^provider = "none"', 'provider = "http"\nendpoint = "http://127.0.0.1:9/sms"', text, count=1, flags=re.M)
    text += "\n" + extra_toml
    path = cfg_dir / "responder.toml"
    path.write_text(text, encoding="utf-8")
    return load(path, require_secrets=False)


def add_item(engine: Engine, *, title: str, text: str = "", published_at: dt.datetime | None, first_seen_at: dt.datetime,
             source: str = "test-opinion", role: str = "opinion", link: str | None = None, **kw: Any) -> int:
    """Store an item exactly as ingestion would leave it (status new/release)."""
    with transaction(engine) as s:
        if s.get(Source, source) is None:
            s.add(Source(name=source, kind="file", role=role, url=""))
            s.flush()
        item = Item(source_name=source, role=role, guid=kw.pop("guid", f"{title}|{first_seen_at.isoformat()}"), link=link,
                    title=title, text=text, published_at=published_at,
                    published_source="feed" if published_at else "first_seen", first_seen_at=first_seen_at,
                    status=kw.pop("status", "release" if role == "release" else "new"), **kw)
        s.add(item)
        s.flush()
        return item.id
