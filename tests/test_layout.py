"""Page layout rules, one table each: reading order, running lines, paragraphs, hyphens, page offsets."""

from __future__ import annotations

import pytest

from qa.ingest.formats.layout import Box, read_lines
from qa.ingest.formats.paged import Page, carry_pages, drop_running_lines, join_lines, paragraphs

LINE = 12.0  # points from one line's top to the next


def _column(x: float, top: float, texts: list[str], width: float = 200.0) -> list[Box]:
    return [Box(x, top + LINE * n, x + width, top + LINE * n + 9, text) for n, text in enumerate(texts)]


def _texts(boxes: list[Box]) -> list[str]:
    return [line.text for line in read_lines(boxes)]


def test_two_columns_are_read_left_then_right_whatever_order_the_file_gives():
    left = _column(72, 100, ["L1", "L2", "L3"])
    right = _column(320, 100, ["R1", "R2", "R3"])
    interleaved = [box for pair in zip(right, left) for box in pair]
    assert _texts(interleaved) == ["L1", "L2", "L3", "R1", "R2", "R3"]


def test_a_title_above_the_columns_and_a_page_number_in_the_gutter_stay_in_place():
    title = Box(250, 60, 345, 75, "Title")  # narrow, entirely right of the gutter's left edge
    left = _column(72, 100, ["L1", "L2", "L3"])
    right = _column(320, 100, ["R1", "R2", "R3"])
    number = Box(290, 800, 300, 809, "7")
    assert _texts([number, *right, title, *left]) == ["Title", "L1", "L2", "L3", "R1", "R2", "R3", "7"]


def test_pieces_of_one_line_are_one_line_and_columns_start_new_flows():
    header = [Box(72, 40, 150, 48, "Report"), Box(480, 40, 520, 48, "2024")]
    lines = read_lines([*header, *_column(72, 100, ["L1", "L2"]), *_column(320, 100, ["R1", "R2"])])
    assert [(line.text, line.new_column) for line in lines] == [
        ("Report 2024", False),
        ("L1", True),
        ("L2", False),
        ("R1", True),
        ("R2", False),
    ]


def test_boxes_that_touch_join_without_a_space():
    assert _texts(
        [Box(72, 100, 100, 109, "inter"), Box(100.5, 100, 140, 109, "national"), Box(145, 100, 160, 109, "job")]
    ) == ["international job"]


@pytest.mark.parametrize(
    "previous,line,vocabulary,joined",
    [
        ("recruiting through inter-", "national job boards", set(), "recruiting through international job boards"),
        ("the port inspect\x02", "ors who were paid", set(), "the port inspectors who were paid"),
        ("found that forty-", "two brokers", {"forty-two"}, "found that forty-two brokers"),
        ("the co-", "operation of", {"cooperation"}, "the cooperation of"),
        ("said Jean-", "Pierre Martin", set(), "said Jean-Pierre Martin"),
        ("a well-", "known case", {"well-known"}, "a well-known case"),
        ("the end.", "Next paragraph", set(), "the end. Next paragraph"),
        ("pages 12 -", "13 of", set(), "pages 12 - 13 of"),
    ],
)
def test_words_hyphenated_at_a_line_end_are_joined_again(previous, line, vocabulary, joined):
    assert join_lines(previous, line, vocabulary) == joined


def _page(number: int, texts: list[str], top: float = 100.0, height: float = 842.0) -> Page:
    """A page of lines as wide as their text (about 6 points a character)."""
    boxes = [Box(72, top + LINE * n, 72 + 6 * len(text), top + LINE * n + 9, text) for n, text in enumerate(texts)]
    return Page(number, read_lines(boxes), height)


def test_running_headers_footers_and_page_numbers_are_dropped_body_lines_kept():
    pages = [
        Page(
            n,
            read_lines(
                [
                    Box(72, 30, 300, 38, "Delta Watch | Annual Report 2024"),
                    *_column(72, 120, [f"Body line one of page {n}.", "Delta Watch | Annual Report 2024"], 450),
                    Box(290, 810, 330, 818, f"Page {n} of 3"),
                ]
            ),
            842.0,
        )
        for n in (1, 2, 3)
    ]
    kept = [[line.text for line in page.lines] for page in drop_running_lines(pages)]
    # the repeated line in the body is quoted text, not furniture: it stays
    assert kept == [[f"Body line one of page {n}.", "Delta Watch | Annual Report 2024"] for n in (1, 2, 3)]


def test_a_lone_page_number_at_the_edge_of_a_single_page_is_dropped():
    page = Page(1, read_lines([*_column(72, 120, ["Only page text."], 450), Box(290, 810, 300, 818, "1")]), 842.0)
    assert [line.text for line in drop_running_lines([page])[0].lines] == ["Only page text."]


def test_paragraphs_break_at_indents_spacing_and_short_last_lines():
    boxes = [
        Box(72, 100, 522, 109, "The first paragraph runs across the whole width of the column and"),
        Box(72, 112, 300, 121, "ends on a short line."),
        Box(90, 124, 522, 133, "An indented first line starts the second paragraph, which goes on"),
        Box(72, 136, 522, 145, "to the right edge of the column again and again until it is done"),
        Box(72, 172, 522, 181, "after a blank line, a third paragraph starts even without an indent"),
        Box(72, 184, 200, 193, "and it ends here."),
    ]
    result = paragraphs([Page(1, read_lines(boxes), 842.0)])
    assert result.text.split("\n\n") == [
        "The first paragraph runs across the whole width of the column and ends on a short line.",
        "An indented first line starts the second paragraph, which goes on to the right edge of the column "
        "again and again until it is done",
        "after a blank line, a third paragraph starts even without an indent and it ends here.",
    ]
    assert result.pages == [(0, 1)]


def test_a_sentence_running_onto_the_next_page_stays_one_paragraph_with_the_page_break_inside():
    first = _page(1, ["A sentence that is not finished at the bottom of the first page goes on", "to the"])
    second = _page(2, ["next page, where it ends.", "", "A new paragraph."])
    result = paragraphs([first, second])
    text = result.text
    assert text.split("\n\n")[0] == (
        "A sentence that is not finished at the bottom of the first page goes on to the next page, where it ends."
    )
    assert result.pages == [(0, 1), (text.index("next page"), 2)]


def test_page_starts_are_carried_through_cleaning_that_drops_and_joins_lines():
    raw = "Report title\n\nFirst kept paragraph on page one.\n\nMenu\n\nSecond kept paragraph on page two.\n\nOk."
    raw_pages = [(0, 1), (raw.index("Menu"), 2)]
    cleaned = "First kept paragraph on page one.\n\nSecond kept paragraph on page two.\nOk."
    assert carry_pages(raw, raw_pages, cleaned) == [(0, 1), (cleaned.index("Second"), 2)]
    # metadata cut off the front of a line ("date 2024-01-01 …"): the rest is found at the line's end
    raw = "date 2024-01-01 A paragraph that starts on page one and ends on page two."
    cleaned = raw[len("date 2024-01-01 ") :]
    assert carry_pages(raw, [(0, 1), (raw.index("ends"), 2)], cleaned) == [(0, 1), (cleaned.index("ends"), 2)]
