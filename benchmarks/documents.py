"""Reading documents: text PDF pages per second (layout, running lines, paragraphs) and OCR pages per second.

The report is generated with reportlab from the synthetic articles' paragraphs: A4 pages with a
running header and a page number, one-column and two-column pages in turn, about 500 words a
page (a dense NGO report). Scanned pages are images of such pages, read with Tesseract.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import textwrap
import time
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from benchmarks.data import make_articles
from benchmarks.measure import memory
from tests.support.documents import scanned_page_image

A4 = (595.28, 841.89)
FONT, SIZE, LEADING = "Helvetica", 9.5, 12.5
MARGIN, GUTTER, BOTTOM = 56.0, 18.0, 56.0
HEADER = "Example Watch | Annual Report on Labour Trafficking 2024"


def _paragraph_lines(pages: int) -> list[list[str]]:
    """The words of enough paragraphs for ``pages`` pages (about 15 a page), in the standard fonts' characters."""
    paragraphs = [p for article in make_articles(pages * 20) for p in article.text.split("\n\n")]
    drawable = [paragraph.encode("cp1252", "ignore").decode("cp1252") for paragraph in paragraphs]
    return [paragraph.split() for paragraph in drawable]


def _wrap(words: list[str], width: float) -> list[str]:
    """Lines of at most ``width`` points in the body font, broken at spaces (as a typesetter would)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for word in words:
        if lines and stringWidth(f"{lines[-1]} {word}", FONT, SIZE) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _draw_flow(canvas: Any, words: list[list[str]], columns: list[tuple[float, float]], top: float) -> None:
    """Fill ``columns`` ((left x, width)) top to bottom with the next paragraphs of ``words``."""
    for left, width in columns:
        y = top
        while y > BOTTOM and words:
            lines = _wrap(words[0], width)
            room = int((y - BOTTOM) // LEADING)
            for line in lines[:room]:
                canvas.drawString(left, y, line)
                y -= LEADING
            if room >= len(lines):
                words.pop(0)
                y -= LEADING * 0.6  # space between paragraphs
            else:  # the paragraph goes on in the next column or page
                words[0] = " ".join(lines[room:]).split()
                break


def make_report(path: Path, pages: int) -> list[str]:
    """A text PDF of ``pages`` pages; returns the paragraphs it holds, in order."""
    from reportlab.pdfgen import canvas as pdf_canvas

    width, height = A4
    words = _paragraph_lines(pages)
    paragraphs = [" ".join(paragraph) for paragraph in words]
    canvas = pdf_canvas.Canvas(str(path), pagesize=A4, invariant=1)
    canvas.setTitle("Annual Report on Labour Trafficking 2024")
    for number in range(1, pages + 1):
        canvas.setFont("Helvetica", 8)
        canvas.drawString(56, height - 36, HEADER)
        canvas.drawCentredString(width / 2, 28, f"Page {number}")
        canvas.setFont(FONT, SIZE)
        full = width - 2 * MARGIN
        half = (full - GUTTER) / 2
        columns = [(MARGIN, full)] if number % 2 else [(MARGIN, half), (MARGIN + half + GUTTER, half)]
        _draw_flow(canvas, words, columns, height - 70)
        canvas.showPage()
    canvas.save()
    return paragraphs[: len(paragraphs) - len(words)]  # the paragraphs drawn whole


def make_scans(path: Path, pages: int) -> list[str]:
    """A PDF of ``pages`` scanned pages, each about 400 words of typed text; returns the words."""
    from reportlab.pdfgen import canvas as pdf_canvas

    width, height = A4
    text = " ".join(" ".join(paragraph) for paragraph in _paragraph_lines(pages))
    lines = textwrap.wrap(text, 80)
    canvas = pdf_canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for number in range(pages):
        image = scanned_page_image(lines[number * 36 : (number + 1) * 36], width, height)
        canvas.drawImage(image, 0, 0, width=width, height=height)
        canvas.showPage()
    canvas.save()
    return " ".join(lines[: pages * 36]).split()


def _read_seconds(data: bytes, name: str, ocr: bool, repeats: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of reading the PDF ``data`` (CPU time: this process, Tesseract excluded)."""
    from qa.ingest.formats.pdf import read_pdf
    from qa.ingest.sources import ReadOptions

    wall, cpu, result = [], [], None
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = read_pdf(data, "report", name, ReadOptions(ocr=ocr))
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall), statistics.median(cpu), result


def _found_in_order(paragraphs: list[str], text: str) -> int:
    found, cursor = 0, 0
    for paragraph in paragraphs:
        position = text.find(paragraph, cursor)
        if position >= 0:
            found, cursor = found + 1, position + len(paragraph)
    return found


def run(work: str, pages: int = 200, scans: int = 3, repeats: int = 3) -> dict[str, Any]:
    from qa.ingest.corpus import load_corpus

    folder = Path(work) / "documents"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "corpus").mkdir(parents=True)
    report = folder / "corpus" / "report.pdf"
    drawn = make_report(report, pages)
    seconds, cpu, _ = _read_seconds(report.read_bytes(), "report.pdf", False, repeats)
    started = time.perf_counter()
    load = load_corpus(folder / "corpus")
    loaded = time.perf_counter() - started
    article = load.articles[0]
    text = {
        "pages": pages,
        "words": len(article.text.split()),
        "bytes": report.stat().st_size,
        "seconds": round(seconds, 3),
        "pages_per_second": round(pages / seconds, 1),
        "cpu_pages_per_second": round(pages / cpu, 1),  # what an idle machine would do (one core)
        "with_cleaning_seconds": round(loaded, 3),
        "with_cleaning_pages_per_second": round(pages / loaded, 1),
        "paragraphs": article.text.count("\n\n") + 1,
        # reading order and paragraphs checked: the share of the report's paragraphs found whole, in order
        "paragraphs_found": round(_found_in_order(drawn, article.text) / len(drawn), 4),
        "running_lines_left": sum(article.text.count(marker) for marker in (HEADER, "Page ")),
        "memory": memory(),
    }
    outcome: dict[str, Any] = {"text_pdf": text, "ocr": None}
    if shutil.which("tesseract") and scans:
        scanned = folder / "scans.pdf"
        typed = make_scans(scanned, scans)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds, cpu, result = _read_seconds(scanned.read_bytes(), "scans.pdf", True, 1)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)  # Tesseract's own
        document = result.documents[0] if result and result.documents else None
        outcome["ocr"] = {
            "pages": scans,
            "pages_read": len(document.ocr_pages) if document else 0,
            "seconds": round(seconds, 2),
            "pages_per_second": round(scans / seconds, 3),
            "seconds_per_page": round(seconds / scans, 2),
            "cpu_seconds_per_page": round(cpu / scans, 2),  # rendering + Tesseract: an idle machine's figure
            "words": len(document.text.split()) if document else 0,
            # how much of the typed text came back, word for word and in order (difflib's ratio)
            "word_match": round(SequenceMatcher(None, typed, document.text.split(), autojunk=False).ratio(), 4)
            if document
            else 0.0,
        }
    return outcome
