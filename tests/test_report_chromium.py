"""The HTML log renders in headless Chromium: a PNG screenshot and an A4 PDF of a few pages.

Chromium is required (Debian package ``chromium``). If it is missing this test
FAILS with a clear message; set RESPONDER_SKIP_CHROMIUM=1 to skip it explicitly
(the skip is then reported).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session

from responder.report import render_weekly, weekly_figures
from responder.testing.engine import make_test_settings
from test_report_weekly import WEEK_END, WEEK_START, build_week

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MAX_PAGES = 5


def chromium() -> str:
    if os.environ.get("RESPONDER_SKIP_CHROMIUM") == "1":
        pytest.skip("headless Chromium test skipped explicitly (RESPONDER_SKIP_CHROMIUM=1)")
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is required for this test: `apt-get install -y chromium` "
                "(or set RESPONDER_SKIP_CHROMIUM=1 to skip it explicitly)")


def run_chromium(binary: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{len(list(tmp.iterdir()))}"
    profile.mkdir()
    return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=120)


def test_html_log_renders_to_png_and_a4_pdf(sqlite_engine, tmp_path):
    """Chromium screenshots the week's log (a real PNG of the A4-wide window) and prints it to a short A4 PDF."""
    binary = chromium()
    settings = make_test_settings(tmp_path)
    build_week(sqlite_engine, settings)
    with Session(sqlite_engine) as s:
        f = weekly_figures(s, settings, WEEK_START, WEEK_END)
    page = tmp_path / "weekly-2022-W30.html"
    page.write_bytes(render_weekly(f, "html")["weekly-2022-W30.html"])
    png, pdf = tmp_path / "weekly.png", tmp_path / "weekly.pdf"
    r = run_chromium(binary, tmp_path, f"--screenshot={png}", "--window-size=1240,1754", page.as_uri())
    assert png.exists(), f"no screenshot; chromium said: {r.stderr[-2000:]}"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1240, 1754)
    r = run_chromium(binary, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    assert pdf.exists(), f"no PDF; chromium said: {r.stderr[-2000:]}"
    raw = pdf.read_bytes()
    assert raw.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", raw))
    assert 1 <= pages <= MAX_PAGES, pages
    keep = os.environ.get("RESPONDER_KEEP_RENDER")
    if keep:  # for a human to look at: RESPONDER_KEEP_RENDER=/tmp/x pytest …
        Path(keep).mkdir(parents=True, exist_ok=True)
        for p in (png, pdf, page):
            shutil.copy(p, Path(keep) / p.name)
