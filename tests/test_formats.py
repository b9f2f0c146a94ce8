"""PDF, scanned pages, Word, e-mail and Markdown: the right passage, its page and span, no furniture.

Every fixture is generated here (reportlab, python-docx, the standard library's email), built
into a real index and searched; damaged files are skipped with a reason while the rest index.
"""

from __future__ import annotations

import json
import logging
import shutil
import zipfile
from pathlib import Path

import pytest

from qa.index.build import build_index
from qa.ingest.corpus import load_corpus
from qa.ingest.sources import ReadOptions
from qa.search.retriever import Retriever
from tests.support import documents as docs

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed (make ocr)")


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder as a reporter keeps it: a report (PDF, no scan), a memo, a tip-off e-mail with an
    attachment, a mailbox, a Markdown note, and damaged files of each kind."""
    folder = tmp_path_factory.mktemp("newsroom")
    docs.build_report_pdf(folder / "report.pdf", scan=False)
    docs.build_memo_docx(folder / "memo.docx")
    attachment = docs.build_plain_pdf(
        folder.parent / "ledger.pdf",
        ["The ledger lists forty payments to the harbour office between March and May."],
        title="Harbour ledger extract",
    )
    tip = docs.tip_message(("ledger.pdf", attachment.read_bytes(), "application/pdf"))
    tip.add_attachment(b"\x89PNG\r\n\x1a\n", maintype="image", subtype="png", filename="photo.png")
    (folder / "tip.eml").write_bytes(bytes(tip))
    second = docs.tip_message(html=True)
    second.replace_header("Subject", "Re: night departures")
    first = docs.tip_message()
    first.replace_header("Subject", "Boats leaving at night")
    first.set_content(
        "The boats left the harbour at two in the morning, three nights a week, all through the spring.\n"
    )
    docs.build_mbox(folder / "inbox.mbox", [first, second])
    (folder / "note.md").write_text(
        "# Council meeting\n\nCouncillor **Priya Raman** said the [harbour report](https://example.org/r) "
        "was *ignored* by the port board for two years.\n\n- The board met `twice` in 2023 and never discussed it.\n",
        encoding="utf-8",
    )
    (folder / "truncated.pdf").write_bytes((folder / "report.pdf").read_bytes()[:700])
    docs.build_encrypted_pdf(folder / "locked.pdf")
    memo = (folder / "memo.docx").read_bytes()
    (folder / "broken.docx").write_bytes(memo[: len(memo) // 2])
    (folder / "garbage.eml").write_bytes(b"\x00\x01\x02 this is not mail at all")
    (folder / "notes.mbox").write_bytes(b"Subject: no envelope line\n\nA mailbox must start with a From line.\n")
    return folder


@pytest.fixture(scope="module")
def retriever(newsroom: Path, tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    index_dir = tmp_path_factory.mktemp("indexes") / "newsroom"
    build_index(newsroom, index_dir, model="none")
    return Retriever.load(index_dir)


def _top(retriever: Retriever, question: str, k: int = 3):
    hits = retriever.ask(question, k).hits
    assert hits, question
    return hits[0]


def _all_passages(retriever: Retriever) -> list[str]:
    return [passage.text for passage in retriever.passages]


def _exact(retriever: Retriever, hit) -> None:
    article = retriever.article(hit.article.id)
    assert article.text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text


# -- PDF ---------------------------------------------------------------------------------


def test_pdf_passage_cites_its_page_and_its_span_is_exact(retriever):
    hit = _top(retriever, "Who paid the port inspectors in Khulna to look away?")
    assert hit.article.path == "report.pdf"
    assert hit.passage.text == (
        "Port inspectors in Khulna were paid to look away when the boats left at night, "
        "according to six crew members we interviewed separately over two months."
    )
    assert (hit.passage.page, hit.passage.page_end, hit.passage.ocr) == (2, 2, False)
    _exact(retriever, hit)
    data = hit.to_dict()
    assert (data["page"], data["page_end"], data["ocr"]) == (2, 2, False)
    assert data["citation"] == f'"{docs.REPORT_TITLE}", {docs.REPORT_AUTHOR}, 2024-03-15, p. 2, ¶3'


def test_pdf_paragraph_running_across_a_page_break_cites_both_pages(retriever):
    hit = _top(retriever, "What did the lawyers of the shipping company decline to answer?")
    assert hit.passage.text.endswith("for the months of March and April in the year of the flooding.")
    assert (hit.passage.page, hit.passage.page_end) == (2, 3)
    assert hit.citation.endswith("pp. 2–3, ¶5")
    _exact(retriever, hit)


def test_pdf_two_columns_are_read_one_after_the_other_with_hyphenation_undone(retriever):
    article = retriever.article("report")
    paragraphs = article.text.split("\n\n")
    assert paragraphs[:6] == [
        " ".join(docs.P1_LINES).replace("inter- national", "international"),
        " ".join(docs.P1_SECOND),
        "Port inspectors in Khulna were paid to look away when the boats left at night, "
        "according to six crew members we interviewed separately over two months.",
        "Harbour records for 2023 list no departures at all after ten in the evening.",
        " ".join(docs.P2_RIGHT) + " " + docs.P3_LINES[0],
        docs.P3_LINES[2],
    ]
    assert "forty-two" in paragraphs[0]  # a real hyphen at no line end stays
    assert [page for _, page in article.pages] == [1, 2, 3]


def test_pdf_running_headers_footers_and_page_numbers_are_not_passages(retriever):
    for text in _all_passages(retriever):
        assert "Delta Watch" not in text and "Annual Report 2024" not in text
        assert "Page 2 of 4" not in text and "of 4" not in text


def test_pdf_metadata_gives_title_author_and_date(retriever):
    article = retriever.article("report")
    assert (article.title, article.author, article.date) == (docs.REPORT_TITLE, docs.REPORT_AUTHOR, "2024-03-15")


def test_sources_without_pages_have_null_pages_in_json(retriever):
    hit = _top(retriever, "What did the harbour master tell the inquiry about the logbook?")
    assert hit.article.path == "memo.docx"
    data = hit.to_dict()
    assert (data["page"], data["page_end"], data["ocr"]) == (None, None, False)
    assert "p." not in data["citation"]


def test_damaged_and_encrypted_files_are_skipped_with_a_reason_and_the_rest_indexed(newsroom, caplog):
    with caplog.at_level(logging.WARNING, logger="qa"):
        load = load_corpus(newsroom)
    reasons = {skip.path: skip.reason for skip in load.skipped}
    assert reasons["truncated.pdf"] == "damaged PDF: not a readable PDF file"
    assert reasons["locked.pdf"].startswith("encrypted PDF: it needs a password to open")
    assert reasons["broken.docx"] == "damaged Word document: not a readable .docx (zip) file"
    assert reasons["garbage.eml"] == "not an e-mail message: no headers"
    assert reasons["notes.mbox"] == "not an mbox mailbox: it does not start with a 'From ' line"
    assert reasons["tip.eml » photo.png"] == "attachment of an unsupported file type ('.png')"
    assert (
        "skipped locked.pdf: encrypted PDF: it needs a password to open; save a copy without the password and build again"
        in caplog.messages
    )
    assert {a.path for a in load.articles} == {
        "report.pdf",
        "memo.docx",
        "tip.eml",
        "tip.eml » ledger.pdf",
        "inbox.mbox:1",
        "inbox.mbox:2",
        "note.md",
    }


def test_a_docx_that_expands_too_far_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "bomb.docx", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w/>" + b" " * (300 << 20))
    (tmp_path / "good.txt").write_text("Floods\n\nHeavy rain flooded large parts of Lahore on Saturday.\n")
    reasons = {skip.path: skip.reason for skip in load_corpus(tmp_path).skipped}
    assert reasons == {"bomb.docx": "the Word document expands to 300 MB, over the 256 MB limit"}


def test_a_rotated_page_is_read_the_way_it_is_shown(tmp_path):
    lines = [
        "The first line of a page that is stored on its side and shown upright",
        "by the viewer, so its text has to be turned before the lines are put",
        "in order; otherwise the words come out sideways or back to front.",
    ]
    docs.build_rotated_pdf(tmp_path / "turned.pdf", lines)
    assert load_corpus(tmp_path).articles[0].text == " ".join(lines)


@needs_tesseract
@pytest.mark.slow
def test_scanned_page_is_read_by_ocr_and_marked(tmp_path):
    docs.build_report_pdf(tmp_path / "report.pdf", scan=True)
    build_index(tmp_path, tmp_path / "index", model="none")
    retriever = Retriever.load(tmp_path / "index")
    hit = _top(retriever, "What did the recruiters confiscate?")
    assert "the recruiters confiscated every passport on the first day of the journey." in hit.passage.text
    assert (hit.passage.page, hit.passage.page_end, hit.passage.ocr) == (4, 4, True)
    assert json.loads(json.dumps(hit.to_dict()))["ocr"] is True
    _exact(retriever, hit)
    assert retriever.article("report").ocr_pages == (4,)
    # The text pages are not OCR'd, and the scan's stamped running header is still dropped.
    assert not _top(retriever, "Who paid the port inspectors in Khulna?").passage.ocr
    assert not any("Delta Watch" in text for text in _all_passages(retriever))


def test_scanned_page_without_ocr_is_reported_with_how_to_turn_it_on(tmp_path):
    docs.build_report_pdf(tmp_path / "report.pdf", scan=True)
    load = load_corpus(tmp_path, options=ReadOptions(ocr=False))
    assert [(s.path, s.reason) for s in load.skipped] == [
        ("report.pdf (p. 4)", "scanned page(s) without a text layer; OCR is off")
    ]
    assert load.articles[0].ocr_pages == ()
    assert "confiscated" not in load.articles[0].text


def test_scanned_page_without_tesseract_says_how_to_install_it(tmp_path, monkeypatch):
    docs.build_report_pdf(tmp_path / "report.pdf", scan=True)
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    load = load_corpus(tmp_path)
    assert [(s.path, s.reason) for s in load.skipped] == [
        (
            "report.pdf (p. 4)",
            "scanned page(s) without a text layer; to read them, install Tesseract with `make ocr` "
            "(Debian/Ubuntu: `sudo apt-get install tesseract-ocr`), then build again",
        )
    ]
    assert "Witness" not in load.articles[0].text


# -- Word --------------------------------------------------------------------------------


def test_docx_paragraphs_are_passages_with_core_properties(retriever):
    hit = _top(retriever, "Was there an inspector on the night shift?")
    assert hit.article.path == "memo.docx"
    assert hit.passage.text == (
        "Two customs officers confirmed that the night shift had no inspector on duty for most of 2023, "
        "and that nobody had asked them to report the boats."
    )
    assert (hit.article.title, hit.article.author, hit.article.date) == (
        docs.DOCX_TITLE,
        "Tomas Lindqvist",
        "2024-02-09",
    )
    _exact(retriever, hit)


def test_docx_headers_footers_and_headings_are_not_passages(retriever):
    memo = [p.text for p in retriever.passages if p.article_id == "memo"]
    assert memo[0].startswith("The harbour master told the inquiry")
    assert not any("CONFIDENTIAL" in text or text == "Background" or "Page 1" in text for text in memo)


# -- E-mail ------------------------------------------------------------------------------


def test_email_body_is_a_passage_with_subject_sender_and_date(retriever):
    hit = _top(retriever, "How much did the captains pay the inspectors?")
    assert hit.article.path == "tip.eml"
    assert (hit.article.title, hit.article.author, hit.article.date) == (
        docs.MAIL_SUBJECT,
        "Rahim Chowdhury",
        "2024-03-12",
    )
    assert "two hundred dollars a boat" in hit.passage.text
    _exact(retriever, hit)


def test_email_quoted_replies_and_signatures_are_not_passages(retriever):
    texts = _all_passages(retriever)
    assert not any("Can you tell us more" in text or "wrote:" in text for text in texts)
    assert not any("secure mail service" in text or "former harbour clerk" in text for text in texts)


def test_email_attachment_is_its_own_article_linked_to_the_message(retriever):
    hit = _top(retriever, "How many payments does the ledger list?")
    assert hit.article.path == "tip.eml » ledger.pdf"
    assert hit.article.attached_to == "tip"
    assert (hit.article.title, hit.passage.page) == ("Harbour ledger extract", 1)
    _exact(retriever, hit)


def test_mbox_messages_are_articles_and_html_only_mail_is_cleaned(retriever):
    hit = _top(retriever, "When did the boats leave the harbour?")
    assert (hit.article.id, hit.article.path, hit.article.title) == (
        "inbox/1",
        "inbox.mbox:1",
        "Boats leaving at night",
    )
    html_only = retriever.article("inbox/2")
    assert html_only.title == "Re: night departures"
    assert html_only.text.startswith("I kept the night register at the harbour until last year.")
    assert "Can you tell us more" not in html_only.text and "former harbour clerk" not in html_only.text


# -- Markdown ----------------------------------------------------------------------------


def test_markdown_passages_hold_the_text_a_reader_sees(retriever):
    hit = _top(retriever, "What did Councillor Priya Raman say about the harbour report?")
    assert (
        hit.passage.text
        == (
            "Councillor Priya Raman said the harbour report was ignored by the port board for two years. "
            "The board met twice in 2023 and never discussed it."
        )
        or hit.passage.text
        == "Councillor Priya Raman said the harbour report was ignored by the port board for two years."
    )
    for text in _all_passages(retriever):
        assert "**" not in text and "](" not in text and "`" not in text and not text.startswith("#")
    _exact(retriever, hit)


@pytest.mark.parametrize(
    "source,text",
    [
        ("# Title\n\nSoft wrapped\nmarkdown text.", "Title\n\nSoft wrapped markdown text."),
        (
            "Councillor **Priya Raman** met _them_ at [the hall](https://x.org).",
            "Councillor Priya Raman met them at the hall.",
        ),
        ("- item one\n- item two\n\n3. third\n4. fourth", "item one\n\nitem two\n\n3. third\n\n4. fourth"),
        ("| Name | Paid |\n|---|---|\n| Osei | £1.4m |", "Name | Paid\n\nOsei | £1.4m"),
        ("Code `x = 1` and ![a chart](c.png) and <b>tags</b> &amp; entities.", "Code x = 1 and and tags & entities."),
        ("> A quoted\n> statement.", "A quoted statement."),
    ],
)
def test_markdown_renders_to_the_text_a_reader_sees(source, text):
    from qa.ingest.formats.markdown import markdown_text

    assert markdown_text(source) == text


# -- The skipped-file report, the page and the CLI -----------------------------------------


def test_manifest_keeps_every_skipped_file_and_qa_info_lists_them(retriever, capsys):
    from qa.serve.cli import main

    skipped = {skip.path: skip.reason for skip in retriever.manifest.skipped()}
    assert skipped["locked.pdf"].startswith("encrypted PDF")
    assert skipped["tip.eml » photo.png"] == "attachment of an unsupported file type ('.png')"
    assert len(skipped) == 6
    assert main(["info", "--index", str(retriever.index_dir)]) == 0
    out = capsys.readouterr().out
    assert "skipped          6 file(s), not indexed:" in out
    assert "  broken.docx: damaged Word document: not a readable .docx (zip) file" in out


def test_about_page_lists_the_skipped_files(retriever):
    from qa.serve.service import Service

    about = Service(retriever).about_html()
    assert "Not indexed: 6 file(s)" in about
    assert "<code>locked.pdf</code></td><td>encrypted PDF: it needs a password to open" in about


def test_reader_shows_page_markers_and_marks_the_cited_paragraph(retriever):
    from qa.serve import web

    hit = _top(retriever, "What did the lawyers of the shipping company decline to answer?")
    html = web.render_article(hit.article, hit.passage.char_start, hit.passage.char_end)
    assert html.index('id="qa-page-1"') < html.index('id="qa-p-1"') < html.index('id="qa-page-2"')
    assert html.index('id="qa-page-2"') < html.index('id="qa-p-3"')
    cited = html[html.index('<p class="qa-para qa-cited" id="qa-p-5">') :]
    cited = cited[: cited.index("</p>")]
    assert (
        'for the months of March and April <span class="qa-page-break" aria-label="page 3 starts">p. 3</span>' in cited
    )
    assert "in the year of the flooding." in cited
    card = web.render_hit(hit)
    assert "2024-03-15 · pp. 2–3 · ¶5" in card and "qa-ocr" not in card


def test_build_refuses_an_ocr_language_tesseract_lacks(tmp_path, capsys, monkeypatch):
    from qa.serve.cli import main

    if shutil.which("tesseract") is None:
        pytest.skip("Tesseract is not installed (make ocr)")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text("Floods\n\nHeavy rain flooded large parts of Lahore on Saturday.\n")
    code = main(["build", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i"), "--ocr-lang", "xxx"])
    err = capsys.readouterr().err
    assert code == 1
    assert "error: Tesseract has no language data for xxx" in err and "tesseract-ocr-xxx" in err


def test_ocr_card_and_cli_mark_scanned_text(tmp_path):
    from qa.records import Article, Hit, Passage
    from qa.serve import render, web

    article = Article("scan", "scan.pdf", "The witness said so.", pages=((0, 4),), ocr_pages=(4,))
    hit = Hit(1, 1.0, {"lexical": 1.0}, Passage("scan", 1, 0, 20, article.text, 4, 4, True), article, (0, 20))
    assert '<span class="qa-ocr" title="Read from a scanned page by OCR' in web.render_hit(hit)
    assert "[OCR text, read from a scanned page: check it against the original before quoting]" in render.format_hit(
        hit
    )
    assert "Page 4 · OCR" in web.render_article(article, 0, 20)
