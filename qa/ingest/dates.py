"""Publication dates written the ways news pages write them, normalised to ISO 8601."""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_ISO = (
    r"(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)"
    r"(?:[T ][0-2]\d:[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-][0-2]\d:?[0-5]\d)?)?"
)
_PATTERNS = [
    re.compile(_ISO),
    re.compile(rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}", re.IGNORECASE),  # September 25, 2018
    re.compile(rf"{_DAY}\s+{_MONTH},?\s+{_YEAR}", re.IGNORECASE),  # 25 September 2018
]
_TIME = r"(?:\s*(?:at\s+)?[0-2]?\d:[0-5]\d(?::[0-5]\d)?\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?)?"
DATE_PATTERN = (
    "(?:"
    + "|".join(
        pattern.pattern.replace("?P<year>", "?:").replace("?P<month>", "?:").replace("?P<day>", "?:")
        for pattern in _PATTERNS
    )
    + ")"
    + _TIME
)


def _to_iso(match: re.Match[str]) -> str | None:
    month_text = match.group("month").lower().rstrip(".")
    month = int(month_text) if month_text.isdigit() else _MONTHS[month_text]
    try:
        return dt.date(int(match.group("year")), month, int(match.group("day"))).isoformat()
    except ValueError:
        return None


def find_date(text: str) -> str | None:
    """The first real calendar date written in ``text``, as ``YYYY-MM-DD``; None if there is none."""
    found = [(m.start(), m) for pattern in _PATTERNS for m in pattern.finditer(text)]
    for _, match in sorted(found, key=lambda item: item[0]):
        iso = _to_iso(match)
        if iso:
            return iso
    return None


def normalize_date(value: object) -> str | None:
    """Normalise a metadata value (string, date or datetime) to ``YYYY-MM-DD``; None if unparseable."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return find_date(str(value))
