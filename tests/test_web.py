"""The page's HTML fragments and the service behind it, without a server."""

from __future__ import annotations

import pytest

from qa.records import Answer, Article, Hit, Passage
from qa.search.retriever import Retriever
from qa.serve import web
from qa.serve.service import Service

EVIL = "<script>alert(1)</script><img src=x onerror=alert(1)>"


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
        web.render_banner("lexical", f"reason {EVIL}"),
        web.render_banner("hybrid", None, f"model {EVIL}"),
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


def test_banner_only_in_keyword_mode():
    assert web.render_banner("hybrid", None) == ""
    assert web.KEYWORD_ONLY in web.render_banner("lexical", "no model")


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
