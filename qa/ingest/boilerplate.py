"""Which lines of a scraped page are web furniture rather than the article.

General rules only, each a table the tests walk through: known boilerplate phrases,
end-of-article markers (everything after them goes), photo captions and credits, short
lines that are not sentences, and lines repeated across many articles.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# Whole lines that end the article: what follows is comments, navigation or teasers.
END_MARKERS = [
    r"leave a (?:reply|comment)",
    r"previous (?:article|post|story)",
    r"next (?:article|post|story)",
    r"must read",
    r"the latest",
    r"related (?:articles|stories|posts|news|content|coverage|reading)?",
    r"more (?:stories|from [\w .'&-]+|in [\w .'&-]+|news)",
    r"you (?:may|might) also like",
    r"recommended(?: for you| stories)?",
    r"read next",
    r"most (?:popular|read|viewed)",
    r"trending(?: now| stories)?",
    r"comments?(?: \(\d+\))?",
    r"post navigation",
    r"popular (?:posts|stories)",
    r"what to read next",
]
_END_MARKER = re.compile(r"^(?:" + "|".join(END_MARKERS) + r")\s*[:.!]?$", re.IGNORECASE)

# Lines (or line openings) that are page furniture wherever they appear.
BOILERPLATE_PHRASES = [
    r"please enter your (?:comment|name|email)",
    r"you have entered an incorrect email",
    r"save my name,? email",
    r"send (?:us )?a tip\b",
    r"sign up (?:for|to)\b",
    r"subscribe (?:to|now|today)\b",
    r"follow us on\b",
    r"click here\b",
    r"advertisement$",
    r"(?:share|tweet|email|print) (?:this|on)\b",
    r"share this article",
    r"copyright\b",
    r"©",
    r"all rights reserved",
    r"read (?:more|also|the full story)\s*[:»›]",
    r"also read\s*:",
    r"(?:photo|image|picture|video|file photo|graphic)(?: credit)?s?\s*:",
    r"(?:photo|image)s? (?:by|courtesy)\b",
    r"this (?:article|story) (?:was|has been) (?:originally )?(?:published|updated|corrected)\b",
    r"we use cookies\b",
    r"accept (?:all )?cookies\b",
    r"support (?:our|independent) journalism\b",
]
_BOILERPLATE = re.compile(r"^(?:" + "|".join(BOILERPLATE_PHRASES) + r")", re.IGNORECASE)

# A photo caption ends with its credit: "(Parker Song/Reuters)", "(AP Photo/Anjum Naveed)".
_CREDIT = re.compile(
    r"\((?:photo:?\s*)?[^()]{2,60}/\s*[^()]{2,60}\)\s*$"
    r"|\b(?:photo|image|picture|credit)s?:\s*[^.!?]{2,60}$"
    r"|(?:[/|—–]|\s-|\bvia)\s*(?:getty images|ap photo|afp|reuters|shutterstock|epa|file photo)[\w /]*\)?\s*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$|[\"”’]$")
SHORT_LINE_WORDS = 12
REPEATED_LINE_MIN_ARTICLES = 3
REPEATED_LINE_MAX_WORDS = 30
WIRE_RUN_LINES = 3


def normalize_line(line: str) -> str:
    return " ".join(line.lower().split())


def is_end_marker(line: str) -> bool:
    return bool(_END_MARKER.match(line.strip()))


def is_boilerplate_phrase(line: str) -> bool:
    return bool(_BOILERPLATE.match(line.strip()))


def is_photo_caption(line: str) -> bool:
    return bool(_CREDIT.search(line.strip()))


def is_short_non_sentence(line: str) -> bool:
    """Navigation, names, headings and teasers: a few words with no sentence punctuation."""
    line = line.strip()
    return len(line.split()) <= SHORT_LINE_WORDS and not _SENTENCE_END.search(line)


def repeated_lines(articles_lines: Iterable[Iterable[str]]) -> set[str]:
    """Normalised short lines that occur in at least REPEATED_LINE_MIN_ARTICLES articles.

    A run of WIRE_RUN_LINES or more consecutive repeated lines that are all full sentences is a
    republished story (a wire copy that several outlets ran), not page furniture, and is kept:
    grouping such copies is the index's job (``qa.index.duplicates``).
    """
    articles = [[normalize_line(line) for line in lines] for lines in articles_lines]
    counts: Counter[str] = Counter()
    for lines in articles:
        counts.update({line for line in lines if len(line.split()) <= REPEATED_LINE_MAX_WORDS})
    repeated = {line for line, count in counts.items() if count >= REPEATED_LINE_MIN_ARTICLES}
    republished: set[str] = set()
    for lines in articles:
        run: list[str] = []
        for line in [*lines, None]:
            if line is not None and line in repeated and _is_full_sentence(line):
                run.append(line)
                continue
            if len(run) >= WIRE_RUN_LINES:
                republished.update(run)
            run = []
    return repeated - republished


def _is_full_sentence(line: str) -> bool:
    return len(line.split()) > SHORT_LINE_WORDS and bool(_SENTENCE_END.search(line))


def boilerplate_reason(line: str, repeated: set[str] = frozenset()) -> str | None:  # type: ignore[assignment]
    """Why ``line`` is boilerplate, or None when it is article text."""
    if is_boilerplate_phrase(line):
        return "boilerplate phrase"
    if is_photo_caption(line):
        return "photo caption or credit"
    if is_short_non_sentence(line):
        return "short line that is not a sentence"
    if normalize_line(line) in repeated:
        return "line repeated across articles"
    return None
