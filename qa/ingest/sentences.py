"""Sentence boundaries as character spans, for splitting long paragraphs and highlighting."""

from __future__ import annotations

import re

# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by whitespace and
# something that can start a sentence. Abbreviations and initials are checked separately.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]*[A-Z0-9À-ÖØ-Þ])")
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt gen col lt sgt capt gov sen
    rep rev hon jan feb mar apr jun jul aug sep sept oct nov dec no
    nos vol fig inc ltd corp co bros vs etc approx dept est univ ave blvd
    rd
    """.split()
)
_WORD_BEFORE = re.compile(r"([\w.]+)[.]$")


def _is_abbreviation(text: str, dot_end: int) -> bool:
    """True when the period ending at ``dot_end`` closes an abbreviation or an initial."""
    match = _WORD_BEFORE.search(text, max(0, dot_end - 20), dot_end)
    if match is None:
        return False
    word = match.group(1)
    if "." in word:  # U.S. / U.N. / e.g.
        return True
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentences; returns (start, end) spans with surrounding space trimmed.

    The spans cover every non-space character of ``text`` exactly once, in order.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if text[match.start()] == "." and match.end() - match.start() == 1 and _is_abbreviation(text, end):
            continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    trimmed = []
    for begin, end in spans:
        piece = text[begin:end]
        stripped = piece.strip()
        if stripped:
            offset = begin + len(piece) - len(piece.lstrip())
            trimmed.append((offset, offset + len(stripped)))
    return trimmed


def split_sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]
