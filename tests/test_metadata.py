"""Metadata read from the raw text: what the text states, and nothing it does not."""

from __future__ import annotations

import pytest

from qa.ingest.cleaning import clean_lines, split_lines
from qa.ingest.dates import find_date, normalize_date
from qa.ingest.metadata import extract_metadata, is_dateline, is_title_like

SEEDS = {
    # file in corpus/: (title, date, author, outlet)
    "national-review-pakistan-backs-off-prosecuting-chinese-traffickers.txt": (
        "Pakistan Backs Off Prosecuting Chinese Sex Traffickers to Preserve Economic Ties to Beijing: Report",
        None,
        "Zachary Evans",
        "National Review",
    ),
    "2019-05-11-pakistan-china-working-closely-on-women-trafficking.txt": (
        "Pakistan, China working closely on women trafficking",
        "2019-05-11",
        None,
        None,
    ),
    "shafaqna-2024-01-01-human-trafficking-glaring-failure-of-the-state.txt": (
        None,
        "2024-01-01",
        "Arsal Mir",
        "Shafaqna Pakistan",
    ),
    "breaking-the-chains-of-human-trafficking-in-pakistan.txt": (
        "Breaking the chains of human trafficking in Pakistan",
        None,
        "Majid Nabi Burfat",
        None,
    ),
    "2018-09-25-pakistanis-lobby-to-free-wives-trapped-in-xinjiang.txt": (
        "China’s Big Mistake: Pakistanis Lobby to Free Wives Trapped in Xinjiang",
        "2018-09-25",
        "Christian Shepherd & Philip Wen",
        None,
    ),
}


@pytest.mark.parametrize("name,expected", SEEDS.items(), ids=list(SEEDS))
def test_seed_article_metadata(seed_corpus, name, expected):
    cleaned = clean_lines(split_lines((seed_corpus / name).read_text(encoding="utf-8")))
    meta = cleaned.metadata
    assert (meta.title, meta.date, meta.author, meta.outlet) == expected


@pytest.mark.parametrize(
    "lines,field,expected",
    [
        ([" date 2019-05-11 Floods hit Lahore", "Body text goes here and it is long."], "date", "2019-05-11"),
        ([" date 2019-05-11 Floods hit Lahore", "Body text goes here and it is long."], "title", "Floods hit Lahore"),
        (["Headline", "September 25, 2018 Updated: September 26, 2018", "Body."], "date", "2018-09-25"),
        (["Headline", "Published: 3 March 2021", "Body."], "date", "2021-03-03"),
        (["Headline", "Posted on Mar. 3, 2021 at 10:15 am", "Body."], "date", "2021-03-03"),
        (["Headline", "2020-03-12T10:00:00Z", "Body."], "date", "2020-03-12"),
        (["Headline", "Body.", "By Jane Roe"], "author", "Jane Roe"),
        (["Headline", "Body.", "By Jane Roe and John Doe"], "author", "Jane Roe and John Doe"),
        (["Headline", "By Jane Roe | Dawn", "Body."], "outlet", "Dawn"),
        (["Headline", "Body.", "Jane Roe is a staff reporter for The Dawn. She covers courts."], "author", "Jane Roe"),
        (["Headline", "Body.", "Jane Roe is a staff reporter for The Dawn. She covers courts."], "outlet", "The Dawn"),
        (["Headline", "Body.", "Jane Roe is a news writer for Mail Online."], "outlet", "Mail"),
        (["Dawn News | by Jane Roe, The body starts here and goes on for a while."], "outlet", "Dawn News"),
        (["Dawn News | by Jane Roe, The body starts here and goes on for a while."], "author", "Jane Roe"),
        (["Headline", "Body.", "Jane Roe", "The writer is a lawyer based in Karachi"], "author", "Jane Roe"),
    ],
)
def test_metadata_rules(lines, field, expected):
    meta, _ = extract_metadata(lines)
    assert getattr(meta, field) == expected


@pytest.mark.parametrize(
    "lines,field",
    [
        (["Headline", "A photo taken October 9, 2019 shows the meeting of the two leaders.", "Body."], "date"),
        (["Headline", "Body mentions a date: talks began on May 3, 2020 in Doha."], "date"),
        (["Headline", "He told Reuters the talks would continue."], "outlet"),
        (["Headline", "Body text without any byline at all."], "author"),
        (["A first line that is a whole paragraph of body text. It has two sentences.", "More."], "title"),
    ],
)
def test_metadata_is_never_invented(lines, field):
    meta, _ = extract_metadata(lines)
    assert getattr(meta, field) is None


@pytest.mark.parametrize(
    "text,expected",
    [
        ("September 25, 2018", "2018-09-25"),
        ("25 Sept. 2018", "2018-09-25"),
        ("Feb 29, 2020", "2020-02-29"),
        ("Feb 30, 2019", None),
        ("2019-13-01", None),
        ("no date here", None),
    ],
)
def test_find_date(text, expected):
    assert find_date(text) == expected


def test_normalize_date_accepts_date_objects():
    import datetime as dt

    assert normalize_date(dt.date(2020, 1, 2)) == "2020-01-02"
    assert normalize_date(dt.datetime(2020, 1, 2, 13, 0)) == "2020-01-02"
    assert normalize_date("sometime last spring") is None


@pytest.mark.parametrize(
    "line,expected",
    [
        ("September 25, 2018 Updated: September 25, 2018", True),
        ("Published 3 March 2021 | Updated 4 March 2021", True),
        ("Talks began on May 3, 2020 in Doha.", False),
    ],
)
def test_is_dateline(line, expected):
    assert is_dateline(line) is expected


@pytest.mark.parametrize(
    "line,expected",
    [
        ("Pakistan, China working closely on women trafficking", True),
        ("Why are brides being trafficked?", True),
        ("The gangs involved several Chinese nationals and their Pakistani partners.", False),
        ("It rained. Then it stopped", False),
    ],
)
def test_is_title_like(line, expected):
    assert is_title_like(line) is expected
