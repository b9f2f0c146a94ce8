"""The web page's HTML fragments: answer cards, filters, the article reader, index facts.

Everything that comes from an article, a file or a question is escaped here, once, with
``html.escape``; no caller builds markup from text. The words are for readers, not for the
person who runs the server: technical detail stays in About's "Technical details" fold.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files

from qa.records import Answer, Article, Copy, Hit, Skip, page_label
from qa.serve.export import Asked, undated_note
from qa.settings import NO_HITS, NOT_CONFIDENT

NO_HITS_FILTERED = "No passage passes the filters. Clear a filter to search more articles."
KEYWORD_ONLY = "Keyword search: a passage is found when it shares words with your question."
KEYWORD_TIP = "Use the words an article would use (“arrested”, not “detained”)."
SEMANTIC_ON = "Searching by meaning and by keywords."
SEMANTIC_SELF = "Searching by meaning (a model trained on these articles) and by keywords."
STRENGTH = {
    "strong": ("Strong match", "it shares most of your question's key words"),
    "partial": ("Partial match", "it shares some of your question's key words"),
    "weak": ("Weak match", "it shares few of your question's key words"),
}
SCORE_NAMES = {"lexical": "keyword score", "dense": "meaning score", "rerank": "reranker score"}
UNKNOWN_OUTLET = "Unknown outlet"
OCR_NOTE = "Read from a scanned page by OCR: check these words against the original before quoting them."


@dataclass(frozen=True, slots=True)
class Filter:
    """One active search filter as the page shows it: a chip with a label and what clearing it resets."""

    label: str
    clear: dict[str, str]


@dataclass(frozen=True, slots=True)
class IndexFacts:
    """What an index holds, in the terms the first view and About use."""

    articles: int
    passages: int
    outlets: int
    without_outlet: int
    first_date: str | None
    last_date: str | None
    undated: int
    search: str  # "keywords", "meaning", or "self" (meaning, with a model trained on the corpus)
    built: str


def stylesheet() -> str:
    return files("qa.serve").joinpath("web.css").read_text(encoding="utf-8")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _marked(text: str, start: int, end: int, mark_class: str = "qa-highlight") -> str:
    return f'{_e(text[:start])}<mark class="{mark_class}">{_e(text[start:end])}</mark>{_e(text[end:])}'


def _byline(
    article: Article, paragraph: int | None = None, page: int | None = None, page_end: int | None = None
) -> str:
    parts = [article.author, article.date, page_label(page, page_end), f"¶{paragraph}" if paragraph else None]
    return " · ".join(_e(part) for part in parts if part)


def _strength(level: str) -> str:
    label, why = STRENGTH[level]
    return (
        f'<span class="qa-strength qa-strength-{level}" title="{_e(label)}: {_e(why)}">'
        f'<span class="qa-dots" aria-hidden="true"><i></i><i></i><i></i></span>{_e(label)}</span>'
    )


def _mark_buttons(rank: int, mark: bool | None) -> str:
    """✓ / ✗ for the user's own relevance judgement; the one given already is pressed."""
    buttons = []
    for relevant, symbol, label in ((True, "✓", "Relevant"), (False, "✗", "Not relevant")):
        pressed = "true" if mark is relevant else "false"
        data = _e(json.dumps({"mark": {"rank": rank, "relevant": relevant}}))
        buttons.append(
            f'<button type="button" class="qa-mark" aria-pressed="{pressed}" data-mark="{data}" '
            f'title="Mark this passage {label.lower()} to this question">{symbol}<span> {label}</span></button>'
        )
    return f'<span class="qa-marks" role="group" aria-label="Your judgement">{"".join(buttons)}</span>'


def _copy_line(copy: Copy) -> str:
    where = " · ".join(
        _e(part) for part in (copy.outlet or UNKNOWN_OUTLET, copy.date or "undated", f"¶{copy.paragraph}")
    )
    show = _e(json.dumps({"open": copy.article_id, "paragraph": copy.paragraph}))
    return f'<li>{where} <button type="button" class="qa-show-copy" data-show="{show}">Show</button></li>'


def render_copies(hit: Hit) -> str:
    """Where else the passage ran (wire copies): how many outlets, which copy is dated earliest, the list."""
    if not hit.also_in:
        return ""
    outlets = {copy.outlet for copy in hit.also_in if copy.outlet and copy.outlet != hit.article.outlet}
    count = _plural(len(outlets), "other outlet") if outlets else _plural(len(hit.also_in), "other article")
    earliest = hit.earliest
    if earliest is None:
        first = "no copy is dated"
    elif earliest.article_id == hit.article.id:
        first = f"this copy is the earliest ({earliest.date})"
    else:
        first = f"earliest: {earliest.outlet or UNKNOWN_OUTLET}, {earliest.date}"
    items = "".join(_copy_line(copy) for copy in hit.also_in)
    return (
        f'<details class="qa-copies"><summary>Also ran in {_e(count)} · {_e(first)}</summary><ul>{items}</ul></details>'
    )


def render_hit(hit: Hit, strength: str = "partial", mark: bool | None = None) -> str:
    """One answer card: citation, passage with its highlighted sentence, a plain relevance cue,
    a box to pick it for download, and the user's relevant / not relevant marks."""
    article, passage = hit.article, hit.passage
    start, end = hit.highlight
    title = _e(article.title) if article.title else f'<span class="qa-untitled">{_e(article.name)} (untitled)</span>'
    outlet = f'<span class="qa-outlet">{_e(article.outlet)}</span>' if article.outlet else ""
    scores = " · ".join(f"{_e(SCORE_NAMES.get(name, name))} {value:.3f}" for name, value in hit.scores.items())
    ocr = f' <span class="qa-ocr" title="{_e(OCR_NOTE)}">OCR text</span>' if passage.ocr else ""
    byline = _byline(article, passage.paragraph, passage.page, passage.page_end)
    show = {
        "article": article.id,
        "start": passage.char_start,
        "end": passage.char_end,
        "hlStart": passage.char_start + start,
        "hlEnd": passage.char_start + end,
    }
    pick = (
        f'<label class="qa-pick" title="Pick for download"><input type="checkbox" data-rank="{hit.rank}" '
        f'aria-label="Pick passage {hit.rank} for download"></label>'
    )
    return f"""<article class="qa-card" data-rank="{hit.rank}">
<header class="qa-card-head">{pick}<span class="qa-rank">{hit.rank}</span>
<div class="qa-cite">{outlet}<span class="qa-title">{title}</span>
<span class="qa-meta">{byline}{ocr}</span></div>{_strength(strength)}</header>
<p class="qa-text">{_marked(passage.text, start, end)}</p>{render_copies(hit)}
<footer class="qa-card-foot"><details class="qa-scores"><summary>Ranking details</summary>{scores}</details>
{_mark_buttons(hit.rank, mark)}<span class="qa-actions">
<button type="button" class="qa-copy" data-citation="{_e(hit.full_citation)}">Copy citation</button>
<button type="button" class="qa-show" data-show="{_e(json.dumps({"show": show}))}">Show in article</button></span>
</footer></article>"""


def render_filters(active: Sequence[Filter]) -> str:
    """The filters in force, each with a button that clears it (and one that clears them all)."""
    if not active:
        return ""
    chips = "".join(
        f'<span class="qa-chip">{_e(item.label)}<button type="button" class="qa-clear" '
        f'aria-label="Clear filter: {_e(item.label)}" data-clear="{_e(json.dumps({"clear": item.clear}))}">×</button>'
        f"</span>"
        for item in active
    )
    clear_all = (
        f'<button type="button" class="qa-clear qa-clear-all" data-clear="{_e(json.dumps({"clear": {"all": "1"}}))}">'
        "Clear all</button>"
        if len(active) > 1
        else ""
    )
    label = '<span class="qa-filters-label">Filters:</span>'
    return f'<div class="qa-filters" aria-label="Active filters">{label}{chips}{clear_all}</div>'


DOWNLOAD_BAR = (
    '<div class="qa-toolbar" role="toolbar" aria-label="Download">'
    '<span class="qa-toolbar-label">Download the picked passages (none picked: all)</span>'
    '<button type="button" class="qa-download" data-format="csv">CSV</button>'
    '<button type="button" class="qa-download" data-format="markdown">Markdown</button></div>'
)


def render_undated(count: int) -> str:
    """Undated articles a date filter left out: how many passages, and a button to include them."""
    if not count:
        return ""
    return (
        f'<div class="qa-note qa-undated-note" role="status">{_e(undated_note(count))} '
        f'<button type="button" class="qa-include-undated" data-undated="{_e(json.dumps({"undated": True}))}">'
        "Include undated articles</button></div>"
    )


def render_answer(
    answer: Answer,
    strengths: Sequence[str] | None = None,
    active: Sequence[Filter] = (),
    notes: Sequence[str] = (),
    marks: dict[int, bool] | None = None,
    timeline: str = "",
) -> str:
    """The results panel: active filters, notes about the question (its search syntax, undated
    articles left out), the honesty notice, the timeline of the best matches, the download bar,
    the cards (``marks``: rank → the user's relevance mark already given)."""
    parts = [render_filters(active)]
    parts.extend(f'<div class="qa-note" role="status">{_e(note)}</div>' for note in notes)
    parts.append(render_undated(answer.undated_excluded))
    parts.extend(f'<div class="qa-warning">{_e(warning)}</div>' for warning in answer.warnings)
    if not answer.hits:
        parts.append(f'<div class="qa-notice" role="status">{_e(NO_HITS_FILTERED if active else NO_HITS)}</div>')
    elif not answer.confident:
        parts.append(f'<div class="qa-notice" role="status">{_e(NOT_CONFIDENT)}</div>')
    parts.append(timeline)
    if answer.hits:
        parts.append(DOWNLOAD_BAR)
    levels = list(strengths or [])
    marks = marks or {}
    parts.extend(
        render_hit(hit, levels[number] if number < len(levels) else "partial", marks.get(hit.rank))
        for number, hit in enumerate(answer.hits)
    )
    return '<div class="qa-results">' + "\n".join(part for part in parts if part) + "</div>"


def render_batch(results: Sequence[Asked]) -> str:
    """The Batch tab's table: a row per hit (question, rank, citation, answering sentence) or failed question;
    a question the corpus does not seem to answer gets the single-question view's notice in a row of its own,
    above its nearest passages."""
    rows = []
    for number, result in enumerate(results, start=1):
        answer = result.answer
        css = "qa-next-question" + (" qa-failed" if answer is None else "" if answer.confident else " qa-unanswered")
        first = f'<tr class="{css}"><td class="qa-num">{number}</td><td>{_e(result.question or "")}</td>'
        if answer is None:
            rows.append(f'{first}<td></td><td colspan="2" class="qa-error-cell">{_e(result.error or "")}</td></tr>')
            continue
        if not answer.confident:
            notice = NOT_CONFIDENT if answer.hits else NO_HITS
            rows.append(f'{first}<td></td><td colspan="2" class="qa-notice-cell">{_e(notice)}</td></tr>')
            first = "<tr><td></td><td></td>"
        for hit in answer.hits:
            lead = first if hit.rank == 1 else "<tr><td></td><td></td>"
            cells = f"<td>{_e(hit.citation)}</td><td>{_e(hit.highlighted_text)}</td>"
            rows.append(f'{lead}<td class="qa-num">{hit.rank}</td>{cells}</tr>')
    failed = sum(1 for result in results if result.answer is None)
    unanswered = sum(1 for result in results if result.answer is not None and not result.answer.confident)
    summary = f"{_plural(len(results), 'question')} asked" + (f", {failed} failed" if failed else "")
    if unanswered:
        summary += f"; the corpus does not seem to answer {unanswered} of them"
    head = "".join(f"<th>{name}</th>" for name in ("#", "Question", "Rank", "Citation", "Answering sentence"))
    return (
        f'<div class="qa-batch"><p class="qa-batch-summary" role="status">{_e(summary)}</p>'
        f'<table class="qa-batch-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def render_message(message: str, kind: str = "error", active: Sequence[Filter] = ()) -> str:
    role = "alert" if kind == "error" else "status"
    box = f'<div class="qa-{_e(kind)}" role="{role}">{_e(message)}</div>'
    return f'<div class="qa-results">{render_filters(active)}{box}</div>' if active else box


def _search_words(search: str) -> str:
    return {"keywords": "keywords only", "meaning": "by meaning and by keywords"}.get(
        search, "by meaning (a model trained on these articles) and by keywords"
    )


def render_summary(facts: IndexFacts, has_examples: bool) -> str:
    """The first view: what is indexed and how it is searched, before any question."""
    if facts.articles == 0:
        return '<div class="qa-summary"><p>No articles are indexed yet.</p></div>'
    outlets = _plural(facts.outlets, "outlet") if facts.outlets else "no named outlet"
    if facts.outlets and facts.without_outlet:
        outlets += f" ({facts.without_outlet:,} with no outlet named)"
    if facts.first_date and facts.last_date:
        dates = (
            f"published {facts.first_date}"
            if facts.first_date == facts.last_date
            else f"published {facts.first_date} to {facts.last_date}"
        )
        if facts.undated:
            dates += f" ({facts.undated:,} undated)"
    else:
        dates = "none of them dated"
    next_step = "Ask a question above, or try one of the examples below." if has_examples else "Ask a question above."
    return (
        '<div class="qa-summary" role="status">'
        f"<p><strong>{_plural(facts.articles, 'article')}</strong> from {_e(outlets)}, {_e(dates)}; "
        f"{_plural(facts.passages, 'paragraph')} to search, {_e(_search_words(facts.search))}.</p>"
        f"<p>{next_step} Every answer is a quote with its source.</p></div>"
    )


SYNTAX = (
    '<details class="qa-syntax"><summary>Search syntax</summary>'
    '<ul><li><code>"exact phrase"</code> — every passage shown contains these words in this order;</li>'
    '<li><code>-word</code> or <code>NOT word</code> (also <code>-"a phrase"</code>) — leaves out passages '
    "containing it (whole words, any case);</li>"
    '<li>they combine with ordinary words: <code>levy "sports hall" -Beijing</code>.</li></ul></details>'
)


def render_status(search: str) -> str:
    """One short line under the question box saying how questions are matched, and the search syntax."""
    if search == "keywords":
        return (
            f'<div class="qa-status qa-status-keywords" role="status"><strong>{_e(KEYWORD_ONLY)}</strong> '
            f'<span class="qa-status-tip">{_e(KEYWORD_TIP)}</span>{SYNTAX}</div>'
        )
    line = _e(SEMANTIC_SELF if search == "self" else SEMANTIC_ON)
    return f'<div class="qa-status" role="status">{line}{SYNTAX}</div>'


def _page_marker(article: Article, page: int, inline: bool) -> str:
    scanned = " · OCR" if page in article.ocr_pages else ""
    if inline:
        return f'<span class="qa-page-break" aria-label="page {page} starts">p. {page}{scanned}</span> '
    return f'<div class="qa-page" id="qa-page-{page}">Page {page}{scanned}</div>'


def _paragraph_body(text: str, breaks: list[tuple[int, str]], highlight: tuple[int, int] | None) -> str:
    """A paragraph's text escaped, the highlight marked, and each page marker of ``breaks``
    ((offset in ``text``, marker HTML)) put where its page starts."""
    cuts = {0, len(text), *(offset for offset, _ in breaks)}
    if highlight:
        cuts.update(highlight)
    points = sorted(cuts)
    parts: list[str] = []
    for a, b in itertools.pairwise(points):
        parts.extend(marker for offset, marker in breaks if offset == a)
        piece = _e(text[a:b])
        if highlight and highlight[0] <= a and b <= highlight[1]:
            piece = f'<mark class="qa-highlight">{piece}</mark>'
        parts.append(piece)
    return "".join(parts)


def render_article(
    article: Article, start: int | None = None, end: int | None = None, highlight: tuple[int, int] | None = None
) -> str:
    """The whole cleaned article, ¶-numbered, with page markers in a paged document; the
    paragraph holding [start, end) is marked."""
    paragraphs = []
    pages = list(article.pages or [])
    for number, (p_start, p_end) in enumerate(article.paragraph_spans(), start=1):
        text = article.text[p_start:p_end]
        cited = start is not None and end is not None and p_start < end and start < p_end
        while pages and pages[0][0] <= p_start:  # pages starting between paragraphs (or with this one)
            paragraphs.append(_page_marker(article, pages.pop(0)[1], inline=False))
        inside = []
        while pages and pages[0][0] < p_end:
            offset, page = pages.pop(0)
            inside.append((offset - p_start, page))
        mark = None
        if cited and highlight and p_start <= highlight[0] < highlight[1] <= p_end:
            mark = (highlight[0] - p_start, highlight[1] - p_start)
        body = _paragraph_body(text, [(offset, _page_marker(article, page, True)) for offset, page in inside], mark)
        css = "qa-para qa-cited" if cited else "qa-para"
        paragraphs.append(f'<p class="{css}" id="qa-p-{number}"><span class="qa-pnum">¶{number}</span>{body}</p>')
    heading = _e(article.title) if article.title else f"{_e(article.name)} <em>(untitled)</em>"
    facts = " · ".join(_e(v) for v in (article.outlet, article.author, article.date) if v)
    link = (
        f' · <a href="{_e(article.url)}" rel="noopener noreferrer" target="_blank">source</a>'
        if article.url and article.url.startswith(("http://", "https://"))
        else ""
    )
    facts_line = f"{facts}{link}<br>" if facts or link else ""
    return (
        f'<div class="qa-article" tabindex="-1"><header><button type="button" class="qa-close-reader">✕ Close</button>'
        f'<h3>{heading}</h3><div class="qa-meta">{facts_line}<code>{_e(article.path)}</code></div></header>'
        f'<div class="qa-article-body">' + "\n".join(paragraphs) + "</div></div>"
    )


def _rows(rows: Iterable[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in rows)


def render_about(facts: IndexFacts, rerank: str, technical: Sequence[tuple[str, str]], setup_tip: str | None) -> str:
    """About this index: plain facts, then the technical detail (model, reasons, format) under a fold."""
    if facts.search == "keywords":
        search = "Keywords only: a passage is found when it shares words with the question."
    elif facts.search == "self":
        search = "By meaning and by keywords, with a model trained on these articles."
    else:
        search = "By meaning and by keywords: passages that say the same thing in other words are found too."
    dates = (
        f"{facts.first_date} to {facts.last_date}" if facts.first_date and facts.last_date else "no article is dated"
    )
    if facts.undated and facts.first_date:
        dates += f" ({facts.undated:,} undated)"
    plain = [
        ("Articles", f"{facts.articles:,} ({facts.passages:,} paragraphs to search)"),
        (
            "Outlets",
            f"{facts.outlets:,}"
            + (f" ({facts.without_outlet:,} articles with none named)" if facts.without_outlet else ""),
        ),
        ("Published", dates),
        ("Search", search),
        ("Reranking", rerank),
        ("Built", facts.built),
    ]
    tip = f'<p class="qa-setup-tip">{_e(setup_tip)}</p>' if setup_tip else ""
    return (
        f'<table class="qa-facts">{_rows(plain)}</table>'
        '<details class="qa-technical"><summary>Technical details</summary>'
        f'<table class="qa-facts">{_rows(technical)}</table>{tip}</details>'
    )


def render_skipped(skipped: list[Skip]) -> str:
    """The files (or lines, pages, attachments) the build did not index, with the reason for each."""
    if not skipped:
        return '<p class="qa-skipped-none">Every file in the corpus folder was indexed.</p>'
    rows = "".join(f"<tr><td><code>{_e(skip.path)}</code></td><td>{_e(skip.reason)}</td></tr>" for skip in skipped)
    return (
        f'<details class="qa-skipped"><summary>Not indexed: {len(skipped):,} file(s)</summary>'
        f'<table class="qa-skips"><thead><tr><th>File</th><th>Why</th></tr></thead><tbody>{rows}</tbody></table>'
        "</details>"
    )


ARTICLE_COLUMNS = (
    ("title", "Title"),
    ("outlet", "Outlet"),
    ("author", "Author"),
    ("date", "Date"),
    ("passages", "Passages"),
)


def render_articles(articles: Iterable[Article], passages_per_article: dict[str, int], total: int | None = None) -> str:
    """Every indexed article, one column per fact, sortable by any column; a title opens the reader."""
    rows = []
    shown = 0
    for article in articles:
        shown += 1
        title = _e(article.title) if article.title else f"{_e(article.name)} <em>(untitled)</em>"
        count = passages_per_article.get(article.id, 0)
        keys = {
            "title": article.name.lower(),  # as shown: an untitled article by its readable name
            "outlet": (article.outlet or "").lower(),
            "author": (article.author or "").lower(),
            "date": article.date or "",
            "passages": f"{count:09d}",
        }
        data = " ".join(f'data-{name}="{_e(value)}"' for name, value in keys.items())
        open_article = _e(json.dumps({"open": article.id}))
        rows.append(
            f"<tr {data}>"
            f'<td data-label="Title"><button type="button" class="qa-open" data-open="{open_article}">{title}</button>'
            f'<span class="qa-file">{_e(article.path)}</span></td>'
            f'<td data-label="Outlet">{_e(article.outlet or "—")}</td>'
            f'<td data-label="Author">{_e(article.author or "—")}</td>'
            f'<td data-label="Date" class="qa-date">{_e(article.date or "—")}</td>'
            f'<td data-label="Passages" class="qa-num">{count}</td></tr>'
        )
    head = "".join(
        f'<th scope="col" aria-sort="{"descending" if key == "date" else "none"}">'
        f'<button type="button" class="qa-sort" data-key="{key}">{name}</button></th>'
        for key, name in ARTICLE_COLUMNS
    )
    note = ""
    if total is not None and total > shown:
        note = f'<p class="qa-more">Showing the {shown:,} most recent of {total:,} articles.</p>'
    return f'<table class="qa-articles"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{note}'
