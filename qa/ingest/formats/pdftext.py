"""The text runs of a PDF page as PDFium reads it: each character once, in PDFium's order, with its place."""

from __future__ import annotations

import re
from typing import Any

CONTINUES = 0.5  # a text object this close (a fraction of the line's height) with no space before it goes on the word
_LINE = re.compile(r"[^\r\n]+")

Rect = tuple[float, float, float, float]  # left, bottom, right, top in PDF points (y up)
Run = tuple[Rect, str]


def page_runs(textpage: Any) -> list[Run]:
    """The page's text runs: (left, bottom, right, top) and text.

    PDFium's text in its own order breaks lines with CRLF and keeps one character per character
    index; each such line whose characters form one rectangle is a run as it stands (cheap).
    A line of several rectangles (two columns written across, a wide gap, a kerned word) is cut
    into runs by the text objects its characters belong to, each character in one run.
    """
    count = textpage.count_chars()
    text = textpage.get_text_range()
    if len(text) == count:
        return _line_runs(textpage, text)
    # A character outside Unicode's first plane is two characters in PDFium's list (a UTF-16
    # surrogate pair) but one in its text: read the list one by one, then pair the halves up.
    runs = _line_runs(textpage, _characters(textpage, count))
    return [(box, chars.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")) for box, chars in runs]


def _line_runs(textpage: Any, text: str) -> list[Run]:
    """The runs of the page whose characters, one per character index, are ``text``."""
    runs = []
    for line in _LINE.finditer(text):
        start, end = line.span()
        if textpage.count_rects(start, end - start) == 1:
            runs.append((textpage.get_rect(0), line.group()))
        else:
            runs.extend(_object_runs(textpage, start, line.group()))
    return runs


def _characters(textpage: Any, count: int) -> str:
    """The page's characters one by one, so that the text's index is the character's index."""
    import pypdfium2.raw as pdfium_c

    return "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, index)) for index in range(count))


def _object_runs(textpage: Any, start: int, text: str) -> list[Run]:
    """The runs of the line ``text`` that starts at character ``start``: its characters grouped by
    the text object that draws them, as PDFium groups them into rectangles, except that an object
    going on a word with no space before it stays in the word's run.

    Each character belongs to one run by its index. Asking PDFium for the text inside each
    rectangle instead also picks up the kerned letters that overhang it ("W WaWater", "offffice").
    Characters PDFium adds (spaces) or draws with no width go with the run before them.
    """
    import ctypes

    import pypdfium2.raw as pdfium_c

    runs: list[Run] = []
    owner, box, chars = None, None, ""
    for offset, char in enumerate(text):
        index = start + offset
        handle = pdfium_c.FPDFText_GetTextObject(textpage, index)
        obj = ctypes.addressof(handle.contents) if handle else None  # the object's identity
        left, bottom, right, top = textpage.get_charbox(index) if obj else (0.0, 0.0, 0.0, 0.0)
        if obj is None or right - left < 0.01:
            chars += char
            continue
        if obj != owner and box is not None and not _continues(box, chars, char, left):
            runs.append((box, chars))
            box, chars = None, ""
        owner = obj
        box = (left, bottom, right, top) if box is None else _union(box, (left, bottom, right, top))
        chars += char
    if box is not None:
        runs.append((box, chars))
    return runs


def _continues(box: Rect, chars: str, char: str, left: float) -> bool:
    """Whether a character of a new text object goes on the word of the run ``box``/``chars``:
    PDFium's text has no space between them and they sit close (a ligature or a kerned letter that
    the writer placed on its own; the layout would otherwise see a gap there and put a space in)."""
    reach = CONTINUES * (box[3] - box[1])
    return not chars[-1].isspace() and not char.isspace() and -reach < left - box[2] < reach


def _union(a: Rect, b: Rect) -> Rect:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])
