"""Reading a corpus folder: every format, and every kind of bad file skipped with its reason."""

from __future__ import annotations

import json
import logging
import os

import pytest

from qa.errors import CorpusError
from qa.ingest.corpus import load_corpus

GOOD = "Floods hit Lahore\n\nHeavy rain flooded large parts of Lahore on Saturday, officials said.\n"


def _reasons(load):
    return {skip.path: skip.reason for skip in load.skipped}


def test_seed_corpus_loads_all_five_articles_with_stable_ids(seed_corpus):
    load = load_corpus(seed_corpus)
    assert load.skipped == []
    assert sorted(a.id for a in load.articles) == sorted(p.stem for p in seed_corpus.glob("*.txt"))
    assert load.files.keys() == {p.name for p in seed_corpus.glob("*.txt")}


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\n \n", "empty file"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary file, not text"),
        ("report.pdf", b"%PDF-1.4 ...", "damaged PDF: not a readable PDF file"),
        (
            "memo.doc",
            b"\xd0\xcf\x11\xe0",
            "unsupported file type ('.doc'); use .txt, .md, .markdown, .html, .htm, .jsonl, .pdf, .docx, .eml, .mbox",
        ),
        (
            "README",
            b"some text",
            "unsupported file type (no extension); use .txt, .md, .markdown, .html, .htm, .jsonl, .pdf, .docx, .eml, .mbox",
        ),
        (
            "nav.txt",
            b"Home\nPrevious article\nNext article\nLEAVE A REPLY\n",
            "no usable paragraph (only boilerplate or too short)",
        ),
        ("bad.jsonl", b"{not json\n", "no usable article in the JSON lines file (1 bad lines)"),
    ],
)
def test_bad_files_are_skipped_with_a_reason_and_the_rest_indexed(tmp_path, name, content, reason, caplog):
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / name).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="qa"):
        load = load_corpus(tmp_path)
    assert [a.id for a in load.articles] == ["good"]
    assert _reasons(load) == {name: reason}
    assert f"skipped {name}: {reason}" in caplog.messages


def test_hidden_files_and_folders_are_skipped(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "notes.txt").write_text(GOOD, encoding="utf-8")
    load = load_corpus(tmp_path)
    assert [a.id for a in load.articles] == ["good"]
    assert _reasons(load) == {".DS_Store": "hidden file", ".git/": "hidden folder"}


def test_symlink_out_of_the_corpus_is_refused(tmp_path):
    corpus, outside = tmp_path / "corpus", tmp_path / "secret.txt"
    corpus.mkdir()
    outside.write_text(GOOD, encoding="utf-8")
    (corpus / "good.txt").write_text(GOOD.replace("Lahore", "Karachi"), encoding="utf-8")
    os.symlink(outside, corpus / "link.txt")
    os.symlink(tmp_path, corpus / "linkdir")
    load = load_corpus(corpus)
    assert [a.id for a in load.articles] == ["good"]
    reasons = _reasons(load)
    assert reasons["link.txt"].startswith("symlink points outside the corpus folder")
    assert reasons["linkdir/"].startswith("symlink points outside the corpus folder")


def test_broken_symlink_is_skipped(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    os.symlink(tmp_path / "missing.txt", tmp_path / "dangling.txt")
    assert _reasons(load_corpus(tmp_path)) == {"dangling.txt": "broken symlink"}


def test_non_utf8_text_falls_back_to_cp1252_with_a_warning(tmp_path, caplog):
    text = "Caf\u00e9 owners in Lahore said the \u201cflood\u201d cost them \u20ac500 each, officials said."
    (tmp_path / "latin.txt").write_bytes(("Headline\n\n" + text).encode("cp1252"))
    with caplog.at_level(logging.WARNING, logger="qa"):
        load = load_corpus(tmp_path)
    assert load.articles[0].text == text
    assert "latin.txt is not valid UTF-8; read it as cp1252 (Windows Latin-1)" in caplog.messages


def test_utf16_with_bom_is_read(tmp_path):
    (tmp_path / "wide.txt").write_bytes(GOOD.encode("utf-16"))
    assert "Heavy rain flooded" in load_corpus(tmp_path).articles[0].text


def test_strict_turns_skips_into_an_error(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(CorpusError, match=r"1 corpus file\(s\) could not be used \(strict\): empty.txt: empty file"):
        load_corpus(tmp_path, strict=True)


def test_empty_corpus_says_what_to_do(tmp_path):
    with pytest.raises(CorpusError, match=r"No usable articles in .*Put news articles there as \.txt"):
        load_corpus(tmp_path)


def test_missing_corpus_folder_says_what_to_do(tmp_path):
    with pytest.raises(CorpusError, match="No corpus folder at .*nowhere. Create it"):
        load_corpus(tmp_path / "nowhere")


def test_markdown_front_matter_wins_over_text_rules(tmp_path):
    (tmp_path / "story.md").write_text(
        "---\ntitle: Monsoon floods in Lahore\ndate: 2021-07-03\noutlet: Dawn\nauthor: [Jane Roe, John Doe]\n"
        "url: https://example.org/floods\nlanguage: en\n---\n# Floods\n\nHeavy rain flooded large parts\n"
        "of Lahore on Saturday, officials said.\n",
        encoding="utf-8",
    )
    article = load_corpus(tmp_path).articles[0]
    assert article.metadata() == {
        "id": "story",
        "title": "Monsoon floods in Lahore",
        "outlet": "Dawn",
        "author": "Jane Roe, John Doe",
        "date": "2021-07-03",
        "url": "https://example.org/floods",
        "path": "story.md",
    }
    assert article.language == "en"
    assert article.text == "Heavy rain flooded large parts of Lahore on Saturday, officials said."


def test_invalid_front_matter_is_ignored_with_a_warning(tmp_path, caplog):
    (tmp_path / "story.md").write_text("---\ntitle: [unclosed\n---\nHeadline\n\n" + GOOD, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="qa"):
        article = load_corpus(tmp_path).articles[0]
    assert "Heavy rain flooded" in article.text
    assert any("front matter is not valid YAML" in message for message in caplog.messages)


def test_html_article_is_extracted_with_trafilatura(tmp_path):
    (tmp_path / "page.html").write_text(
        "<html><head><title>Floods hit Lahore | Dawn</title><meta name='author' content='Jane Roe'>"
        "<meta property='article:published_time' content='2021-07-03T10:00:00Z'>"
        "<meta property='og:site_name' content='Dawn'></head><body><nav>Home | World | Sports</nav>"
        "<article><h1>Floods hit Lahore</h1><p>Heavy rain flooded large parts of Lahore on Saturday, officials "
        "said, as the monsoon arrived early this year.</p><p>The city's drainage system was overwhelmed within "
        "hours, and traffic came to a standstill on the main roads.</p></article>"
        "<footer>© 2021 Dawn</footer></body></html>",
        encoding="utf-8",
    )
    article = load_corpus(tmp_path).articles[0]
    assert (article.title, article.author, article.date, article.outlet) == (
        "Floods hit Lahore",
        "Jane Roe",
        "2021-07-03",
        "Dawn",
    )
    assert article.text.split("\n\n") == [
        "Heavy rain flooded large parts of Lahore on Saturday, officials said, as the monsoon arrived early this year.",
        "The city's drainage system was overwhelmed within hours, and traffic came to a standstill on the main roads.",
    ]


def test_jsonl_gives_one_article_per_line_and_skips_bad_lines(tmp_path):
    rows = [
        {
            "id": "A-1",
            "title": "Floods",
            "text": "Heavy rain flooded large parts of Lahore on Saturday.",
            "outlet": "Dawn",
        },
        "not an object",
        {"title": "no text"},
        {"text": "Traffic came to a standstill on the main roads of Karachi.", "date": "3 March 2021"},
    ]
    lines = [json.dumps(row) for row in rows] + ["{broken"]
    (tmp_path / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    load = load_corpus(tmp_path)
    assert [(a.id, a.outlet, a.date) for a in load.articles] == [
        ("feed/a-1", "Dawn", None),
        ("feed/4", None, "2021-03-03"),
    ]
    assert _reasons(load) == {
        "feed.jsonl:2": "no 'text' field with article text",
        "feed.jsonl:3": "no 'text' field with article text",
        "feed.jsonl:5": "not valid JSON (Expecting property name enclosed in double quotes)",
    }


def test_duplicate_articles_are_indexed_once(tmp_path):
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.txt").write_text(GOOD, encoding="utf-8")
    load = load_corpus(tmp_path)
    assert [a.id for a in load.articles] == ["a"]
    assert _reasons(load) == {"b.txt": "same text as a.txt (duplicate)"}


def test_ids_are_readable_and_unique(tmp_path):
    (tmp_path / "World News").mkdir()
    (tmp_path / "World News" / "Floods in Lahore!.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "story.txt").write_text(GOOD.replace("Lahore", "Quetta"), encoding="utf-8")
    (tmp_path / "story.md").write_text(GOOD.replace("Lahore", "Multan"), encoding="utf-8")
    (tmp_path / "Überschwemmung.txt").write_text(GOOD.replace("Lahore", "Sukkur"), encoding="utf-8")
    ids = sorted(a.id for a in load_corpus(tmp_path).articles)
    assert ids == ["story-md", "story-txt", "uberschwemmung", "world-news/floods-in-lahore"]
