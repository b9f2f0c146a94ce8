"""The real page: app.py served on loopback, driven by Chromium (playwright) and gradio_client."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from servers import ROOT, Server, lexical_app

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
    (corpus / "xss.md").write_text(XSS_ARTICLE, encoding="utf-8")
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


def test_keyword_only_banner_when_semantic_search_is_off(page, lexical_server):
    page.goto(lexical_server.url)
    banner = page.locator(".qa-banner")
    banner.wait_for(timeout=60_000)
    assert "keyword matches only" in banner.inner_text()
    assert "qa build --model PATH" in banner.inner_text()


def test_no_banner_when_semantic_search_is_on(page, hybrid_server):
    _ask(page, hybrid_server.url, GUJRANWALA)
    page.locator(".qa-card").first.wait_for(timeout=30_000)
    assert page.locator(".qa-banner").count() == 0
    page.locator(".qa-scores").first.click()
    assert "dense" in page.locator(".qa-scores").first.inner_text()


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
    page.get_by_role("tab", name="Articles").click()
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
    assert data.keys() == {"question", "confident", "mode", "hits"}
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
    assert "gradio.live" not in log


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
        "import sys; sys.path.insert(0, %r); import app; "
        "print(' '.join(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code % str(ROOT)], capture_output=True, text=True, timeout=120)
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
    assert "rerank" in page.locator(".qa-scores").first.inner_text()


def test_rerank_toggle_is_off_with_the_reason_when_no_cross_encoder(page, lexical_server):
    page.goto(lexical_server.url)
    page.locator("#qa-question textarea").wait_for(timeout=60_000)
    page.get_by_text("Options and filters").click()
    checkbox = page.locator("#qa-rerank input")
    assert checkbox.is_disabled()
    assert "unavailable" in page.locator("#qa-rerank").inner_text()
