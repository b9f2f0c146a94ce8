"""The web page's HTML fragments: answer cards, the article reader, index facts.

Everything that comes from an article, a file or a question is escaped here, once, with
``html.escape``; no caller builds markup from text.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Iterable
from importlib.resources import files

from qa.index.manifest import Manifest
from qa.models.selftrain import SELF_MIN_WORDS
from qa.records import Answer, Article, Hit, Skip, page_label

NOT_CONFIDENT = "The corpus does not seem to answer this question. These are the nearest passages."
NO_HITS = "The corpus does not seem to answer this question: no passage shares its key words."
KEYWORD_ONLY = "Semantic search is off: results are keyword matches only."
OCR_NOTE = "Read from a scanned page by OCR: check these words against the original before quoting them."


def stylesheet() -> str:
    return files("qa.serve").joinpath("web.css").read_text(encoding="utf-8")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _marked(text: str, start: int, end: int, mark_class: str = "qa-highlight") -> str:
    return f'{_e(text[:start])}<mark class="{mark_class}">{_e(text[start:end])}</mark>{_e(text[end:])}'


def _byline(
    article: Article, paragraph: int | None = None, page: int | None = None, page_end: int | None = None
) -> str:
    parts = [article.author, article.date, page_label(page, page_end), f"¶{paragraph}" if paragraph else None]
    return " · ".join(_e(part) for part in parts if part)


def render_hit(hit: Hit) -> str:
    article, passage = hit.article, hit.passage
    start, end = hit.highlight
    title = _e(article.title) if article.title else f'<span class="qa-untitled">{_e(article.name)} (untitled)</span>'
    outlet = f'<span class="qa-outlet">{_e(article.outlet)}</span>' if article.outlet else ""
    scores = " · ".join(f"{_e(name)} {value:.3f}" for name, value in hit.scores.items())
    ocr = f' <span class="qa-ocr" title="{_e(OCR_NOTE)}">OCR text</span>' if passage.ocr else ""
    show = {
        "article": article.id,
        "start": passage.char_start,
        "end": passage.char_end,
        "hlStart": passage.char_start + start,
        "hlEnd": passage.char_start + end,
    }
    return f"""<article class="qa-card" data-rank="{hit.rank}">
<header class="qa-card-head"><span class="qa-rank">{hit.rank}</span>
<div class="qa-cite">{outlet}<span class="qa-title">{title}</span>
<span class="qa-meta">{_byline(article, passage.paragraph, passage.page, passage.page_end)}{ocr}</span></div>
<span class="qa-score" title="ranking score">{hit.score:.3f}</span></header>
<p class="qa-text">{_marked(passage.text, start, end)}</p>
<footer class="qa-card-foot"><details class="qa-scores"><summary>Scores</summary>{scores}</details>
<span class="qa-actions">
<button type="button" class="qa-copy" data-citation="{_e(hit.full_citation)}">Copy citation</button>
<button type="button" class="qa-show" data-show="{_e(json.dumps(show))}">Show in article</button></span>
</footer></article>"""


def render_answer(answer: Answer) -> str:
    parts = [f'<div class="qa-warning">{_e(warning)}</div>' for warning in answer.warnings]
    if not answer.hits:
        parts.append(f'<div class="qa-notice" role="status">{_e(NO_HITS)}</div>')
    elif not answer.confident:
        parts.append(f'<div class="qa-notice" role="status">{_e(NOT_CONFIDENT)}</div>')
    parts.extend(render_hit(hit) for hit in answer.hits)
    return '<div class="qa-results">' + "\n".join(parts) + "</div>"


def render_message(message: str, kind: str = "error") -> str:
    return f'<div class="qa-{_e(kind)}" role="alert">{_e(message)}</div>'


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
    parts = []
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
    heading = _e(article.title) if article.title else f"Untitled ({_e(article.id)})"
    facts = " · ".join(_e(v) for v in (article.outlet, article.author, article.date) if v)
    link = (
        f' · <a href="{_e(article.url)}" rel="noopener noreferrer" target="_blank">source</a>'
        if article.url and article.url.startswith(("http://", "https://"))
        else ""
    )
    facts_line = f"{facts}{link}<br>" if facts or link else ""
    return (
        f'<div class="qa-article"><header><h3>{heading}</h3><div class="qa-meta">{facts_line}'
        f"<code>{_e(article.path)}</code></div></header>" + "\n".join(paragraphs) + "</div>"
    )


def render_banner(mode: str, reason: str | None, layer: str | None = None) -> str:
    """The keyword-only warning, or (when semantic search is on) one line naming its model."""
    if mode != "lexical":
        if not layer:
            return ""
        return f'<div class="qa-layer" role="status">Semantic search: {_e(layer)}.</div>'

    how = (
        "To enable it, rebuild with <code>qa build</code> (its default model is installed with qa), "
        "build with <code>qa build --model PATH</code> pointing to a "
        "sentence-transformers model folder, or train one on this corpus with "
        f"<code>qa build --model self</code> (it helps from about {SELF_MIN_WORDS:,} words of text)."
    )
    detail = f'<details class="qa-reason"><summary>Why is it off?</summary>{_e(reason)}</details>' if reason else ""
    return f'<div class="qa-banner" role="status"><strong>{_e(KEYWORD_ONLY)}</strong> {how}{detail}</div>'


def render_about(manifest: Manifest, mode: str, reason: str | None) -> str:
    model = manifest.model
    semantic = manifest.semantic_layer() if model and mode != "lexical" else f"off — {reason}"
    rows = [
        ("Search mode", mode),
        ("Semantic model", semantic),
        ("Articles", f"{manifest.articles:,}"),
        ("Passages", f"{manifest.passages:,}"),
        ("Built", manifest.created_at.replace("T", " ")),
        ("Index format", f"{manifest.format_version} (qa {manifest.qa_version})"),
    ]
    body = "".join(f"<tr><th>{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in rows)
    return f'<table class="qa-facts">{body}</table>'


def render_skipped(skipped: list[Skip]) -> str:
    """The files (or lines, pages, attachments) the build did not index, with the reason for each."""
    if not skipped:
        return '<p class="qa-skipped-none">Every file in the corpus folder was indexed.</p>'
    rows = "".join(f"<tr><td><code>{_e(skip.path)}</code></td><td>{_e(skip.reason)}</td></tr>" for skip in skipped)
    return (
        f'<details class="qa-skipped"><summary>Not indexed: {len(skipped):,} file(s)</summary>'
        f'<table class="qa-articles"><thead><tr><th>File</th><th>Why</th></tr></thead><tbody>{rows}</tbody></table>'
        "</details>"
    )


def render_articles(articles: Iterable[Article], passages_per_article: dict[str, int]) -> str:
    rows = []
    for article in articles:
        title = _e(article.title) if article.title else f"<em>Untitled</em> <code>{_e(article.id)}</code>"
        rows.append(
            f"<tr><td>{title}</td><td>{_e(article.outlet or '—')}</td><td>{_e(article.author or '—')}</td>"
            f'<td>{_e(article.date or "—")}</td><td class="qa-num">{article.text.count(chr(10) * 2) + 1}</td>'
            f'<td class="qa-num">{passages_per_article.get(article.id, 0)}</td>'
            f"<td><code>{_e(article.path)}</code></td></tr>"
        )
    head = "".join(f"<th>{name}</th>" for name in ("Title", "Outlet", "Author", "Date", "¶", "Passages", "File"))
    return f'<table class="qa-articles"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
