"""The page's HTML fragments and the service behind it, without a server."""

from __future__ import annotations

import pytest

from qa.records import Answer, Article, Hit, Passage
from qa.search.retriever import Retriever
from qa.serve import web
from qa.serve.service import Service

EVIL = "<script>alert(1)</script><img src=x onerror=alert(1)>"
FACTS = web.IndexFacts(5, 52, 2, 3, "2018-09-25", "2024-01-01", 2, "keywords", "2026-12-02 03:59 UTC")
DEVELOPER_WORDS = ("Hugging Face", "Errno", "--model", "qa build")


def _hit(text: str = f"Floods hit {EVIL} the city. Second sentence.", **article_fields) -> Hit:
    fields = {"title": f"Title {EVIL}", "outlet": f"Outlet {EVIL}", "author": f"Author {EVIL}", "date": "2020-01-02"}
    fields.update(article_fields)
    article = Article(id="a", path=f"a{EVIL}.txt", text=text, **fields)
    passage = Passage("a", 1, 0, len(text), text)
    return Hit(1, 1.5, {"lexical": 1.5}, passage, article, (0, text.index(".") + 1))


@pytest.mark.parametrize(
    "html_text",
    [
        web.render_hit(_hit()),
        web.render_answer(Answer(f"q {EVIL}", "lexical", [_hit()], False, [f"warn {EVIL}"])),
        web.render_article(_hit().article, 0, 10, (0, 5)),
        web.render_articles([_hit().article], {"a": 1}),
        web.render_message(f"Bad {EVIL}"),
        web.render_filters([web.Filter(f"Outlet: {EVIL}", {"outlet": EVIL})]),
        web.render_about(FACTS, "yes", [("Why", f"reason {EVIL}")], None),
    ],
)
def test_article_text_and_metadata_are_escaped(html_text):
    assert "<script" not in html_text and "<img" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text or "&lt;img src=x onerror=alert(1)&gt;" in html_text


def test_card_shows_citation_parts_and_marks_the_highlight():
    card = web.render_hit(
        _hit(text="Floods hit the city. Second sentence.", title="Floods", outlet="Dawn", author="Jane Roe")
    )
    assert '<span class="qa-outlet">Dawn</span>' in card
    assert '<span class="qa-title">Floods</span>' in card
    assert "Jane Roe · 2020-01-02 · ¶1" in card
    assert '<mark class="qa-highlight">Floods hit the city.</mark> Second sentence.' in card
    assert 'data-citation="Dawn — &quot;Floods&quot;, Jane Roe, 2020-01-02, ¶1: “Floods hit the city.”"' in card


def test_article_reader_marks_the_cited_paragraph():
    article = Article(id="a", path="a.txt", text="First paragraph here.\n\nSecond one, cited. More.\n\nThird.")
    start = article.text.index("Second")
    view = web.render_article(article, start, start + 24, (start, start + 18))
    assert '<p class="qa-para" id="qa-p-1">' in view
    assert (
        '<p class="qa-para qa-cited" id="qa-p-2"><span class="qa-pnum">¶2</span><mark class="qa-highlight">Second one, cited.</mark> More.</p>'
        in view
    )


def test_status_line_says_in_plain_words_how_questions_are_matched():
    assert web.KEYWORD_ONLY in web.render_status("keywords")
    assert web.render_status("meaning") == f'<div class="qa-status" role="status">{web.SEMANTIC_ON}{web.SYNTAX}</div>'
    for search in ("keywords", "meaning", "self"):
        assert not any(word in web.render_status(search) for word in DEVELOPER_WORDS)


def test_card_shows_a_plain_relevance_cue_and_keeps_raw_scores_in_the_fold():
    card = web.render_hit(_hit(text="Floods hit the city. More."), "strong")
    assert "Strong match" in card
    head, fold = card.split('<details class="qa-scores">')
    assert "1.5" not in head and "keyword score 1.500" in fold


def test_summary_says_what_is_indexed_and_how_it_is_searched():
    summary = web.render_summary(FACTS, has_examples=True)
    assert "<strong>5 articles</strong> from 2 outlets (3 with no outlet named)" in summary
    assert "published 2018-09-25 to 2024-01-01 (2 undated)" in summary
    assert "52 paragraphs to search, keywords only" in summary
    assert "try one of the examples below" in summary
    assert "examples" not in web.render_summary(FACTS, has_examples=False)


def test_active_filters_are_chips_that_each_clear_one_filter():
    chips = web.render_filters(
        [web.Filter("Outlet: Dawn", {"outlet": "Dawn"}), web.Filter("From 2019-01-01", {"date_from": "1"})]
    )
    assert chips.count('class="qa-clear"') == 2 and "Clear all" in chips
    assert 'data-clear="{&quot;clear&quot;: {&quot;outlet&quot;: &quot;Dawn&quot;}}"' in chips
    assert web.render_filters([]) == ""


def test_about_keeps_technical_detail_in_a_fold():
    about = web.render_about(FACTS, "Not available", [("Why semantic search is off", "[Errno -2] no hub")], "qa build")
    plain, technical = about.split('<details class="qa-technical">')
    assert not any(word in plain for word in DEVELOPER_WORDS)
    assert "[Errno -2] no hub" in technical and "Keywords only" in plain


def test_articles_table_has_one_column_per_fact_and_opens_the_reader():
    table = web.render_articles([_hit(title="Floods").article], {"a": 3})
    assert [name for _, name in web.ARTICLE_COLUMNS] == ["Title", "Outlet", "Author", "Date", "Passages"]
    assert table.count('class="qa-sort"') == 5
    assert 'data-open="{&quot;open&quot;: &quot;a&quot;}"' in table
    assert '<td data-label="Passages" class="qa-num">3</td>' in table


def test_not_confident_notice_comes_before_the_passages():
    page = web.render_answer(Answer("q", "lexical", [_hit()], False))
    assert page.index(web.NOT_CONFIDENT) < page.index("qa-card")
    assert web.NOT_CONFIDENT not in web.render_answer(Answer("q", "lexical", [_hit()], True))


@pytest.fixture(scope="module")
def service(lexical_index) -> Service:
    return Service(Retriever.load(lexical_index))


def test_service_turns_user_mistakes_into_messages(service):
    assert "The question is empty" in service.ask_html("   ", 5)
    assert "qa-error" in service.ask_html("floods", 5, date_from="yesterday")


def test_service_answers_with_cards(service):
    page = service.ask_html("How many traffickers did the FIA arrest in Gujranwala?", 3.0)
    assert page.count('class="qa-card"') == 3
    assert "arrest of 109 traffickers in Gujranwala" in page


@pytest.mark.parametrize(
    "request_data",
    [
        None,
        "{}",
        "not json",
        {"article": "nope", "start": 0, "end": 1, "hlStart": 0, "hlEnd": 1},
        {
            "article": "breaking-the-chains-of-human-trafficking-in-pakistan",
            "start": -5,
            "end": 10**9,
            "hlStart": 0,
            "hlEnd": 1,
        },
    ],
)
def test_reader_rejects_bad_requests_with_a_message(service, request_data):
    assert 'class="qa-error"' in service.article_html(request_data)


def test_examples_are_questions_the_index_answers(service):
    assert len(service.examples()) >= 4


def test_service_summary_and_outlet_choices(service):
    facts = service.facts()
    assert (facts.articles, facts.outlets, facts.without_outlet, facts.undated) == (5, 2, 3, 2)
    assert (facts.first_date, facts.last_date, facts.search) == ("2018-09-25", "2024-01-01", "keywords")
    assert service.outlet_choices() == ["National Review", "Shafaqna Pakistan", web.UNKNOWN_OUTLET]


def test_unknown_outlet_choice_finds_articles_without_an_outlet(service):
    page = service.ask_html("Pakistani women trafficked to China", 10, [web.UNKNOWN_OUTLET])
    assert 'class="qa-card"' in page and 'class="qa-outlet"' not in page
    assert "Outlet: Unknown outlet" in page


def test_results_show_the_active_filters(service):
    page = service.ask_html("Pakistani women", 3, ["National Review"], "2019-01-01", None)
    assert "Outlet: National Review" in page and "From 2019-01-01" in page
    assert web.NO_HITS_FILTERED in page  # the National Review story is undated ...
    assert "The date filter left out" in page and "Include undated articles" in page  # ... and that is said
    page = service.ask_html("Pakistani women", 3, ["National Review"], "2019-01-01", None, include_undated=True)
    assert "With undated articles" in page and 'class="qa-card"' in page


@pytest.mark.parametrize(
    "clear,expected",
    [
        ({"outlet": "Dawn"}, (["BBC"], "2019-01-01", "2020-01-01", True)),
        ({"date_from": "1"}, (["Dawn", "BBC"], None, "2020-01-01", True)),
        ({"date_to": "1"}, (["Dawn", "BBC"], "2019-01-01", None, True)),
        ({"undated": "1"}, (["Dawn", "BBC"], "2019-01-01", "2020-01-01", False)),
        ({"all": "1"}, ([], None, None, False)),
    ],
)
def test_clearing_a_filter_resets_only_that_filter(clear, expected):
    from qa.serve.service import clear_filter

    assert clear_filter(clear, ["Dawn", "BBC"], "2019-01-01", "2020-01-01", True) == expected


def test_reader_opens_a_whole_article_from_the_articles_tab(service):
    view = service.article_html({"open": "breaking-the-chains-of-human-trafficking-in-pakistan"})
    assert "Breaking the chains of human trafficking in Pakistan" in view and "qa-cited" not in view


def test_cards_carry_a_relevance_cue(service):
    page = service.ask_html("How many traffickers did the FIA arrest in Gujranwala?", 5)
    assert page.count("qa-strength-") == 5 and "qa-strength-strong" in page
