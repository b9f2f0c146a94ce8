"""Reading one corpus file: formats, encodings, front matter, and why a file cannot be used."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.ingest.dates import normalize_date
from qa.ingest.limits import MAX_FRONT_MATTER_CHARS, UnreadableFile, cap_field, read_capped
from qa.settings import DEFAULT_OCR_LANGUAGE

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl",)
DOCUMENT_SUFFIXES = (".pdf", ".docx", ".eml", ".mbox")  # read by qa.ingest.formats
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES + DOCUMENT_SUFFIXES
KNOWN_FIELDS = ("title", "date", "outlet", "author", "url", "language")
_FIELD_ALIASES = {
    "source": "outlet",
    "publisher": "outlet",
    "site": "outlet",
    "sitename": "outlet",
    "authors": "author",
    "lang": "language",
    "published": "date",
    "link": "url",
}
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_BINARY_SAMPLE = 8192
ALIAS_PROBLEM = "uses an alias (*name)"


@dataclass
class RawDocument:
    """One article as read from disk, before cleaning: text plus metadata the file states.

    A paged document (PDF) gives ``pages``: (offset in ``text``, page number) where each
    page's text starts, and ``ocr_pages``, the pages whose text was read by OCR.
    """

    id: str
    path: str
    text: str
    known: dict[str, str | None] = field(default_factory=dict)
    pages: list[tuple[int, int]] | None = None
    ocr_pages: list[int] = field(default_factory=list)
    attached_to: str | None = None  # the id of the e-mail this document was attached to


@dataclass(frozen=True)
class ReadOptions:
    """How documents are read: OCR of scanned pages (Tesseract language codes such as ``eng``,
    ``fra+eng``), and whether slow steps show progress bars."""

    ocr: bool = True
    ocr_language: str = DEFAULT_OCR_LANGUAGE
    progress: bool = False


@dataclass
class ReadResult:
    documents: list[RawDocument]
    sha256: str
    warnings: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (location, reason) of bad records


def slugify(text: str) -> str:
    """A readable, stable id fragment: ASCII lowercase words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def decode_bytes(data: bytes, location: str) -> tuple[str, list[str]]:
    """Text from bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252 with a warning."""
    if not data.strip():
        raise UnreadableFile("empty file")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError as error:
            raise UnreadableFile(f"broken UTF-16 text ({error.reason})") from None
    if b"\x00" in data[:_BINARY_SAMPLE]:
        raise UnreadableFile("binary file, not text")
    try:
        text = data.decode("utf-8-sig")
        warnings = []
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        warnings = [f"{location} is not valid UTF-8; read it as cp1252 (Windows Latin-1)"]
    sample = text[:_BINARY_SAMPLE]
    controls = sum(1 for char in sample if unicodedata.category(char) == "Cc" and char not in "\t\n\r\f")
    if controls > 0.05 * len(sample):
        raise UnreadableFile("binary file, not text")
    return text, warnings


def known_fields(record: dict[str, Any], location: str, warnings: list[str]) -> dict[str, str | None]:
    """Metadata fields a file states itself (front matter, JSON fields), normalised."""
    known: dict[str, str | None] = {}
    for key, value in record.items():
        name = _FIELD_ALIASES.get(str(key).lower(), str(key).lower())
        if name not in KNOWN_FIELDS or value in (None, "", []) or name in known:
            continue
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        text = cap_field(name, " ".join(str(value).split()), location, warnings)
        if name == "date":
            date = normalize_date(text)
            if date is None:
                warnings.append(f"{location}: date {text!r} is not a recognisable date; left empty")
            known[name] = date
        else:
            known[name] = text
    return known


def _front_matter_loader() -> type:
    """PyYAML's safe loader, refusing aliases: `*name` can expand ~500 bytes into gigabytes ("billion laughs")."""
    import yaml

    class FrontMatterLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(None, None, ALIAS_PROBLEM, event.start_mark)
            return super().compose_node(parent, index)

    return FrontMatterLoader


def split_front_matter(text: str, location: str, warnings: list[str]) -> tuple[dict[str, str | None], str]:
    """A leading YAML block (title, date, outlet, author, url, language) and the text after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    import yaml

    if len(match.group(1)) > MAX_FRONT_MATTER_CHARS:
        warnings.append(f"{location}: front matter is longer than {MAX_FRONT_MATTER_CHARS:,} characters; ignored it")
        return {}, text[match.end() :]
    try:
        data = yaml.load(match.group(1), Loader=_front_matter_loader())  # a SafeLoader that refuses aliases
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        if str(getattr(error, "problem", "")).startswith(ALIAS_PROBLEM):
            why = f"{ALIAS_PROBLEM}{where}, which may expand without limit"
        else:
            why = f"is not valid YAML{where}"
        warnings.append(f"{location}: front matter {why}; ignored it")
        return {}, text[match.end() :]
    except RecursionError:
        warnings.append(f"{location}: front matter is nested too deeply; ignored it")
        return {}, text[match.end() :]
    if not isinstance(data, dict):
        warnings.append(f"{location}: front matter is not a set of 'key: value' fields; ignored it")
        return {}, text[match.end() :]
    return known_fields(data, location, warnings), text[match.end() :]


def _read_html(text: str, location: str) -> tuple[dict[str, str | None], str]:
    import trafilatura

    document = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False)
    fields = document if isinstance(document, dict) else document.as_dict() if document is not None else {}
    body = fields.get("text") or ""
    if not body.strip():
        raise UnreadableFile("no article text found in the HTML")
    known = known_fields(
        {
            "title": fields.get("title"),
            "date": fields.get("date"),
            "outlet": fields.get("sitename"),
            "author": fields.get("author"),
            "url": fields.get("url"),
            "language": fields.get("language"),
        },
        location,
        [],
    )
    return known, body


def html_text(markup: str) -> str:
    """The readable text of an HTML page or fragment: trafilatura's main text, else all of its text."""
    import lxml.html
    import trafilatura
    from lxml import etree

    text = trafilatura.extract(markup, include_comments=False, include_tables=True) or ""
    if text.strip():
        return text
    try:
        root = lxml.html.fromstring(markup)
    except (ValueError, etree.ParserError):
        return ""
    for element in root.xpath("//script|//style|//head"):
        element.drop_tree()
    for element in root.iter("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"):
        element.tail = "\n" + (element.tail or "")
    return root.text_content()


def _read_jsonl(text: str, base_id: str, location: str, result: ReadResult) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{location}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            result.skipped.append((where, f"not valid JSON ({error.msg})"))
            continue
        except RecursionError:
            result.skipped.append((where, "JSON nested too deeply"))
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
            result.skipped.append((where, "no 'text' field with article text"))
            continue
        record_id = slugify(str(record["id"])[:200]) if record.get("id") not in (None, "") else ""
        doc_id = f"{base_id}/{record_id or number}"
        known = known_fields(record, where, result.warnings)
        result.documents.append(RawDocument(doc_id, where, record["text"], known))


def unsupported(suffix: str) -> UnreadableFile:
    kind = f"'{suffix}'" if suffix else "no extension"
    return UnreadableFile(f"unsupported file type ({kind}); use {', '.join(SUPPORTED_SUFFIXES)}")


def read_file(path: Path, doc_id: str, location: str, options: ReadOptions | None = None) -> ReadResult:
    """Read a supported file into raw documents; raises UnreadableFile with the reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise unsupported(suffix)
    data = read_capped(path)  # every format reads through this: size cap, no FIFO hang
    return read_data(data, suffix, doc_id, location, options or ReadOptions())


def read_data(data: bytes, suffix: str, doc_id: str, location: str, options: ReadOptions) -> ReadResult:
    """Raw documents from the bytes of a file of type ``suffix`` (a corpus file, or an e-mail attachment)."""
    if suffix in DOCUMENT_SUFFIXES:
        if not data:
            raise UnreadableFile("empty file")
        from qa.ingest.formats import read_document

        result = read_document(data, suffix, doc_id, location, options)
        result.sha256 = hashlib.sha256(data).hexdigest()
        return result
    if suffix not in SUPPORTED_SUFFIXES:
        raise unsupported(suffix)
    text, warnings = decode_bytes(data, location)
    result = ReadResult([], hashlib.sha256(data).hexdigest(), warnings)
    if suffix in JSONL_SUFFIXES:
        _read_jsonl(text, doc_id, location, result)
        if not result.documents:
            raise UnreadableFile(
                "no usable article in the JSON lines file"
                + (f" ({len(result.skipped)} bad lines)" if result.skipped else "")
            )
        return result
    if suffix in HTML_SUFFIXES:
        known, body = _read_html(text, location)
        result.documents.append(RawDocument(doc_id, location, body, known))
        return result
    known, body = split_front_matter(text, location, result.warnings)
    if suffix != ".txt":
        from qa.ingest.formats.markdown import markdown_text

        body = markdown_text(body)  # the text a reader of the rendered page sees
    result.documents.append(RawDocument(doc_id, location, body, known))
    return result
