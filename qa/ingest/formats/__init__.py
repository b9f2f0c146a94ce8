"""Readers for the documents journalists hold besides web pages: PDF (with OCR), Word, e-mail.

Each reader turns a file's bytes into raw documents (qa.ingest.sources.ReadResult); the
corpus loader cleans them like any other article. Their libraries load on first use.
"""

from __future__ import annotations

from qa.ingest.sources import ReadOptions, ReadResult

# Names document generators put where the author goes when nobody set one.
PLACEHOLDER_AUTHORS = frozenset({"anonymous", "author", "administrator", "owner", "python-docx", "unknown", "user"})


def read_document(data: bytes, suffix: str, doc_id: str, location: str, options: ReadOptions) -> ReadResult:
    """The raw documents of one .pdf, .docx, .eml or .mbox file; raises UnreadableFile with the reason."""
    if suffix == ".pdf":
        from qa.ingest.formats.pdf import read_pdf

        return read_pdf(data, doc_id, location, options)
    if suffix == ".docx":
        from qa.ingest.formats.docx import read_docx

        return read_docx(data, doc_id, location)
    from qa.ingest.formats.mail import read_eml, read_mbox

    if suffix == ".eml":
        return read_eml(data, doc_id, location, options)
    if suffix == ".mbox":
        return read_mbox(data, doc_id, location, options)
    raise ValueError(f"no document reader for {suffix!r} (add one here and to DOCUMENT_SUFFIXES)")
