"""PDF text is the words the page shows, whoever wrote the PDF: no letter twice, no space inside a word.

``fixtures/kerning.pdf`` is ``fixtures/kerning.html`` printed by Chromium (the command is in the
HTML): Chromium draws a kerned letter ("W" of "Water") as a text object of its own that overhangs
its neighbours; its second page holds a character outside Unicode's first plane.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from qa.index.build import build_index
from qa.ingest.corpus import load_corpus
from qa.ingest.formats.pdf import metadata, read_pdf
from qa.ingest.formats.pdftext import page_runs
from qa.ingest.sources import ReadOptions
from qa.search.retriever import Retriever

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM_PDF = FIXTURES / "kerning.pdf"


def _page_words(html_path: Path) -> list[str]:
    """The words of the page's paragraphs, as a reader sees them."""
    paragraphs = re.findall(r"<p[^>]*>(.*?)</p>", html_path.read_text(encoding="utf-8"), re.S)
    return " ".join(paragraphs).split()


def _read_text(data: bytes) -> str:
    return read_pdf(data, "doc", "doc.pdf", ReadOptions(ocr=False)).documents[0].text


def test_a_chromium_printed_pdf_reads_exactly_the_words_of_its_page():
    assert _read_text(CHROMIUM_PDF.read_bytes()).split() == _page_words(FIXTURES / "kerning.html")


def test_every_character_of_a_chromium_page_is_read_once_in_pdfiums_order():
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(CHROMIUM_PDF.read_bytes())
    for page in document:
        textpage = page.get_textpage()
        letters = "".join(text for _, text in page_runs(textpage))
        assert "".join(letters.split()) == "".join(textpage.get_text_range().split())


def test_every_passage_of_a_chromium_pdf_is_its_article_at_its_span_and_the_pages_words(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CHROMIUM_PDF, corpus / "kerning.pdf")
    build_index(corpus, tmp_path / "index", model="none")
    retriever = Retriever.load(tmp_path / "index")
    page = " ".join(_page_words(FIXTURES / "kerning.html"))
    assert retriever.passages
    for passage in retriever.passages:
        article = retriever.article(passage.article_id)
        assert article.text[passage.char_start : passage.char_end] == passage.text
        assert " ".join(passage.text.split()) in page
    hit = retriever.ask("What did the chairman tell Human Rights Watch?", 1).hits[0]
    assert "“Wait, wait,” he told Human Rights Watch." in hit.passage.text
    assert (hit.passage.page, hit.article.title) == (1, "Water Board audit")  # not the file name Chromium wrote


@pytest.mark.parametrize("gap", [-0.8, 0.5, 1.0, 1.5])
def test_a_word_drawn_in_pieces_reads_as_one_word(gap):
    """A writer that places a kerned letter or a ligature on its own (Chromium, matplotlib) leaves
    the pieces of a word overlapping (gap < 0) or a little apart: neither a letter twice nor a space."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas as pdf_canvas

    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, invariant=1)
    canvas.setFont("Helvetica", 10)
    x = 72.0
    for piece in ["The board bought off", "ice chairs for the W", "ater Board in A", "pril."]:
        canvas.drawString(x, 700, piece)
        x += stringWidth(piece, "Helvetica", 10) + gap
    canvas.showPage()
    canvas.save()
    assert _read_text(buffer.getvalue()) == "The board bought office chairs for the Water Board in April."


@pytest.mark.parametrize(
    "title,kept",
    [
        ("Audit of the Provincial Water Board", True),
        ("Node.js in the newsroom", True),
        ("pdf.html", False),  # Chromium's title for a page without <title>: its file name
        ("water-audit.htm", False),
        ("https://example.org/news/water-audit", False),
        ("example.org/news/water-audit", False),
        ("Microsoft Word - audit.docx", False),
        ("Untitled", False),
    ],
)
def test_a_pdf_title_that_is_a_file_name_or_an_address_is_no_title(title, kept):
    assert metadata({"Title": title}, "doc.pdf", []).get("title") == (title if kept else None)


def test_empty_document_files_are_skipped_as_empty_files(tmp_path):
    for name in ["zero.pdf", "zero.docx", "zero.eml", "zero.mbox"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "note.txt").write_text("The Provincial Water Board spent the money on office furniture.\n")
    load = load_corpus(tmp_path)
    assert [article.path for article in load.articles] == ["note.txt"]
    assert sorted((skip.path, skip.reason) for skip in load.skipped) == [
        (name, "empty file") for name in ["zero.docx", "zero.eml", "zero.mbox", "zero.pdf"]
    ]
