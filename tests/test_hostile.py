"""Hostile input: any question, any k, any filter, any corpus text — a clear message or a sensible answer."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.errors import CorpusError, EmptyQuestionError, InvalidRequestError, QAError
from qa.index.build import build_index
from qa.ingest.chunking import split_passages
from qa.ingest.corpus import load_corpus
from qa.search.retriever import MAX_QUESTION_CHARS, Retriever
from qa.serve.service import Service

TRIED: dict[str, int] = {}


def _count(kind: str) -> None:
    TRIED[kind] = TRIED.get(kind, 0) + 1


def _check_answer(retriever: Retriever, question: object, **kwargs) -> None:
    try:
        answer = retriever.ask(question, **kwargs)  # type: ignore[arg-type]
    except (EmptyQuestionError, InvalidRequestError):
        return
    assert isinstance(answer.confident, bool)
    assert len(answer.question) <= MAX_QUESTION_CHARS
    for rank, hit in enumerate(answer.hits, start=1):
        assert hit.rank == rank
        assert hit.article.text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text
        start, end = hit.highlight
        assert 0 <= start < end <= len(hit.passage.text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_any_unicode_question_in_lexical_mode(lexical, question):
    _count("random questions (lexical)")
    _check_answer(lexical, question, k=5)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_unicode_question_in_hybrid_mode(hybrid, question):
    _count("random questions (hybrid)")
    _check_answer(hybrid, question, k=3)


QUESTIONS = [
    "ما هو عدد المتاجرين الذين تم القبض عليهم؟",  # Arabic, right to left
    "\u202eHow many traffickers\u202c were arrested?",  # bidi override characters
    "🚨🚨 trafficking 🇵🇰 brides 👰‍♀️?",
    "Z̴̡̢̛a̵͎͛l̸̰̈g̷̱̈́o̶͙͊ trafficking",  # stacked combining marks
    "trafficking\x00in\x01Pakistan\x1b[31m red\x7f",
    "\x00\x00\x00",
    "?!?!... ;;; --- ***",
    "what is the of and to in it they were",
    "Gujranwala " * 10_000,  # 110,000 characters
    "a" * 100_000,
    "\n\n\t  \r\n",
    "%s %d {0} ${7*7} {{constructor}} <script>alert(1)</script>",
    "' OR 1=1 --",
    "../../../../etc/passwd",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_hand_written_hostile_questions(lexical, hybrid, question):
    for retriever in (lexical, hybrid):
        _count("hand-written questions")
        _check_answer(retriever, question, k=5)


@pytest.mark.parametrize(
    "k,outcome",
    [
        (0, "k must be at least 1"),
        (-1, "k must be at least 1"),
        (2.5, "whole number"),
        (True, "whole number"),
        ("5", "whole number"),
        (None, "whole number"),
        (10**12, None),
        (1, None),
    ],
)
def test_k_values(lexical, k, outcome):
    _count("k values")
    if outcome is None:
        assert len(lexical.search("trafficking", k=k)) >= 1
    else:
        with pytest.raises(InvalidRequestError, match=outcome):
            lexical.search("trafficking", k=k)


@pytest.mark.parametrize(
    "filters,outcome",
    [
        ({"date_from": "2021-02-30"}, "not a date"),
        ({"date_from": "2019-13-01"}, "not a date"),
        ({"date_to": "yesterday"}, "not a date"),
        ({"date_from": "\x00"}, "not a date"),
        ({"date_from": "2020-01-01", "date_to": "2019-01-01"}, "is after"),
        ({"date_from": 10**30}, "not a date"),
        ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, "hits"),
        ({"date_from": "9999-12-31"}, "no hits"),
        ({"date_from": "2019-05-11", "date_to": "2019-05-11"}, "hits"),
        ({"outlets": ["No Such Outlet"]}, "No articles from outlet"),
        ({"outlets": "National Review"}, "hits"),
        ({"outlets": ["", None]}, "hits"),
        ({"outlets": ["National Review"], "date_from": "2030-01-01"}, "no hits"),
    ],
)
def test_filter_values(lexical, filters, outcome):
    _count("filter values")
    if outcome in ("hits", "no hits"):
        hits = lexical.search("Pakistani women China trafficking", k=3, **filters)
        assert bool(hits) is (outcome == "hits")
    else:
        with pytest.raises(InvalidRequestError, match=outcome):
            lexical.search("trafficking", k=3, **filters)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
def test_the_page_never_raises(lexical, question, k, date):
    _count("page requests")
    html_text = Service(lexical).ask_html(question, k if k == k and abs(k) < 1e6 else 5, None, date, None)
    assert html_text.startswith("<div")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=2000))
def test_span_invariant_holds_through_the_whole_corpus_pipeline(text):
    _count("random article texts")
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "article.txt").write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            articles = load_corpus(folder).articles
        except CorpusError:
            return  # nothing usable: said, not crashed
        for article in articles:
            for passage in split_passages(article, max_tokens=40):
                assert article.text[passage.char_start : passage.char_end] == passage.text


def test_deeply_nested_folders_and_odd_names(tmp_path):
    folder = tmp_path
    for depth in range(40):
        folder = folder / f"level {depth} ünï"
    folder.mkdir(parents=True)
    body = "Heavy rain flooded large parts of Lahore on Saturday, officials said."
    for name in ("with space.txt", "ünïcödé.txt", "نص عربي.txt", "emoji 🚨.md", "-dash-.txt"):
        (folder / name).write_text(f"Headline\n\nIn {name}: {body}\n", encoding="utf-8")
    articles = load_corpus(tmp_path).articles
    assert len(articles) == 5
    assert len({a.id for a in articles}) == 5
    _count("corpus pathologies")


@pytest.mark.slow
def test_a_50_mb_article_is_indexed(tmp_path):
    import random

    generator = random.Random(1)
    words = [f"w{n}" for n in range(5000)] + "the flood river court minister said on".split()
    paragraphs = []
    size = 0
    while size < 50 * 1024 * 1024:
        paragraph = " ".join(generator.choice(words) for _ in range(90)).capitalize() + "."
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "huge.txt").write_text("A very long report\n\n" + "\n\n".join(paragraphs), encoding="utf-8")
    (corpus / "small.txt").write_text("Floods\n\nHeavy rain flooded Lahore on Saturday, officials said.\n")
    started = time.monotonic()
    report = build_index(corpus, tmp_path / "index", model="none")
    seconds = time.monotonic() - started
    print(f"\n50 MB article: {report.manifest.passages:,} passages indexed in {seconds:.0f} s")
    retriever = Retriever.load(tmp_path / "index")
    assert retriever.search("Heavy rain flooded Lahore", k=1)[0].article.id == "small"
    _count("corpus pathologies")


def test_zz_hostile_summary():
    print("\nhostile inputs tried this run:", sum(TRIED.values()), TRIED)
    assert not isinstance(QAError, type(None))
