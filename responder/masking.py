"""Masking of personal numbers that arrive inside feed text.

Feed items quote people: a complainant's mobile number or resident ID number
can sit in a title. Messages and logs leave the county's systems (SMS
platforms, mail servers, journald), so such numbers are masked before they are
rendered or logged — the office can still see the original in the case record.
Pure functions, no I/O.
"""

from __future__ import annotations

import re
from typing import Any

# 18-digit resident ID (GB 11643-1999): 6-digit region, 8-digit birth date, 3 digits, check digit or X.
_ID18 = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3})([0-9Xx])(?![0-9A-Za-z])")
# Legacy 15-digit ID: 6-digit region, yymmdd, 3 digits.
_ID15 = re.compile(r"(?<!\d)([1-9]\d{5})(\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3})(?!\d)")
# Mainland mobile, optionally +86/0086/86 prefixed and with spaces or dashes as 3-4-4.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86|0086)[\s\-]?)?(1[3-9]\d)[\s\-]?(\d{4})[\s\-]?(\d{4})(?!\d)")
# Landline with area code: 0xx(x)-xxxxxxx(x).
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s\-]?(\d{3,4})(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """Mask mobile, landline and resident ID numbers in ``text``; leave everything else as it was.

    IDs first: an 18-digit ID contains 11-digit runs that would otherwise be
    taken for a mobile number and masked only half-way.
    """
    if not text:
        return text
    s = _ID18.sub(lambda m: m.group(1)[:4] + "*" * 12 + m.group(3)[-1:] + m.group(4).upper(), text)
    s = _ID15.sub(lambda m: m.group(1)[:4] + "*" * 8 + m.group(3), s)
    s = _MOBILE.sub(lambda m: (m.group(1) or "") + m.group(2) + "****" + m.group(4), s)
    s = _LANDLINE.sub(lambda m: m.group(1) + "-" + "*" * len(m.group(2)) + m.group(3), s)
    return s


UNMASKED_KEYS = frozenset({"url", "path", "html", "started_at", "deadline_at", "phase_end", "week", "period"})
"""Context keys that carry our own links, paths, rendered HTML or timestamps, never feed text."""


def mask_value(value: Any, _key: str = "") -> Any:
    """Mask every string inside a JSON-like value (dicts, lists), except keys in :data:`UNMASKED_KEYS`."""
    if isinstance(value, str):
        return value if _key in UNMASKED_KEYS else mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v, _key) for v in value]
    return value
