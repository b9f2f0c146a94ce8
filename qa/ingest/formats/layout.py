"""Reading order of a laid-out page: text boxes → lines, columns read one after the other.

A page is cut recursively at its widest empty gap (the XY-cut): a vertical gap splits
columns, which are read left to right; horizontal gaps split bands, read top to bottom.
Coordinates are in points with y growing downwards (``top`` < ``bottom``).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

MIN_GUTTER = 8.0  # points; and at least one line height: word spaces never reach it
BAND_CUT = 0.8  # horizontal cuts at every gap at least this fraction of the widest one


@dataclass(frozen=True, slots=True)
class Box:
    """A run of text on one line, as the PDF (or OCR) placed it."""

    left: float
    top: float
    right: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text in reading order, with the column it sits in.

    ``new_column`` is true for the first line of a column other than the page's first: a
    paragraph may continue across it, but line spacing and indents do not carry over.
    """

    text: str
    left: float
    top: float
    right: float
    bottom: float
    column_left: float
    column_right: float
    new_column: bool = False

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)


def _gaps(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Empty intervals between the union of ``spans`` (each (start, end)), in order."""
    gaps = []
    ordered = sorted(spans)
    reach = ordered[0][1]
    for start, end in ordered[1:]:
        if start > reach:
            gaps.append((reach, start))
        reach = max(reach, end)
    return gaps


def group_lines(boxes: list[Box]) -> list[list[Box]]:
    """Boxes that share a line (they overlap vertically by half the smaller height), top to bottom, left to right."""
    lines: list[list[Box]] = []
    extents: list[tuple[float, float]] = []
    for box in sorted(boxes, key=lambda b: (b.top + b.bottom) / 2):
        if lines:
            top, bottom = extents[-1]
            overlap = min(bottom, box.bottom) - max(top, box.top)
            if overlap >= 0.5 * min(bottom - top, box.height):
                lines[-1].append(box)
                extents[-1] = (min(top, box.top), max(bottom, box.bottom))
                continue
        lines.append([box])
        extents.append((box.top, box.bottom))
    return [sorted(line, key=lambda b: b.left) for line in lines]


def _join(boxes: list[Box]) -> str:
    """The text of one line: boxes left to right, a space where they do not touch."""
    text = ""
    for previous, box in zip([None, *boxes], boxes):
        if previous is not None and text and not text.endswith(" "):
            touching = box.left - previous.right < 0.15 * min(previous.height, box.height)
            text += "" if touching else " "
        text += box.text
    return " ".join(text.split())


def _column_cut(boxes: list[Box], min_gutter: float) -> tuple[float, list[Box], list[Box]] | None:
    """The widest vertical gap that splits ``boxes`` into two columns of two lines or more each."""
    best = None
    for start, end in _gaps([(b.left, b.right) for b in boxes]):
        width = end - start
        if width < min_gutter or (best is not None and width <= best[0]):
            continue
        left = [b for b in boxes if b.right <= start]
        right = [b for b in boxes if b.left >= end]
        if len(group_lines(left)) >= 2 and len(group_lines(right)) >= 2:
            best = (width, left, right)
    return best


def _band_cuts(boxes: list[Box]) -> tuple[float, list[list[Box]]] | None:
    """Bands of ``boxes`` split at every horizontal gap nearly as wide as the widest one."""
    gaps = _gaps([(b.top, b.bottom) for b in boxes])
    if not gaps:
        return None
    widest = max(end - start for start, end in gaps)
    cuts = [(start + end) / 2 for start, end in gaps if end - start >= BAND_CUT * widest]
    bands: list[list[Box]] = [[] for _ in range(len(cuts) + 1)]
    for box in boxes:
        bands[sum(1 for cut in cuts if box.top >= cut)].append(box)
    return widest, [band for band in bands if band]


def read_lines(boxes: list[Box]) -> list[Line]:
    """The page's lines in reading order: columns left to right, each column top to bottom."""
    boxes = [box for box in boxes if box.text.strip()]
    if not boxes:
        return []
    min_gutter = max(MIN_GUTTER, statistics.median(b.height for b in boxes))
    lines: list[Line] = []
    _cut(boxes, min_gutter, _extent(boxes), lines, new_column=False)
    return lines


def _extent(boxes: list[Box]) -> tuple[float, float]:
    return min(b.left for b in boxes), max(b.right for b in boxes)


def _cut(boxes: list[Box], min_gutter: float, column: tuple[float, float], out: list[Line], new_column: bool) -> bool:
    """Append the lines of ``boxes`` to ``out`` in reading order; returns whether they held columns.

    ``column`` is the horizontal extent of the column the boxes sit in (the page's text when
    there are no columns): short lines and indents are measured against it.
    """
    split = _column_cut(boxes, min_gutter)
    bands = _band_cuts(boxes)
    if split is not None and (bands is None or split[0] >= bands[0]):
        _, left, right = split
        _cut(left, min_gutter, _extent(left), out, new_column=True)
        _cut(right, min_gutter, _extent(right), out, new_column=True)
        return True
    if bands is not None and len(bands[1]) > 1:
        columns_above = False
        for number, band in enumerate(bands[1]):
            starts_flow = (new_column and number == 0) or columns_above
            columns_above = _cut(band, min_gutter, column, out, starts_flow)
        return columns_above
    for number, line in enumerate(group_lines(boxes)):
        out.append(
            Line(
                _join(line),
                line[0].left,
                min(b.top for b in line),
                max(b.right for b in line),
                max(b.bottom for b in line),
                column[0],
                column[1],
                new_column=new_column and number == 0,
            )
        )
    return False
