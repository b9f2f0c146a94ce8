"""Web furniture never becomes a passage: rules as tables, then the seed files end to end."""

from __future__ import annotations

import pytest

from qa.ingest.boilerplate import boilerplate_reason, is_end_marker, repeated_lines
from qa.ingest.cleaning import clean_lines, merge_fragments, split_lines
from qa.ingest.corpus import load_corpus


@pytest.mark.parametrize(
    "line,reason",
    [
        ("Please enter your comment!", "boilerplate phrase"),
        ("Please enter your name here", "boilerplate phrase"),
        ("You have entered an incorrect email address!", "boilerplate phrase"),
        ("Send a tip to the news team at NR.", "boilerplate phrase"),
        ("Sign up for our morning newsletter.", "boilerplate phrase"),
        ("Advertisement", "boilerplate phrase"),
        ("© 2024 Some Outlet. All rights reserved.", "boilerplate phrase"),
        ("Photo: Getty Images", "boilerplate phrase"),
        ("Also read: Ten things about floods", "boilerplate phrase"),
        (
            "Imran Khan talks to Xi Jinping in Beijing, October 9, 2019. (Parker Song/Reuters)",
            "photo caption or credit",
        ),
        ("Police officers stand guard outside the court. (AP Photo/Anjum Naveed)", "photo caption or credit"),
        ("Rescue workers search the rubble in Karachi. Photo: AFP", "photo caption or credit"),
        ("Majid Nabi Burfat", "short line that is not a sentence"),
        ("The writer is a freelance columnist", "short line that is not a sentence"),
        (
            "TTP presence, cross-border attacks bone of contention with Afghanistan: COAS",
            "short line that is not a sentence",
        ),
        ("The Latest", "short line that is not a sentence"),
    ],
)
def test_boilerplate_lines(line, reason):
    assert boilerplate_reason(line) == reason


@pytest.mark.parametrize(
    "line",
    [
        "The gangs involved several Chinese nationals and their Pakistani partners.",
        "Reuters could not immediately reach the ambassador, Masood Khalid, to seek comment.",
        "Muslim majority nations have mostly remained silent over the situation in Xinjiang.",
        "“This is China‘s big mistake,” said Ilyas.",
        "He told Reuters that the photo credit line was wrong.",
    ],
)
def test_article_sentences_are_kept(line):
    assert boilerplate_reason(line) is None


@pytest.mark.parametrize(
    "line,expected",
    [
        ("LEAVE A REPLY", True),
        ("Previous article", True),
        ("Next article", True),
        ("Must Read", True),
        ("The Latest", True),
        ("Related Articles:", True),
        ("More from Dawn", True),
        ("The latest figures show a rise in cases.", False),
    ],
)
def test_end_markers(line, expected):
    assert is_end_marker(line) is expected


def test_everything_after_an_end_marker_is_dropped():
    lines = [
        "Headline here",
        "First paragraph of the story, long enough to stand.",
        "Must Read",
        "A teaser paragraph about another story that is long enough to look like text.",
    ]
    cleaned = clean_lines(lines)
    assert cleaned.paragraphs == ["First paragraph of the story, long enough to stand."]


def test_end_marker_before_any_text_does_not_empty_the_article():
    lines = ["Headline here", "Related", "First paragraph of the story, long enough to stand."]
    assert clean_lines(lines).paragraphs == ["First paragraph of the story, long enough to stand."]


def test_lines_repeated_across_articles_are_boilerplate():
    promo = "Get the best of our journalism in your inbox every morning."
    articles = [[f"Story {n} text that is unique to article number {n}.", promo] for n in range(3)]
    repeated = repeated_lines(articles)
    assert repeated == {promo.lower()}
    assert clean_lines(["Headline", *articles[0]], repeated).paragraphs == [articles[0][0]]


def test_a_wire_story_run_by_three_outlets_is_kept_but_its_promo_line_is_not():
    story = [
        "The flood barriers along the embankment failed on Tuesday night after three days of rain.",
        "City engineer Marta Osei said the barriers had been rated for a lower river level than this.",
        "Emergency shelters opened in three schools and the municipal sports hall on Wednesday morning.",
    ]
    promo = "Get the best of our journalism in your inbox every morning."
    articles = [[f"Dateline {n}: a first line unique to outlet number {n}.", *story, promo] for n in range(3)]
    assert repeated_lines(articles) == {promo.lower()}
    assert clean_lines(["Headline", *articles[0]], repeated_lines(articles)).paragraphs == articles[0][:-1]


def test_two_repeated_sentences_in_a_row_are_still_furniture():
    footer = [
        "The views expressed in this column are the author's own and not those of the paper.",
        "Letters to the editor are welcome and may be edited for length and for clarity.",
    ]
    articles = [[f"Story {n} text that is unique to article number {n}.", *footer] for n in range(3)]
    assert repeated_lines(articles) == {line.lower() for line in footer}


def test_a_line_shared_by_two_articles_is_kept():
    shared = "The court acquitted all 31 defendants in October after witnesses withdrew."
    assert repeated_lines([[shared], [shared], ["Other text entirely, long enough."]]) == set()


@pytest.mark.parametrize(
    "paragraphs,expected",
    [
        (
            ["Okay.", "A longer paragraph follows here, with words."],
            ["Okay.\nA longer paragraph follows here, with words."],
        ),
        (
            ["A longer paragraph comes first, with words.", "He agreed."],
            ["A longer paragraph comes first, with words.\nHe agreed."],
        ),
        (["Yes.", "No."], ["Yes.\nNo."]),
    ],
)
def test_tiny_fragments_merge_with_a_neighbour(paragraphs, expected):
    assert merge_fragments(paragraphs) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("One paragraph.\n\nAnother one.", ["One paragraph.", "Another one."]),
        ("Line one of a page\nLine two of a page", ["Line one of a page", "Line two of a page"]),
        (
            "This paragraph was wrapped at a fixed width by an old\nnewswire system so every line is about the\nsame length.",
            [
                "This paragraph was wrapped at a fixed width by an old newswire system so every line is about the "
                "same length."
            ],
        ),
        ("Windows\r\nline endings\r\n\r\nwork", ["Windows", "line endings", "work"]),
    ],
)
def test_split_lines(text, expected):
    assert split_lines(text) == expected


BOILERPLATE_IN_SEEDS = [
    "LEAVE A REPLY",
    "Please enter your comment",
    "Please enter your name",
    "Previous article",
    "Next article",
    "Send a tip to the news team",
    "The Latest",
    "Must Read",
    "TTP presence",
    "Says false narrative",
    "Parker Song/Reuters",
    "Zachary Evans is a news writer",
    "Majid Nabi Burfat",
    "The writer is a freelance",
    "By Christian Shepherd",
    "Updated: September 25, 2018",
    " date 20",
    "Shafaqna Pakistan | by",
]


@pytest.mark.parametrize("fragment", BOILERPLATE_IN_SEEDS)
def test_seed_boilerplate_never_reaches_the_articles(seed_corpus, fragment):
    articles = load_corpus(seed_corpus).articles
    assert all(fragment not in article.text for article in articles)


def test_seed_articles_keep_their_paragraphs(seed_corpus):
    counts = {article.id: article.text.count("\n\n") + 1 for article in load_corpus(seed_corpus).articles}
    assert counts == {
        "national-review-pakistan-backs-off-prosecuting-chinese-traffickers": 7,
        "2019-05-11-pakistan-china-working-closely-on-women-trafficking": 10,
        "shafaqna-2024-01-01-human-trafficking-glaring-failure-of-the-state": 5,
        "breaking-the-chains-of-human-trafficking-in-pakistan": 14,
        "2018-09-25-pakistanis-lobby-to-free-wives-trapped-in-xinjiang": 16,
    }
