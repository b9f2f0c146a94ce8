"""The real page: app.py served on loopback, driven by Chromium (playwright) and gradio_client."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.servers import ROOT, Server, lexical_app, open_tab

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EVIL_TITLE = "<script>alert('title')</script>Flood barriers hold"
EVIL_BODY = (
    "The mayor said <img src=x onerror=alert(1)> that the <script>alert('body')</script> flood barriers "
    "held firm overnight in Lahore, and ${7*7} {{constructor}} stay as typed."
)
XSS_ARTICLE = f"""---
title: "{EVIL_TITLE}"
outlet: "<b onmouseover=alert(2)>Evil Outlet</b>"
author: "<img src=y onerror=alert(3)>"
date: 2021-07-03
---
{EVIL_BODY}

Rescue teams evacuated hundreds of families from low-lying neighbourhoods near the river in Lahore.
"""
GUJRANWALA = "How many traffickers did the FIA arrest in Gujranwala?"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_corpus(tmp_path_factory, seed_corpus) -> Path:
    corpus = tmp_path_factory.mktemp("app") / "corpus"
    shutil.copytree(seed_corpus, corpus)
    # .txt: Markdown files are rendered to what a reader sees, which drops inline HTML tags as text
    (corpus / "xss.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def lexical_server(app_corpus, tmp_path_factory):
    with lexical_app(app_corpus, tmp_path_factory.mktemp("lexical-app")) as server:
        yield server


@pytest.fixture(scope="module")
def hybrid_server(hybrid_index, seed_corpus, tmp_path_factory, cross_encoder_dir):
    log = tmp_path_factory.mktemp("hybrid-app") / "app.log"
    with Server(hybrid_index, seed_corpus, log, "--reranker", str(cross_encoder_dir)) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed; `make test` installs it with apt-get")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def _ask(page, url: str, question: str) -> None:
    page.goto(url)
    box = page.locator("#qa-question textarea")
    box.wait_for(timeout=60_000)
    box.fill(question)
    box.press("Enter")


def test_question_shows_cited_highlighted_passages_and_opens_the_article(page, lexical_server, tmp_path):
    _ask(page, lexical_server.url, GUJRANWALA)
    first = page.locator(".qa-card").first
    first.wait_for(timeout=30_000)
    assert page.locator(".qa-card").count() == 5
    assert first.locator(".qa-outlet").inner_text().lower() == "shafaqna pakistan"
    assert "Arsal Mir · 2024-01-01 · ¶2" in first.locator(".qa-meta").inner_text()
    assert (
        first.locator("mark.qa-highlight")
        .inner_text()
        .startswith("The Federal Investigation Agency’s (FIA) arrest of 109 traffickers in Gujranwala")
    )
    assert page.locator(".qa-notice").count() == 0
    first.locator(".qa-show").click()
    cited = page.locator("#qa-reader .qa-cited")
    cited.wait_for(timeout=30_000)
    assert cited.get_attribute("id") == "qa-p-2"
    assert "arrest of 109 traffickers" in cited.locator("mark").inner_text()
    page.wait_for_function(
        "() => { const r = document.querySelector('#qa-reader .qa-cited').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }",
        timeout=10_000,
    )
    assert page.locator("#qa-reader .qa-para").count() == 5
    page.screenshot(path=str(tmp_path / "answer-and-article.png"), full_page=True)
    assert (tmp_path / "answer-and-article.png").stat().st_size > 10_000


def test_copy_citation_puts_the_citation_on_the_clipboard(browser, lexical_server):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    _ask(page, lexical_server.url, GUJRANWALA)
    button = page.locator(".qa-card .qa-copy").first
    button.click()
    page.wait_for_function("() => document.querySelector('.qa-card .qa-copy').textContent.includes('Copied')")
    clipboard = page.evaluate("navigator.clipboard.readText()")
    assert clipboard == (
        "Shafaqna Pakistan — Human trafficking glaring failure of the state (untitled), Arsal Mir, 2024-01-01, ¶2: "
        "“The Federal Investigation Agency’s (FIA) arrest of 109 traffickers in Gujranwala in a single month "
        "underscores the vast scale of this crisis.”"
    )
    context.close()


def test_unanswerable_question_gets_the_not_confident_notice(page, lexical_server):
    _ask(page, lexical_server.url, "What is the boiling point of liquid nitrogen?")
    notice = page.locator(".qa-notice")
    notice.wait_for(timeout=30_000)
    assert "does not seem to answer" in notice.inner_text()


def test_keyword_only_status_line_in_plain_words(page, lexical_server):
    page.goto(lexical_server.url)
    status = page.locator(".qa-status")
    status.wait_for(timeout=60_000)
    assert "Keyword search: a passage is found when it shares words with your question." in status.inner_text()


def test_status_says_meaning_when_semantic_search_is_on(page, hybrid_server):
    _ask(page, hybrid_server.url, GUJRANWALA)
    page.locator(".qa-card").first.wait_for(timeout=30_000)
    assert page.locator(".qa-status").inner_text().splitlines()[0] == "Searching by meaning and by keywords."
    page.locator(".qa-scores").first.click()
    assert "meaning score" in page.locator(".qa-scores").first.inner_text()


def test_blank_and_overlong_questions_get_a_message_in_the_page(page, lexical_server):
    page.goto(lexical_server.url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    page.locator("#qa-ask-button").click()
    error = page.locator(".qa-error")
    error.wait_for(timeout=30_000)
    assert "The question is empty" in error.inner_text()
    page.locator("#qa-question textarea").fill("Gujranwala traffickers " * 120)
    page.locator("#qa-ask-button").click()
    warning = page.locator(".qa-warning")
    warning.wait_for(timeout=30_000)
    assert "longer than 2,000 characters" in warning.inner_text()
    assert page.locator(".qa-card").count() > 0


def test_script_in_an_article_renders_as_text_and_runs_nothing(page, lexical_server, tmp_path):
    _ask(page, lexical_server.url, "flood barriers held firm overnight in Lahore")
    card = page.locator(".qa-card").first
    card.wait_for(timeout=30_000)
    text = card.inner_text()
    assert "<img src=x onerror=alert(1)>" in text and "<script>alert('body')</script>" in text
    assert "${7*7} {{constructor}}" in text
    assert EVIL_TITLE in text and "<b onmouseover=alert(2)>Evil Outlet</b>".upper() in text.upper()
    card.locator(".qa-show").click()
    page.locator("#qa-reader .qa-cited").wait_for(timeout=30_000)
    open_tab(page, "Articles")
    page.locator(".qa-articles").wait_for(timeout=10_000)
    assert EVIL_TITLE in page.locator(".qa-articles").inner_text()
    page.wait_for_timeout(500)
    injected = page.evaluate(
        "() => document.querySelectorAll('img[src=x], img[src=y], b[onmouseover], .qa-results script, "
        ".qa-article script, .qa-articles script, [onerror]').length"
    )
    assert injected == 0
    assert page.dialogs == []
    page.screenshot(path=str(tmp_path / "xss.png"), full_page=True)


def test_phone_width_layout_stacks(browser, lexical_server, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    _ask(page, lexical_server.url, GUJRANWALA)
    card = page.locator(".qa-card").first
    card.wait_for(timeout=30_000)
    box = card.bounding_box()
    assert box is not None and box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    context.close()


def test_gradio_client_gets_the_cli_json(lexical_server):
    from gradio_client import Client

    client = Client(lexical_server.url, verbose=False)
    data = json.loads(client.predict(GUJRANWALA, 3, api_name="/ask"))
    assert data.keys() == {"question", "confident", "mode", "undated_excluded", "hits"}
    assert data["mode"] == "lexical" and data["confident"] is True and len(data["hits"]) == 3
    top = data["hits"][0]
    assert (top["article"]["id"], top["paragraph"]) == (
        "shafaqna-2024-01-01-human-trafficking-glaring-failure-of-the-state",
        2,
    )
    assert top["text"][top["highlight"]["char_start"] : top["highlight"]["char_end"]].startswith(
        "The Federal Investigation"
    )
    with pytest.raises(Exception, match="The question is empty"):
        client.predict("   ", 3, api_name="/ask")


def test_api_answer_is_exactly_the_cli_json(lexical_server, capsys):
    from gradio_client import Client

    from qa.serve.cli import main

    api = Client(lexical_server.url, verbose=False).predict(GUJRANWALA, 4, api_name="/ask")
    assert main(["ask", GUJRANWALA, "-k", "4", "--json", "--index", str(lexical_server.index)]) == 0
    assert capsys.readouterr().out.strip() == api


def test_api_lists_only_the_ask_endpoint(lexical_server):
    from gradio_client import Client

    info = Client(lexical_server.url, verbose=False).view_api(print_info=False, return_format="dict")
    assert list(info["named_endpoints"]) == ["/ask"]


def test_files_outside_the_app_are_not_served(lexical_server):
    for path in ("gradio_api/file=/etc/passwd", "gradio_api/file=../../../../etc/passwd", "file=/etc/passwd"):
        try:
            with urllib.request.urlopen(lexical_server.url + path, timeout=10) as response:
                body = response.read()
            assert b"root:" not in body
        except urllib.error.HTTPError as error:
            assert error.code in (403, 404)


def test_server_listens_on_loopback_without_a_share_link(lexical_server):
    log = lexical_server.log.read_text()
    assert "Running on local URL:  http://127.0.0.1:" in log
    assert "gradio.live" not in log and "share=True" not in log and "launch()" not in log


def test_outlet_filter_in_the_page(page, lexical_server):
    page.goto(lexical_server.url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    page.get_by_text("Options and filters").click()
    page.get_by_label("Outlets").click()
    page.get_by_role("option", name="National Review").click()
    page.keyboard.press("Escape")
    box = page.locator("#qa-question textarea")
    box.fill("Pakistani women trafficked to China")
    box.press("Enter")
    page.locator(".qa-card").first.wait_for(timeout=30_000)
    outlets = {text.strip().lower() for text in page.locator(".qa-card .qa-outlet").all_inner_texts()}
    assert outlets == {"national review"}
    assert page.locator(".qa-card").count() == 5


def test_importing_the_app_loads_no_model_library():
    code = (
        "import sys, app; "
        "print(' '.join(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_rerank_toggle_rescores_with_the_cross_encoder(page, hybrid_server):
    page.goto(hybrid_server.url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    page.get_by_text("Options and filters").click()
    page.locator("#qa-rerank input").check()
    box = page.locator("#qa-question textarea")
    box.fill(GUJRANWALA)
    box.press("Enter")
    page.locator(".qa-card").first.wait_for(timeout=60_000)
    page.locator(".qa-scores").first.click()
    assert "reranker score" in page.locator(".qa-scores").first.inner_text()


def test_rerank_toggle_is_off_with_the_reason_when_no_cross_encoder(page, lexical_server):
    page.goto(lexical_server.url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    page.get_by_text("Options and filters").click()
    checkbox = page.locator("#qa-rerank input")
    assert checkbox.is_disabled()
    assert "not available on this computer" in page.locator("#qa-rerank").inner_text()


# -- what a newcomer meets first (issue 15): reader, phone layout, plain words, examples, filters ---------

PHONE = {"width": 390, "height": 844}
DEVELOPER_WORDS = ("Hugging Face", "Errno", "--model", "qa build")
CITED_FULLY_VISIBLE = """() => {
  const column = document.getElementById('qa-reader-col');
  const mark = column && column.querySelector('.qa-cited mark');
  if (!mark) return false;
  const header = column.querySelector('.qa-article header').getBoundingClientRect();
  const box = column.getBoundingClientRect();
  const cited = mark.getBoundingClientRect();
  return cited.top >= header.bottom - 1 && cited.top >= 0
    && cited.bottom <= Math.min(box.bottom, window.innerHeight) + 1;
}"""


@pytest.fixture()
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    yield page
    context.close()


def _scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _cards(page, question: str | None = None) -> None:
    if question is not None:
        box = page.locator("#qa-question textarea")
        box.fill(question)
        box.press("Enter")
    page.locator(".qa-card").first.wait_for(timeout=30_000)


def _show(page, rank: int = 1) -> None:
    page.locator(f'.qa-card[data-rank="{rank}"] .qa-show').click()
    page.locator("#qa-reader .qa-cited").wait_for(timeout=30_000)
    page.wait_for_function(CITED_FULLY_VISIBLE, timeout=10_000)


def _options(page) -> None:
    page.get_by_text("Options and filters").click()
    page.locator("#qa-outlets").wait_for(timeout=10_000)


def _pick_outlet(page, name: str) -> None:
    page.locator("#qa-outlets input").click()
    page.get_by_role("option", name=name).click()
    page.keyboard.press("Escape")


@pytest.mark.parametrize("width", [1280, 390])
def test_cited_sentence_is_fully_visible_below_the_reader_header(browser, lexical_server, width, tmp_path):
    context = browser.new_context(viewport={"width": width, "height": 844}, is_mobile=width < 500)
    page = context.new_page()
    _ask(page, lexical_server.url, "Who lobbied to free their wives trapped in Xinjiang?")
    _cards(page)
    for rank in (1, 3):  # a second "show" scrolls again (on a phone the sheet is closed first)
        if rank > 1 and width < 500:
            page.locator(".qa-close-reader").click()
            page.locator("#qa-reader-col").wait_for(state="hidden", timeout=10_000)
        _show(page, rank)
        assert page.evaluate(CITED_FULLY_VISIBLE)
        # The header sticks to the very top of the reader: no article text can show above it.
        gap = page.evaluate(
            "() => { const c = document.getElementById('qa-reader-col');"
            " return c.querySelector('.qa-article header').getBoundingClientRect().top - c.getBoundingClientRect().top; }"
        )
        assert gap <= 2
    page.screenshot(path=str(tmp_path / f"reader-{width}.png"))
    context.close()


def test_reader_is_a_full_screen_sheet_on_a_phone(phone, lexical_server):
    _ask(phone, lexical_server.url, GUJRANWALA)
    _cards(phone)
    _show(phone)
    box = phone.locator("#qa-reader-col").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}


def test_a_new_question_closes_the_reader(page, lexical_server):
    _ask(page, lexical_server.url, GUJRANWALA)
    _cards(page)
    _show(page)
    assert page.locator("#qa-reader-col").is_visible()
    _cards(page, "Who lobbied to free their wives trapped in Xinjiang?")
    page.locator("#qa-reader-col").wait_for(state="hidden", timeout=10_000)
    assert "Xinjiang" in page.locator(".qa-card").first.inner_text()


@pytest.mark.parametrize("width", [1280, 800, 390])
def test_escape_and_the_close_button_close_the_reader(browser, lexical_server, width, tmp_path):
    """Beside the results and as a phone's full-screen sheet (position: fixed)."""
    context = browser.new_context(viewport={"width": width, "height": 844}, is_mobile=width < 500)
    page = context.new_page()
    _ask(page, lexical_server.url, GUJRANWALA)
    _cards(page)
    _show(page)
    page.keyboard.press("Escape")
    page.locator("#qa-reader-col").wait_for(state="hidden", timeout=10_000)
    page.screenshot(path=str(tmp_path / f"after-escape-{width}.png"))
    _show(page)
    page.locator(".qa-close-reader").click()
    page.locator("#qa-reader-col").wait_for(state="hidden", timeout=10_000)
    page.keyboard.press("Escape")  # with the reader closed, Escape leaves the page as it is
    assert page.locator(".qa-card").first.is_visible()
    context.close()


def test_nothing_scrolls_sideways_at_phone_width(phone, lexical_server, tmp_path):
    phone.goto(lexical_server.url)
    phone.locator("#qa-question textarea").wait_for(timeout=60_000)
    widths = {"ask": _scroll_width(phone)}
    for tab in ("Articles", "About this index"):
        open_tab(phone, tab)
        phone.wait_for_timeout(400)
        widths[tab] = _scroll_width(phone)
    open_tab(phone, "Ask")
    _options(phone)
    widths["options"] = _scroll_width(phone)
    _cards(phone, GUJRANWALA)
    widths["results"] = _scroll_width(phone)
    _show(phone)
    widths["reader"] = _scroll_width(phone)
    phone.screenshot(path=str(tmp_path / "phone-reader.png"))
    phone.locator(".qa-close-reader").click()
    for tab in ("Articles", "About this index"):
        open_tab(phone, tab)
        phone.wait_for_timeout(400)
        widths[f"{tab} after a search"] = _scroll_width(phone)
    assert {name: width for name, width in widths.items() if width > 390} == {}


def test_question_box_is_visible_without_scrolling_on_a_phone(phone, lexical_server):
    phone.goto(lexical_server.url)
    box = phone.locator("#qa-question textarea")
    box.wait_for(timeout=60_000)
    bounds, ask = box.bounding_box(), phone.locator("#qa-ask-button").bounding_box()
    assert bounds is not None and ask is not None
    assert bounds["y"] >= 0 and ask["y"] + ask["height"] <= PHONE["height"] / 2


@pytest.mark.parametrize("server", ["lexical_server", "hybrid_server"])
def test_page_shows_no_developer_language(page, server, request):
    """On the shipped corpus, keyword-only and with semantic search on: every tab, before and after a question."""
    page.goto(request.getfixturevalue(server).url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    texts = {"first view": page.inner_text("body")}
    _options(page)
    texts["options"] = page.inner_text("body")
    _cards(page, GUJRANWALA)
    texts["results"] = page.inner_text("body")
    for tab in ("Articles", "About this index"):
        open_tab(page, tab)
        page.wait_for_timeout(400)
        texts[tab] = page.inner_text("body")
    found = {name: [word for word in DEVELOPER_WORDS if word in text] for name, text in texts.items()}
    assert {name: words for name, words in found.items() if words} == {}
    assert "keyword score" not in texts["results"]  # raw scores stay in the card's fold


def test_clicking_an_example_shows_its_results(page, lexical_server):
    page.goto(lexical_server.url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    page.get_by_text(GUJRANWALA, exact=True).first.click()
    _cards(page)
    assert page.locator("#qa-question textarea").input_value() == GUJRANWALA
    assert "109 traffickers in Gujranwala" in page.locator(".qa-card").first.inner_text()


def test_first_view_summarises_the_index(page, lexical_server):
    page.goto(lexical_server.url)
    summary = page.locator(".qa-summary")
    summary.wait_for(timeout=60_000)
    text = summary.inner_text()
    assert "6 articles from 3 outlets (3 with no outlet named)" in text
    assert "published 2018-09-25 to 2024-01-01 (2 undated)" in text and "keywords only" in text


def test_changing_a_filter_reruns_the_question_and_shows_it_with_a_clear_button(page, lexical_server):
    _ask(page, lexical_server.url, "Pakistani women trafficked to China")
    _cards(page)
    _options(page)
    _pick_outlet(page, "National Review")  # no Ask pressed
    page.locator(".qa-chip").wait_for(timeout=30_000)
    assert page.locator(".qa-chip").inner_text().startswith("Outlet: National Review")
    page.wait_for_function("() => document.querySelectorAll('.qa-card').length > 0", timeout=30_000)
    assert {t.strip().lower() for t in page.locator(".qa-card .qa-outlet").all_inner_texts()} == {"national review"}
    page.locator(".qa-chip .qa-clear").click()
    page.locator(".qa-chip").wait_for(state="detached", timeout=30_000)
    outlets = {t.strip().lower() for t in page.locator(".qa-card .qa-outlet").all_inner_texts()}
    assert outlets != {"national review"}
    assert page.locator("#qa-outlets .token").count() == 0  # the dropdown was cleared too


def test_articles_without_an_outlet_can_be_selected(page, lexical_server):
    _ask(page, lexical_server.url, "Pakistani women trafficked to China")
    _cards(page)
    _options(page)
    _pick_outlet(page, "Unknown outlet")
    page.locator(".qa-chip").wait_for(timeout=30_000)
    _cards(page)
    assert page.locator(".qa-card").count() == 5 and page.locator(".qa-card .qa-outlet").count() == 0


def test_date_placeholder_does_not_look_like_a_date(page, lexical_server):
    page.goto(lexical_server.url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    _options(page)
    field = page.locator("#qa-date-from input").first
    typed = field.evaluate("e => getComputedStyle(e).color")
    hint = field.evaluate(
        "e => { const s = getComputedStyle(e, '::placeholder'); return [s.color, s.opacity, s.fontStyle]; }"
    )
    assert hint[2] == "italic" and float(hint[1]) < 0.7 and hint[0] != typed


# The contrast of an option's unticked box against the panel it sits on (WCAG 2.1's ratio for non-text: 3:1).
BOX_CONTRAST = """(box) => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  let panel = box.parentElement;
  while (panel && (rgb(getComputedStyle(panel).backgroundColor)[3] === 0
                   || getComputedStyle(panel).backgroundColor === 'transparent')) panel = panel.parentElement;
  const style = getComputedStyle(box);
  const [a, b] = [luminance(rgb(style.borderTopColor)), luminance(rgb(getComputedStyle(panel).backgroundColor))];
  return { contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), width: parseFloat(style.borderTopWidth),
           style: style.borderTopStyle, opacity: Number(style.opacity) };
}"""


def test_an_unticked_option_reads_as_a_box_and_a_disabled_one_looks_disabled(page, lexical_server, tmp_path):
    page.goto(lexical_server.url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    _options(page)
    undated = page.locator("#qa-include-undated input").evaluate(BOX_CONTRAST)
    rerank = page.locator("#qa-rerank input")
    assert rerank.is_disabled() and not page.locator("#qa-include-undated input").is_disabled()
    disabled = rerank.evaluate(BOX_CONTRAST)
    assert undated["contrast"] >= 3 and undated["width"] >= 1.5 and undated["style"] == "solid"
    assert disabled["style"] == "dashed" and disabled["opacity"] < 1
    page.locator("#qa-options").screenshot(path=str(tmp_path / "options.png"))


def test_the_date_fields_are_found_by_their_labels(page, lexical_server):
    page.goto(lexical_server.url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    _options(page)
    for label, field in (("Published from", "qa-date-from"), ("Published until", "qa-date-to")):
        box = page.get_by_label(label, exact=True)
        assert box.count() == 1 and box.evaluate("(e) => e.closest('.block').id") == field
    page.get_by_label("Published from", exact=True).fill("2019-01-01")
    assert page.locator("#qa-date-from input").first.input_value() == "2019-01-01"


def test_articles_tab_sorts_by_any_column_and_opens_an_article(page, lexical_server):
    page.goto(lexical_server.url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    open_tab(page, "Articles")
    table = page.locator(".qa-articles")
    table.wait_for(timeout=10_000)
    assert [t.strip().lower() for t in table.locator("thead th").all_inner_texts()] == [
        "title",
        "outlet",
        "author",
        "date",
        "passages",
    ]
    table.locator(".qa-sort[data-key=passages]").click()
    counts = [int(t) for t in table.locator("td.qa-num").all_inner_texts()]
    assert counts == sorted(counts)
    table.locator(".qa-sort[data-key=passages]").click()
    assert [int(t) for t in table.locator("td.qa-num").all_inner_texts()] == sorted(counts, reverse=True)
    table.locator(".qa-sort[data-key=title]").click()
    titles = [title.strip() for title in table.locator(".qa-open").all_inner_texts()]
    # By the names shown: the untitled article by its readable name, not by its file name (shafaqna-…).
    assert titles == page.evaluate(
        "(ts) => ts.slice().sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))", titles
    )
    assert titles.index("Human trafficking glaring failure of the state (untitled)") < titles.index(
        "Pakistan, China working closely on women trafficking"
    )
    table.get_by_role("button", name="Breaking the chains of human trafficking in Pakistan").click()
    reader = page.locator("#qa-reader .qa-article")
    reader.wait_for(timeout=30_000)
    assert page.get_by_role("tab", name="Ask").get_attribute("aria-selected") == "true"
    assert "Breaking the chains of human trafficking in Pakistan" in reader.locator("h3").inner_text()


@pytest.fixture(scope="module")
def documents_server(tmp_path_factory):
    """The page over a folder of documents: a three-page PDF report, and a locked PDF that is skipped."""
    from tests.support import documents

    folder = tmp_path_factory.mktemp("documents-app")
    corpus = folder / "corpus"
    corpus.mkdir()
    documents.build_report_pdf(corpus / "report.pdf", scan=False)
    documents.build_encrypted_pdf(corpus / "locked.pdf")
    with lexical_app(corpus, folder) as server:
        yield server


def test_pdf_hit_shows_its_page_and_opens_at_it_with_page_markers(page, documents_server, tmp_path):
    _ask(page, documents_server.url, "What did the lawyers of the shipping company decline to answer?")
    first = page.locator(".qa-card").first
    first.wait_for(timeout=30_000)
    assert "2024-03-15 · pp. 2–3 · ¶5" in first.locator(".qa-meta").inner_text()
    first.locator(".qa-show").click()
    cited = page.locator("#qa-reader .qa-cited")
    cited.wait_for(timeout=30_000)
    assert cited.get_attribute("id") == "qa-p-5"
    assert cited.locator(".qa-page-break").inner_text() == "p. 3"
    assert [marker.inner_text().lower() for marker in page.locator("#qa-reader .qa-page").all()] == [
        "page 1",
        "page 2",
    ]
    page.wait_for_function(
        "() => { const r = document.querySelector('#qa-reader .qa-cited').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }",
        timeout=10_000,
    )
    open_tab(page, "About this index")
    skipped = page.locator(".qa-skipped")
    skipped.wait_for(timeout=10_000)
    assert "Not indexed: 1 file(s)" in skipped.inner_text()
    skipped.locator("summary").click()
    assert "encrypted PDF" in skipped.inner_text()
    page.screenshot(path=str(tmp_path / "pdf-reader.png"), full_page=True)


def test_the_page_says_which_spelling_it_searched_for(page, lexical_server):
    _ask(page, lexical_server.url, "How many traffickers did the FIA arrest in Gujranwla?")
    _cards(page)
    assert page.locator(".qa-note").inner_text() == "Showing results for Gujranwala (you typed Gujranwla)."
    assert "109 traffickers in Gujranwala" in page.locator(".qa-card").first.inner_text()


def test_a_question_in_another_language_gets_a_hint_that_the_search_is_english(page, lexical_server):
    _ask(page, lexical_server.url, "Pourquoi le Pakistan a-t-il abandonné les poursuites contre les trafiquants ?")
    warning = page.locator(".qa-warning")
    warning.wait_for(timeout=30_000)
    assert "does not seem to be in English" in warning.inner_text()
