"""The investigation tools on the real page in Chromium: wire copies collapsed and expanded, the
timeline, undated articles under a date filter, a date that cannot be read, downloads of picked
hits, relevance marks, the Batch tab, and the `/ask` API with the page's options."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from qa.evaluate.marks import read_marks
from qa.serve.audit import read_audit
from qa.settings import NO_HITS, NOT_CONFIDENT
from tests.support.servers import lexical_app, open_tab

pytestmark = pytest.mark.browser
ROOFTOPS = "Who rescued families from rooftops?"
UNANSWERED = "Who won the river cup final?"  # shares words with passages that do not answer it
NO_SHARED_WORDS = "Who won the 2022 FIFA World Cup?"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture(scope="module")
def newsroom_server(newsroom_corpus, tmp_path_factory):
    folder = tmp_path_factory.mktemp("newsroom-app")
    env = {"QA_AUDIT_LOG": str(folder / "audit.jsonl"), "QA_MARKS": str(folder / "marks.jsonl")}
    with lexical_app(newsroom_corpus, folder, env=env) as server:
        server.audit_log, server.marks = Path(env["QA_AUDIT_LOG"]), Path(env["QA_MARKS"])
        yield server


@pytest.fixture(scope="module")
def browser():
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Chromium is not installed; `make test` installs it with apt-get")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def _ask(page, url: str, question: str, *, open_options: bool = False) -> None:
    page.goto(url)
    box = page.locator("#qa-question textarea")
    box.wait_for(timeout=60_000)
    if open_options:
        page.locator("#qa-options").click()
    box.fill(question)
    page.locator("#qa-ask-button").click()


def _cards(page):
    page.locator(".qa-card").first.wait_for(timeout=30_000)
    return page.locator(".qa-card")


def test_wire_copies_are_one_card_that_names_the_other_outlets_and_the_earliest(page, newsroom_server, tmp_path):
    _ask(page, newsroom_server.url, ROOFTOPS)
    cards = _cards(page)
    wire = cards.filter(has=page.locator(".qa-copies"))
    assert wire.count() == 1
    summary = wire.locator(".qa-copies summary").inner_text()
    assert summary.startswith("Also ran in 3 other outlets")
    assert "Associated Wire, 2024-03-05" in summary or "this copy is the earliest (2024-03-05)" in summary
    wire.locator(".qa-copies summary").click()
    wire.locator(".qa-show-copy").first.click()  # a copy opens in the reader, its paragraph marked
    cited = page.locator("#qa-reader .qa-cited")
    cited.wait_for(timeout=30_000)
    assert "rescued from rooftops" in cited.inner_text() or "lifted from rooftops" in cited.inner_text()
    page.screenshot(path=str(tmp_path / "copies.png"), full_page=True)

    page.locator("#qa-options").click()
    page.locator("#qa-collapse input").uncheck()  # Group wire copies off: every copy is its own card
    page.wait_for_function(
        "() => document.querySelectorAll('.qa-card .qa-outlet').length >= 3 && "
        "new Set(Array.from(document.querySelectorAll('.qa-card .qa-outlet')).map(e => e.textContent)).size >= 3",
        timeout=30_000,
    )
    outlets = {text.lower() for text in page.locator(".qa-card .qa-outlet").all_inner_texts()}
    assert {"associated wire", "daily ledger", "harbour times"} <= outlets


def test_the_timeline_counts_the_matches_by_day_and_the_undated_beside(page, newsroom_server):
    _ask(page, newsroom_server.url, ROOFTOPS)
    _cards(page)
    timeline = page.locator(".qa-timeline")
    assert "When the best 4 matches were published" in timeline.locator("figcaption").inner_text()
    counts = {
        bar.get_attribute("data-period"): int(bar.get_attribute("data-count"))
        for bar in timeline.locator(".qa-plot .qa-bar").all()
    }
    assert counts == {"2024-03-05": 1, "2024-03-06": 1, "2024-03-07": 0, "2024-03-08": 1}
    assert timeline.locator(".qa-undated").inner_text().strip() == "1 undated"


def test_a_date_filter_says_what_it_left_out_and_can_include_it(page, newsroom_server):
    _ask(page, newsroom_server.url, "flood insurance brokers premiums", open_options=True)
    _cards(page)
    date = page.locator("#qa-date-from input").first
    date.fill("2023-01-01")
    page.locator("#qa-ask-button").click()
    note = page.locator(".qa-undated-note")
    note.wait_for(timeout=30_000)
    assert "left out" in note.inner_text() and "whose article has no date" in note.inner_text()
    assert "Undated analysis" not in page.locator("#qa-results").inner_text()
    note.locator(".qa-include-undated").click()
    page.locator(".qa-chip", has_text="With undated articles").wait_for(timeout=30_000)
    assert page.locator("#qa-include-undated input").is_checked()
    first = page.locator(".qa-card").first
    assert "Undated analysis of flood insurance" in first.locator(".qa-title").inner_text()


@pytest.mark.parametrize("typed", ["May 2019", "2019-13-45"])
def test_a_date_that_cannot_be_read_is_an_error_not_an_unfiltered_search(page, newsroom_server, typed):
    _ask(page, newsroom_server.url, ROOFTOPS, open_options=True)
    _cards(page)
    date = page.locator("#qa-date-from input").first
    date.fill(typed)
    page.locator("#qa-ask-button").click()
    error = page.locator("#qa-results .qa-error")
    error.wait_for(timeout=30_000)
    assert error.inner_text() == (
        f"Published from: {typed!r} is not a date. Write it as YYYY-MM-DD (e.g. 2019-05-31), or clear the field."
    )
    assert page.locator(".qa-card").count() == 0


def test_picked_hits_download_as_csv_and_all_as_markdown(page, newsroom_server):
    _ask(page, newsroom_server.url, "emergency levy embankment repairs")
    cards = _cards(page)
    assert cards.count() >= 3
    cards.nth(1).locator(".qa-pick input").check()
    cards.nth(2).locator(".qa-pick input").check()
    with page.expect_download(timeout=30_000) as download:
        page.locator(".qa-download[data-format=csv]").click()
    saved = download.value
    assert saved.suggested_filename.startswith("news-qa-emergency-levy-embankment-repairs-")
    text = Path(saved.path()).read_text(encoding="utf-8-sig")  # spreadsheets need the byte-order mark
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["rank"] for row in rows] == ["2", "3"]
    shown = [" ".join(text.split()) for text in cards.locator(".qa-text").all_inner_texts()[1:3]]
    assert [" ".join(row["quote"].split()) for row in rows] == shown
    assert all(row["citation"].endswith("”") and row["highlight"] in row["quote"] for row in rows)

    for box in cards.locator(".qa-pick input").all():
        box.uncheck()
    with page.expect_download(timeout=30_000) as download:
        page.locator(".qa-download[data-format=markdown]").click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename.endswith(".md")
    assert report.startswith("## emergency levy embankment repairs") and report.count("\n> ") >= cards.count()


def test_relevance_marks_are_saved_and_shown_again(page, newsroom_server):
    _ask(page, newsroom_server.url, "What did the council approve for embankment repairs?")
    cards = _cards(page)
    first, second = cards.nth(0), cards.nth(1)
    first.locator(".qa-mark").first.click()  # ✓ Relevant
    page.locator("#qa-action-notice .qa-note").wait_for(timeout=30_000)
    second.locator(".qa-mark").nth(1).click()  # ✗ Not relevant
    page.wait_for_function(
        "() => document.querySelector('#qa-action-notice').innerText.includes('not relevant')", timeout=30_000
    )
    marks, problems = read_marks(newsroom_server.marks)
    assert problems == [] and [mark.relevant for mark in marks[-2:]] == [True, False]
    assert marks[-2].question == "What did the council approve for embankment repairs?"

    _ask(page, newsroom_server.url, "What did the council approve for embankment repairs?")  # asked again later
    cards = _cards(page)
    assert cards.nth(0).locator(".qa-mark").first.get_attribute("aria-pressed") == "true"
    assert cards.nth(1).locator(".qa-mark").nth(1).get_attribute("aria-pressed") == "true"


def _batch(page, url: str, questions: str):
    """The Batch tab's table once the pasted ``questions`` are answered."""
    page.goto(url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    open_tab(page, "Batch")
    page.locator("#qa-batch-questions textarea").fill(questions)
    page.locator("#qa-batch-run").click()
    table = page.locator(".qa-batch-table")
    table.wait_for(timeout=30_000)
    return table


def _batch_csv(page) -> list[dict[str, str]]:
    """The rows of the CSV the Batch tab's download saves."""
    with page.expect_download(timeout=30_000) as download:
        page.locator("#qa-batch-download").click()
    return list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))


def test_the_batch_tab_answers_pasted_questions_as_a_table_and_a_csv(page, newsroom_server, tmp_path):
    table = _batch(page, newsroom_server.url, f"# this month\n{ROOFTOPS}\n-Beijing\nWho approved the levy?")
    assert page.locator(".qa-batch-summary").inner_text() == "3 questions asked, 1 failed"
    assert "Nothing to search for" in table.locator(".qa-failed").inner_text()
    rows = _batch_csv(page)
    assert list(dict.fromkeys(row["question"] for row in rows)) == [ROOFTOPS, "-Beijing", "Who approved the levy?"]
    page.screenshot(path=str(tmp_path / "batch.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_batch_tab_says_which_questions_the_corpus_does_not_answer(browser, newsroom_server, width, tmp_path):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    table = _batch(page, newsroom_server.url, f"{ROOFTOPS}\n{UNANSWERED}\n{NO_SHARED_WORDS}")
    assert page.locator(".qa-batch-summary").inner_text() == (
        "3 questions asked; the corpus does not seem to answer 2 of them"
    )
    unanswered = table.locator("tr.qa-unanswered")
    assert unanswered.count() == 2
    assert unanswered.nth(0).inner_text().split() == f"2 {UNANSWERED} {NOT_CONFIDENT}".split()
    assert unanswered.nth(1).inner_text().split() == f"3 {NO_SHARED_WORDS} {NO_HITS}".split()
    assert unanswered.nth(0).locator(".qa-notice-cell").is_visible()
    # The answered question has no notice; the unanswered one's nearest passages follow its notice.
    assert table.locator("tr", has_text=ROOFTOPS).locator(".qa-notice-cell").count() == 0
    assert table.locator("tr.qa-unanswered + tr td.qa-num").first.inner_text() == "1"
    page.screenshot(path=str(tmp_path / f"batch-unanswered-{width}.png"), full_page=True)
    confident = {row["question"]: row["confident"] for row in _batch_csv(page)}
    assert confident == {ROOFTOPS: "yes", UNANSWERED: "no", NO_SHARED_WORDS: "no"}
    context.close()


def test_the_page_writes_the_audit_log_unless_turned_off(page, newsroom_server):
    before = len(read_audit(newsroom_server.audit_log)) if newsroom_server.audit_log.exists() else 0
    _ask(page, newsroom_server.url, "Who is Marta Osei?")
    _cards(page)
    lines = read_audit(newsroom_server.audit_log)
    assert len(lines) == before + 1 and lines[-1]["source"] == "page" and lines[-1]["question"] == "Who is Marta Osei?"
    page.locator("#qa-options").click()
    page.locator("#qa-audit input").uncheck()
    page.locator("#qa-question textarea").fill("Who is Marta Osei, the engineer?")
    page.locator("#qa-ask-button").click()
    page.wait_for_function(
        "() => document.querySelector('#qa-results').innerText.includes('Marta Osei')", timeout=30_000
    )
    page.wait_for_timeout(500)
    assert len(read_audit(newsroom_server.audit_log)) == before + 1


def test_the_syntax_is_documented_on_the_page_and_applied(page, newsroom_server):
    _ask(page, newsroom_server.url, '"emergency levy" -Beijing')
    cards = _cards(page)
    page.locator(".qa-syntax summary").click()
    assert '"exact phrase"' in page.locator(".qa-syntax").inner_text()
    assert (
        'Search syntax: must contain "emergency levy"; without "Beijing".'
        in page.locator(".qa-note").first.inner_text()
    )
    for text in cards.locator(".qa-text").all_inner_texts():
        assert "emergency levy" in " ".join(text.lower().split()) and "beijing" not in text.lower()


def test_the_ask_api_takes_the_page_options(newsroom_server):
    from gradio_client import Client

    client = Client(newsroom_server.url, verbose=False)
    data = json.loads(
        client.predict(
            "flood insurance brokers premiums",
            3,
            None,
            "2023-01-01",
            None,
            False,
            False,
            True,
            api_name="/ask",
        )
    )
    assert data["undated_excluded"] >= 3 and all(hit["article"]["date"] for hit in data["hits"])
    included = json.loads(
        client.predict(
            question="flood insurance brokers premiums",
            k=3,
            date_from="2023-01-01",
            include_undated=True,
            api_name="/ask",
        )
    )
    assert included["hits"][0]["article"]["id"] == "undated-analysis-of-flood-insurance"
    every = json.loads(
        client.predict(question=ROOFTOPS, k=6, collapse=False, outlets=["Daily Ledger"], api_name="/ask")
    )
    assert {hit["article"]["outlet"] for hit in every["hits"]} == {"Daily Ledger"}
    assert any(hit["also_in"] for hit in every["hits"])
    assert read_audit(newsroom_server.audit_log)[-1]["source"] == "api"
