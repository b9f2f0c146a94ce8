"""PDF files (read with PDFium through pypdfium2): text in reading order with its pages, OCR for scans."""

from __future__ import annotations

import logging
import re
from typing import Any

from qa.ingest.dates import normalize_date
from qa.ingest.formats import PLACEHOLDER_AUTHORS, ocr
from qa.ingest.formats.layout import Box, read_lines
from qa.ingest.formats.paged import Page, paragraphs
from qa.ingest.formats.pdftext import page_runs
from qa.ingest.sources import RawDocument, ReadOptions, ReadResult, UnreadableFile, known_fields

# A scan: an image and almost no text, or an image over a third of the page and only a little
# text (a stamped page number, a running header).
SCANNED_MAX_CHARS = 20
SCANNED_MAX_TEXT = 200
SCANNED_MIN_COVER = 0.3
# Titles generators write when the author gave none: a placeholder, a file name (Chromium prints
# a page without a <title> under its file name, "pdf.html"), an address.
_JUNK_TITLE = re.compile(
    r"^(?:microsoft \w+ - |untitled\b|document\d*$|(?:https?|file)://|[\w.-]+\.[a-z]{2,}/\S*$)"
    r"|\.(?:docx?|pdf|indd|rtf|odt|txt|tmp|x?html?|mhtml?|php|aspx?|jsp|md|eml|jpe?g|png|gif|tiff?|xlsx?|pptx?)$",
    re.I,
)
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # line breaks and control characters inside a run
log = logging.getLogger("qa")


def _open_reason(error: Exception) -> str:
    message = str(error)
    if "password" in message.lower():
        return "encrypted PDF: it needs a password to open; save a copy without the password and build again"
    if "format" in message.lower() or "file" in message.lower():
        return "damaged PDF: not a readable PDF file"
    return f"damaged PDF ({message})"


def _pdf_date(value: str | None) -> str | None:
    match = _PDF_DATE.match(value or "")
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    return normalize_date(f"{year}-{month}-{day}") if match.group(2) else year


def metadata(info: dict[str, Any], location: str, warnings: list[str]) -> dict[str, str | None]:
    """Title, author and date from the PDF's document information, leaving out generators' placeholders."""
    title, author = (info.get("Title") or "").strip(), (info.get("Author") or "").strip()
    fields = {
        "title": None if _JUNK_TITLE.search(title) else title,
        "author": None if author.lower() in PLACEHOLDER_AUTHORS else author,
        "date": _pdf_date(info.get("CreationDate")),
    }
    return known_fields(fields, location, warnings)


def _boxes(textpage: Any, width: float, height: float, rotation: int) -> list[Box]:
    """The page's text runs, turned upright and placed with y growing downwards (``width`` and
    ``height`` are the page's before its rotation)."""
    boxes = []
    for (left, bottom, right, top), text in page_runs(textpage):
        text = _CONTROL.sub(" ", text.replace("\x02", "-").replace("\ufffe", "-"))
        if not text.strip():
            continue
        corners = [_upright(x, y, width, height, rotation) for x, y in ((left, bottom), (right, top))]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        boxes.append(Box(min(xs), min(ys), max(xs), max(ys), text))
    return boxes


def _upright(x: float, y: float, width: float, height: float, rotation: int) -> tuple[float, float]:
    """A point of the page (y up) as a reader sees it after the page's rotation (y down)."""
    if rotation == 90:
        return y, x
    if rotation == 180:
        return width - x, y
    if rotation == 270:
        return height - y, width - x
    return x, height - y


def _page_ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 7]`` as ``pp. 1–3, 7``."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    text = ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in spans)
    return f"{'pp.' if len(numbers) > 1 else 'p.'} {text}"


def _is_scan(page: Any, characters: int, width: float, height: float) -> bool:
    """A page that is mostly an image with little text on it: a scan (perhaps with a stamped page number)."""
    if characters >= SCANNED_MAX_TEXT:
        return False
    import pypdfium2.raw as pdfium_c

    covered = 0.0
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = image.get_bounds()
        covered += max(right - left, 0) * max(top - bottom, 0)
    return covered > 0 and (characters < SCANNED_MAX_CHARS or covered >= SCANNED_MIN_COVER * width * height)


def read_pdf(data: bytes, doc_id: str, location: str, options: ReadOptions) -> ReadResult:
    """A PDF as one article whose text records the page each part comes from; scans are OCR'd."""
    import pypdfium2 as pdfium

    result = ReadResult([], "")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise UnreadableFile(_open_reason(error)) from None
    try:
        pages: list[Page] = []
        scans: list[int] = []
        broken: list[int] = []
        for index in range(len(document)):
            try:
                page = document[index]
            except pdfium.PdfiumError:
                broken.append(index + 1)
                pages.append(Page(index + 1, [], 0.0))
                continue
            try:
                width, height = page.get_size()  # as displayed, the page's rotation applied
                rotation = page.get_rotation() % 360
                unrotated_width, unrotated_height = (height, width) if rotation in (90, 270) else (width, height)
                textpage = page.get_textpage()
                boxes = _boxes(textpage, unrotated_width, unrotated_height, rotation)
                characters = sum(len(box.text.strip()) for box in boxes)
                textpage.close()
                if _is_scan(page, characters, width, height):
                    scans.append(index + 1)
                    pages.append(Page(index + 1, [], height))
                else:
                    pages.append(Page(index + 1, read_lines(boxes), height))
            finally:
                page.close()
        ocr_pages = _recognise_scans(document, scans, pages, location, options, result)
        known = metadata(document.get_metadata_dict(skip_empty=True), location, result.warnings)
    finally:
        document.close()
    if broken:
        result.skipped.append((f"{location} ({_page_ranges(broken)})", "damaged page(s) that cannot be read"))
    paged = paragraphs(pages)
    if not paged.text.strip():
        reasons = [reason for where, reason in result.skipped if where.startswith(location)]
        result.skipped = [(where, why) for where, why in result.skipped if not where.startswith(location)]
        raise UnreadableFile(reasons[0] if reasons else "no text in the PDF")
    result.documents.append(RawDocument(doc_id, location, paged.text, known, pages=paged.pages, ocr_pages=ocr_pages))
    return result


def _recognise_scans(
    document: Any, scans: list[int], pages: list[Page], location: str, options: ReadOptions, result: ReadResult
) -> list[int]:
    """OCR the scanned pages in place (in ``pages``); returns the numbers of the pages read so."""
    if not scans:
        return []
    where = f"{location} ({_page_ranges(scans)})"
    if not options.ocr:
        result.skipped.append((where, "scanned page(s) without a text layer; OCR is off"))
        return []
    if ocr.tesseract() is None:
        result.skipped.append((where, f"scanned page(s) without a text layer; to read them, {ocr.ENABLE_HINT}"))
        return []
    done, failed = [], []
    if not options.progress:  # on a terminal the progress bar says it, page by page
        log.info("%s: reading %s by OCR (Tesseract, %s) …", location, _page_ranges(scans), options.ocr_language)
    progress = _progress(scans, location, options.progress)
    for number in progress:
        page = document[number - 1]
        try:
            bitmap = page.render(scale=ocr.DPI / 72, grayscale=True)  # upright: the page's rotation applied
            boxes = ocr.recognise(bitmap.to_numpy(), options.ocr_language)
        except ocr.OcrFailed as error:
            failed.append((number, str(error)))
            continue
        finally:
            page.close()
        pages[number - 1] = Page(number, read_lines(boxes), pages[number - 1].height)
        done.append(number)
    if failed:
        numbers = [number for number, _ in failed]
        result.skipped.append((f"{location} ({_page_ranges(numbers)})", f"OCR failed: {failed[0][1]}"))
    return done


def _progress(scans: list[int], location: str, show: bool) -> Any:
    if not show:
        return scans
    from tqdm.auto import tqdm

    return tqdm(scans, desc=f"OCR {location}", unit="page", leave=False, position=1)
