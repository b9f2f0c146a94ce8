"""From the lines of a paged document to its paragraphs, remembering the page each one starts on.

Running headers, footers and page numbers (short lines at a page's top or bottom edge that
repeat across pages) are dropped; lines are joined into paragraphs by spacing, indents, short
last lines and size changes; a paragraph continues across a page or column break when its
sentence does; words hyphenated at a line end are joined again.
"""

from __future__ import annotations

import bisect
import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from qa.ingest.formats.layout import Line

EDGE = 0.12  # the top and bottom eighth of a page, where running headers and footers sit
RUNNING_MIN_SHARE = 0.3  # a header or footer repeats on at least this share of the pages (and on two)
RUNNING_MAX_WORDS = 15
HEADING_MAX_WIDTH = 0.6  # a line this short (of its column's width) before a capital is a heading
MARKED_SHARE = 0.03  # paragraphs marked by spacing or indents: at least this share of line breaks shows one
_PAGE_NUMBER = re.compile(
    r"^(?:page|p\.?|pg\.?|seite|página|pagina)?\s*(?:#|[ivxlc]+)(?:\s*(?:of|/|de|von|sur)\s*#)?$|^[-–—]\s*#\s*[-–—]$"
)
_TERMINAL = re.compile(r"[.!?:;…][\"'”’)\]]*$")
_BULLET = re.compile(r"^(?:[•▪◦●‣∙·■□➢►\-–*]\s|\(?\d{1,3}[.)]\s|\(?[a-z][.)]\s)")
_HYPHENS = ("-", "\x02", "\u00ad")  # a hyphen, PDFium's mark for one at a line end, a soft hyphen
_HYPHENATED = re.compile(r"(\w+)[-\x02\u00ad]$")
_FIRST_WORD = re.compile(r"^(\w+)")
_WORD = re.compile(r"\w+(?:-\w+)*")


@dataclass
class Page:
    """The lines of one page in reading order, and the page's height (points)."""

    number: int
    lines: list[Line]
    height: float


@dataclass
class PagedText:
    """Paragraphs (one per line, separated by a blank line) and where each page's text starts."""

    text: str
    pages: list[tuple[int, int]] = field(default_factory=list)  # (character offset, page number)


def signature(text: str) -> str:
    """A line as it repeats across pages: case, digits (page numbers) and spacing ignored."""
    return re.sub(r"\d+", "#", " ".join(text.lower().split())).strip(" .·|-–—")


def _at_edge(line: Line, page: Page) -> bool:
    return line.top < EDGE * page.height or line.bottom > (1 - EDGE) * page.height


def drop_running_lines(pages: list[Page]) -> list[Page]:
    """The pages without their running headers, footers and page numbers."""
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update(
            {
                signature(line.text)
                for line in page.lines
                if _at_edge(line, page) and len(line.text.split()) <= RUNNING_MAX_WORDS
            }
        )
    needed = max(2, RUNNING_MIN_SHARE * sum(1 for page in pages if page.lines))
    running = {text for text, count in counts.items() if count >= needed}
    kept = []
    for page in pages:
        lines = [
            line
            for line in page.lines
            if not (
                _at_edge(line, page) and (signature(line.text) in running or _PAGE_NUMBER.match(signature(line.text)))
            )
        ]
        kept.append(Page(page.number, lines, page.height))
    return kept


def _short(line: Line) -> bool:
    """A line that stops well before its column's right edge: a paragraph's last line, or a heading."""
    width = line.column_right - line.column_left
    return line.right < line.column_right - 0.12 * width


def _indent(line: Line, body: float) -> float:
    return (line.left - line.column_left) / body


def _resized(previous: Line, line: Line, body: float) -> bool:
    """A change of type size: a heading above or below body text."""
    taller = max(previous.height, line.height)
    return taller > 1.3 * body and abs(previous.height - line.height) > 0.2 * taller


def _breaks(previous: Line, line: Line, pitch: float, body: float, marked: bool) -> bool:
    """Whether ``line`` starts a new paragraph after ``previous`` in the same column.

    Extra spacing, an indent, a bullet or a change of type size always start one. A short line
    ends a paragraph too, unless the document marks its paragraphs by spacing or indents
    (``marked``): then short lines are ragged-right text, except a heading's (very short).
    """
    if _spaced(previous, line, pitch) or _resized(previous, line, body) or _BULLET.match(line.text):
        return True
    if _indented(previous, line, body):
        return True
    starts_upper = line.text[:1].isupper() or line.text[:1].isdigit()
    width = previous.column_right - previous.column_left
    if previous.right < previous.column_left + HEADING_MAX_WIDTH * width and starts_upper:
        return True
    return not marked and _short(previous) and (bool(_TERMINAL.search(previous.text)) or starts_upper)


def _spaced(previous: Line, line: Line, pitch: float) -> bool:
    return line.top - previous.top > 1.45 * pitch


def _indented(previous: Line, line: Line, body: float) -> bool:
    return _indent(line, body) > 0.8 and _indent(previous, body) < 0.4


def _continues(previous: Line, line: Line, body: float) -> bool:
    """Whether the paragraph ending in ``previous`` goes on with ``line`` after a page or column
    break: its last line does not end a sentence, and ``line`` is no heading, item or indent."""
    if _TERMINAL.search(previous.text) or _resized(previous, line, body) or _BULLET.match(line.text):
        return False
    return _indent(line, body) <= 0.8


def _vocabulary(pages: list[Page]) -> Counter[str]:
    """How often each word occurs whole: the halves of a word hyphenated at a line end are not counted."""
    counts: Counter[str] = Counter()
    lines = [line.text for page in pages for line in page.lines]
    for text in lines:
        counts.update(word.lower() for word in _WORD.findall(text))
    for text, following in itertools.pairwise(lines):
        end = _HYPHENATED.search(text) if text.endswith(_HYPHENS) else None
        start = _FIRST_WORD.match(following)
        if end and start:
            counts.subtract([end.group(1).lower(), start.group(1).lower()])
    return +counts  # only words seen whole


def join_lines(previous: str, line: str, vocabulary: Counter[str] | set[str]) -> str:
    """Two lines of one paragraph as one. A word hyphenated at the line end is joined again
    (``inter-`` ``national``), but a compound keeps its hyphen: when the document writes it so
    elsewhere (``forty-two``), when both halves are words it uses on their own and the joined
    form is not (``infection-associated``), or when the second half is capitalised (``Jean-Pierre``)."""
    end = _HYPHENATED.search(previous, max(0, len(previous) - 80)) if previous.endswith(_HYPHENS) else None
    start = _FIRST_WORD.match(line)
    if end and start:
        head, tail = end.group(1), start.group(1)
        joined = (head + tail).lower()
        if joined in vocabulary:
            return previous[: end.end(1)] + line
        compound = f"{head}-{tail}".lower() in vocabulary or (head.lower() in vocabulary and tail.lower() in vocabulary)
        if not compound and tail[:1].islower():
            return previous[: end.end(1)] + line
        return previous[: end.end(1)] + "-" + line
    return previous + " " + line


def _measures(lines: list[Line], fallback: tuple[float, float] | None = None) -> tuple[float, float]:
    """The body text's line height and line pitch (top to top), as medians over ``lines``; with
    too few lines to tell, ``fallback`` (the whole document's)."""
    pitches = [
        line.top - previous.top
        for previous, line in itertools.pairwise(lines)
        if not line.new_column and 0 < line.top - previous.top < 3 * max(line.height, previous.height)
    ]
    if fallback is not None and len(pitches) < 2:
        return fallback
    body = statistics.median(line.height for line in lines) if lines else 10.0
    return body, statistics.median_low(pitches) if pitches else 1.2 * body  # low: few pitches, a gap among them


def _marked(pages: list[Page], document: tuple[float, float]) -> bool:
    """Whether the document sets its paragraphs apart by extra spacing or first-line indents."""
    breaks = shown = 0
    for page in pages:
        body, pitch = _measures(page.lines, document)
        for previous, line in itertools.pairwise(page.lines):
            if not line.new_column:
                breaks += 1
                shown += _spaced(previous, line, pitch) or _indented(previous, line, body)
    return breaks > 0 and shown >= MARKED_SHARE * breaks


def paragraphs(pages: list[Page]) -> PagedText:
    """The document's paragraphs in reading order with the offsets where its pages start."""
    pages = drop_running_lines(pages)
    vocabulary = _vocabulary(pages)
    document = _measures([line for page in pages for line in page.lines])
    marked = _marked(pages, document)
    paragraphs_: list[list[tuple[int, str]]] = []  # each: (page, text) runs, one per page it spans
    previous: Line | None = None
    for page in pages:
        body, pitch = _measures(page.lines, document)  # a scanned page has its own scale and spacing
        for number, line in enumerate(page.lines):
            if previous is None:
                starts = True
            elif number == 0 or line.new_column:
                starts = not _continues(previous, line, body)
            else:
                starts = _breaks(previous, line, pitch, body, marked)
            if starts:
                paragraphs_.append([(page.number, line.text)])
            else:
                runs = paragraphs_[-1]
                if runs[-1][0] == page.number:
                    runs[-1] = (page.number, join_lines(runs[-1][1], line.text, vocabulary))
                else:
                    runs.append((page.number, line.text))
                    _join_across(runs, vocabulary)
            previous = line
    return _text(paragraphs_)


def _join_across(runs: list[tuple[int, str]], vocabulary: Counter[str]) -> None:
    """Join the last two runs (a paragraph crossing a page break) as lines; a word hyphenated
    across the break belongs to the earlier page, the rest of the new run to the new one."""
    (page_a, text_a), (page_b, text_b) = runs[-2], runs[-1]
    joined = join_lines(text_a, text_b, vocabulary)
    if joined == f"{text_a} {text_b}":
        return
    word = _FIRST_WORD.match(text_b).group(1)  # type: ignore[union-attr]  # join_lines only rejoins a word
    head, tail = joined[: len(joined) - len(text_b) + len(word)], text_b[len(word) :].lstrip()
    runs[-2:] = [(page_a, head), (page_b, tail)] if tail else [(page_a, head)]


def _text(paragraphs_: list[list[tuple[int, str]]]) -> PagedText:
    result = PagedText("")
    parts: list[str] = []
    offset = 0
    last_page = None
    for number, runs in enumerate(paragraphs_):
        if number:
            parts.append("\n\n")
            offset += 2
        for index, (page, text) in enumerate(runs):
            if index:
                parts.append(" ")
                offset += 1
            if page != last_page:
                result.pages.append((offset, page))
                last_page = page
            parts.append(text)
            offset += len(text)
    result.text = "".join(parts)
    return result


def _find_line(raw: str, line: str, start: int) -> int:
    """Where ``line`` occurs in ``raw`` from ``start`` on, ending where a raw line ends; -1 if nowhere."""
    position = raw.find(line, start)
    while position >= 0:
        end = position + len(line)
        if end == len(raw) or raw[end] == "\n":
            return position
        position = raw.find(line, position + 1)
    return -1


def carry_pages(raw: str, raw_pages: list[tuple[int, int]], cleaned: str) -> list[tuple[int, int]]:
    """The page starts of ``raw`` carried into ``cleaned``, the text cleaning made of it.

    Cleaning only drops lines, cuts a prefix off a line or joins lines, so every line of the
    cleaned text is found, in order, at the end of a raw line: the page of each of its
    characters is the page of the raw character it was copied from.
    """
    starts = [offset for offset, _ in raw_pages]
    carried: list[tuple[int, int]] = []
    cursor = 0
    for piece in re.finditer(r"[^\n]+", cleaned):
        found = _find_line(raw, piece.group(), cursor)
        if found < 0:
            continue
        end = found + len(piece.group())
        row = max(bisect.bisect_right(starts, found) - 1, 0)
        if not carried or carried[-1][1] != raw_pages[row][1]:
            carried.append((piece.start(), raw_pages[row][1]))
        for offset, page in raw_pages[row + 1 :]:
            if offset >= end:
                break
            carried.append((piece.start() + offset - found, page))
        cursor = end
    return carried
