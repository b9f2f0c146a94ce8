"""Article metadata stated in the raw text itself: title, date, author, outlet.

Rules only read what the text says; a value the text does not state stays None.
Lines that only carry metadata (a dateline, a byline, an author bio) are consumed here so
they never become passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.ingest.dates import DATE_PATTERN, find_date

_NAME_WORD = r"[A-Z][\w’'.-]*"
_NAME = rf"{_NAME_WORD}(?:\s+(?:{_NAME_WORD}|de|van|von|bin|al|el|da|di|ul|la))*"
_NAMES = rf"{_NAME}(?:\s*(?:,|&|\band\b)\s*{_NAME})*"
_OUTLET_WORD = r"[A-Z][\w’'&-]*(?:\.\w+)*"
_ROLE = r"(?:writer|reporter|journalist|correspondent|columnist|editor|contributor|analyst|author)"

DATE_PREFIX = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b\s*")
OUTLET_BYLINE_PREFIX = re.compile(rf"^(?P<outlet>[^|\n]{{2,60}}?)\s+\|\s+by\s+(?P<author>{_NAMES})\s*[,:–—-]\s*")
BYLINE = re.compile(rf"^by\s+(?P<author>{_NAMES})(?:\s*[|,]\s*(?P<outlet>[A-Z][\w&.' -]{{1,40}}))?$", re.IGNORECASE)
BIO = re.compile(
    rf"^(?P<author>{_NAME}) is an? (?:[\w-]+ ){{0,3}}{_ROLE}"
    rf"(?:\s+(?:for|at|with)\s+(?:the\s+)?(?P<outlet>{_OUTLET_WORD}(?:\s+{_OUTLET_WORD})*))?\b.*$"
)
WRITER_NOTE = re.compile(r"^the (?:writer|author|columnist) is\b.*$", re.IGNORECASE)
NAME_LINE = re.compile(rf"^{_NAMES}$")
_DATELINE_WORDS = re.compile(
    r"\b(?:published|posted|updated|last updated|modified|date|on|at)\b|[:|·,–—-]", re.IGNORECASE
)
_DATE_ANYWHERE = re.compile(DATE_PATTERN, re.IGNORECASE)
_TITLE_MAX_WORDS = 30


@dataclass
class Metadata:
    title: str | None = None
    date: str | None = None
    author: str | None = None
    outlet: str | None = None
    consumed: set[int] = field(default_factory=set)  # indexes of lines that were pure metadata


def _outlet_name(name: str | None) -> str | None:
    """An outlet as named in the text; 'X Online' is the web edition of the outlet X."""
    if not name:
        return None
    name = name.strip(" .,")
    return re.sub(r"\s+Online$", "", name) or None


def is_dateline(line: str) -> bool:
    """A line that states a date and nothing else ("September 25, 2018 Updated: September 25, 2018")."""
    if not _DATE_ANYWHERE.search(line):
        return False
    rest = _DATE_ANYWHERE.sub(" ", line)
    return not _DATELINE_WORDS.sub(" ", rest).strip()


def is_title_like(line: str) -> bool:
    words = line.split()
    if not words or len(words) > _TITLE_MAX_WORDS:
        return False
    # A headline is one phrase: no sentence boundary inside, no closing full stop.
    return not re.search(r"[.!?]\s+[A-Z]", line) and not line.rstrip().endswith(".")


def extract_metadata(lines: list[str]) -> tuple[Metadata, list[str]]:
    """Read metadata from an article's lines; returns it and the lines with metadata prefixes removed.

    ``lines`` are the article's non-empty lines in order. Lines whose only content was metadata
    are listed in ``Metadata.consumed``; the returned list keeps every index so callers can
    drop them.
    """
    meta = Metadata()
    lines = list(lines)
    if not lines:
        return meta, lines

    first = lines[0]
    if match := DATE_PREFIX.match(first):
        meta.date = find_date(match.group(1))
        first = first[match.end() :]
    if match := OUTLET_BYLINE_PREFIX.match(first):
        meta.outlet = _outlet_name(match.group("outlet"))
        meta.author = match.group("author").strip()
        first = first[match.end() :]
    lines[0] = first.strip()
    if not lines[0]:
        meta.consumed.add(0)
    elif len(lines) > 1 and is_title_like(lines[0]):
        meta.title = lines[0]
        meta.consumed.add(0)

    for index, line in enumerate(lines):
        if index in meta.consumed:
            continue
        if is_dateline(line):
            meta.date = meta.date or find_date(line)
            meta.consumed.add(index)
        elif (match := BYLINE.match(line)) or (match := BIO.match(line)):
            meta.author = meta.author or match.group("author").strip()
            meta.outlet = meta.outlet or _outlet_name(match.group("outlet"))
            meta.consumed.add(index)
        elif WRITER_NOTE.match(line):
            meta.consumed.add(index)
            names = [i for i in range(index - 1, -1, -1) if NAME_LINE.match(lines[i])]
            # The columnist's name sits on the line(s) just above "The writer is …".
            if names and names[0] == index - 1:
                meta.author = meta.author or lines[index - 1].strip()
                for i in range(index - 1, -1, -1):
                    if lines[i] != lines[index - 1]:
                        break
                    meta.consumed.add(i)
    return meta, lines
