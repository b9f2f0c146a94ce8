"""Word documents (.docx, read with python-docx): paragraphs as the author wrote them, headings, core properties."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from qa.ingest.formats import PLACEHOLDER_AUTHORS
from qa.ingest.sources import RawDocument, ReadResult, UnreadableFile, known_fields

MAX_EXPANDED_BYTES = 256 << 20  # a .docx is a zip file: refuse one that inflates past this (a "zip bomb")


def _check_archive(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(item.file_size for item in archive.infolist())
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnreadableFile("damaged Word document: not a readable .docx (zip) file") from None
    if "word/document.xml" not in names:
        raise UnreadableFile("not a Word document: the .docx file has no word/document.xml")
    if expanded > MAX_EXPANDED_BYTES:
        raise UnreadableFile(
            f"the Word document expands to {expanded >> 20:,} MB, over the {MAX_EXPANDED_BYTES >> 20} MB limit"
        )


def _blocks(document: Any) -> list[tuple[str, str]]:
    """(style name, text) of every paragraph in reading order; a table row is one block, cells joined."""
    blocks = []
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                        cells.append(text)
                if cells:
                    blocks.append(("Table", " | ".join(cells)))
        else:
            style = item.style.name if item.style is not None else ""
            blocks.append((style or "", " ".join(item.text.split())))
    return [(style, text) for style, text in blocks if text]


def _is_heading(style: str) -> bool:
    return style == "Title" or style.startswith("Heading")


def read_docx(data: bytes, doc_id: str, location: str) -> ReadResult:
    """A .docx as one article: one paragraph per Word paragraph; title, author and date from its
    core properties, else the title from its Title or first heading paragraph."""
    _check_archive(data)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = _blocks(document)
        properties = document.core_properties
        stated = {
            "title": properties.title,
            "author": properties.author if (properties.author or "").lower() not in PLACEHOLDER_AUTHORS else None,
            "date": properties.created.date().isoformat() if properties.created else None,
            "language": properties.language,
        }
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise UnreadableFile(f"damaged Word document ({error})") from None
    except Exception as error:  # lxml's XMLSyntaxError and kin: a broken part inside the zip
        if type(error).__module__.startswith(("lxml", "docx")):
            raise UnreadableFile(f"damaged Word document ({type(error).__name__}: {error})") from None
        raise
    if not blocks:
        raise UnreadableFile("no text in the Word document")
    result = ReadResult([], "")
    if not stated["title"]:
        headings = [text for style, text in blocks if style == "Title"] or [
            text for style, text in blocks if _is_heading(style)
        ]
        stated["title"] = headings[0] if headings else None
    known = known_fields(stated, location, result.warnings)
    text = "\n\n".join(text for _, text in blocks)
    result.documents.append(RawDocument(doc_id, location, text, known))
    return result
