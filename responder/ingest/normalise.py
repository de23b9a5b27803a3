"""Text normalisation and the keys used to recognise the same story.

A repost changes the surface (full-width digits, Chinese vs ASCII punctuation,
spacing, a "转发：" prefix, HTML markup) but not the words; the keys below are
built so that those changes vanish and the words remain.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from html.parser import HTMLParser

_REPOST_PREFIX = re.compile(r"^(?:转发|转载|转自|转|re|fw|fwd)[\s:：]+", re.I)
_WS = re.compile(r"\s+")
_TAGGY = re.compile(r"<[A-Za-z!/]")
_BLOCK = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "blockquote"}

MIN_TITLE_KEY = 6
"""A normalised title shorter than this ("通知", "公告") says nothing about the story."""
MIN_TEXT_KEY = 20


class _TextOnly(HTMLParser):
    """Collects text nodes; scripts and styles are dropped, markup is never kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


_BAD_CHARS = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def scrub(value: str) -> tuple[str, int, int]:
    """(text that every encoder and database accepts, lone surrogates replaced, control characters dropped).

    Scrapers emit lone surrogates (``"\\ud83d"``, half an emoji) that JSON allows and
    UTF-8 cannot encode: kept, one such title made every poll of its source fail
    (issue 13). They become U+FFFD so the reader sees where text was lost; C0/C1
    control characters (never text, and NUL is refused by PostgreSQL) are dropped.
    """
    if not _BAD_CHARS.search(value):
        return value, 0, 0
    surrogates = controls = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal surrogates, controls
        if "\ud800" <= m.group(0) <= "\udfff":
            surrogates += 1
            return "\ufffd"
        controls += 1
        return ""

    return _BAD_CHARS.sub(sub, value), surrogates, controls


def scrub_text(value: str) -> str:
    """:func:`scrub` without the counts, for messages that quote feed text."""
    return scrub(value)[0]


def plain_text(value: str | None) -> str:
    """Feed HTML as plain text: we store and show text, never feed markup."""
    if not value:
        return ""
    if _TAGGY.search(value):
        p = _TextOnly()
        try:
            p.feed(value)
            p.close()
            value = "".join(p.parts)
        except Exception:  # HTMLParser is lenient; this is belt and braces for untrusted input
            value = re.sub(r"<[^>]*>", " ", value)
    else:
        value = html.unescape(value)
    value = value.replace("\x00", "")
    lines = [_WS.sub(" ", ln).strip() for ln in value.splitlines()]
    return "\n".join(ln for ln in lines if ln)


def one_line(value: str | None) -> str:
    return _WS.sub(" ", plain_text(value)).strip()


def squeeze(value: str) -> str:
    """NFKC, lower case, no punctuation, symbols or whitespace: what is left is the words."""
    s = unicodedata.normalize("NFKC", value).lower()
    return "".join(ch for ch in s if unicodedata.category(ch)[0] in "LN")


def title_key(title: str) -> str:
    t = unicodedata.normalize("NFKC", title or "").strip()
    while True:
        stripped = _REPOST_PREFIX.sub("", t, count=1)
        if stripped == t:
            break
        t = stripped
    return squeeze(t)[:500]


def content_hash(title: str, text: str) -> str:
    """Same words in the body (or, for a short body, title and body) → same hash."""
    body = squeeze(text or "")
    basis = body if len(body) >= MIN_TEXT_KEY else title_key(title) + "|" + body
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


def short_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
