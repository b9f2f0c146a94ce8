"""From an article's raw text to its metadata and clean paragraphs (what a reader sees)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.ingest.boilerplate import boilerplate_reason, is_end_marker
from qa.ingest.metadata import Metadata, extract_metadata

FRAGMENT_MAX_WORDS = 4


@dataclass
class CleanedText:
    metadata: Metadata
    paragraphs: list[str]
    dropped: list[tuple[str, str]]  # (line, reason), for diagnostics


def _is_hard_wrapped(block: list[str]) -> bool:
    """Fixed-width wrapping: every line but the last is about as long as the longest."""
    if len(block) < 2:
        return False
    widths = [len(line) for line in block[:-1]]
    longest = max(len(line) for line in block)
    return 50 <= longest <= 100 and min(widths) >= 0.75 * longest


def split_lines(text: str) -> list[str]:
    """The text's logical lines: blank-line separated blocks, wrapped lines joined back together.

    A single newline usually separates paragraphs (scraped pages) unless the block is visibly
    hard-wrapped. (Markdown arrives rendered, one paragraph a line: qa.ingest.formats.markdown.)
    """
    lines: list[str] = []
    for block_text in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        block = [" ".join(line.split()) for line in block_text.split("\n")]
        block = [line for line in block if line]
        if not block:
            continue
        if _is_hard_wrapped(block):
            lines.append(" ".join(block))
        else:
            lines.extend(block)
    return lines


def clean_lines(lines: list[str], repeated: set[str] = frozenset()) -> CleanedText:  # type: ignore[assignment]
    """Metadata and paragraphs from logical lines; boilerplate is dropped with its reason."""
    metadata, lines = extract_metadata(lines)
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    for index, line in enumerate(lines):
        if index in metadata.consumed:
            continue
        if kept and is_end_marker(line):
            dropped.extend(
                (rest, "after an end-of-article marker")
                for offset, rest in enumerate(lines[index:], start=index)
                if offset not in metadata.consumed
            )
            break
        reason = "end-of-article marker" if is_end_marker(line) else boilerplate_reason(line, repeated)
        if reason:
            dropped.append((line, reason))
        else:
            kept.append(line)
    return CleanedText(metadata, merge_fragments(kept), dropped)


def merge_fragments(paragraphs: list[str]) -> list[str]:
    """Tiny paragraphs ("Okay.", "He agreed.") join the next one (the previous one if last)."""
    merged: list[str] = []
    pending = ""
    for paragraph in paragraphs:
        if pending:
            paragraph = pending + "\n" + paragraph
            pending = ""
        if len(paragraph.split()) <= FRAGMENT_MAX_WORDS:
            pending = paragraph
        else:
            merged.append(paragraph)
    if pending:
        if merged:
            merged[-1] += "\n" + pending
        else:
            merged.append(pending)
    return merged
