"""What the web page does, without Gradio: open (or build) the index, answer, render, report.

app.py only lays out components and wires events to these methods, so the page, the CLI
and the Python API give the same answers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexNotFoundError, InvalidRequestError, QAError
from qa.index.build import build_index
from qa.index.catalog import NO_DAY, NO_OUTLET
from qa.index.manifest import MANIFEST_FILE
from qa.models.encoder import DEFAULT_MODEL
from qa.models.reranker import DEFAULT_RERANKER
from qa.records import Answer
from qa.search.request import parse_date
from qa.search.retriever import Retriever
from qa.search.syntax import parse_query
from qa.serve import web
from qa.serve.actions import Desk, ask_pasted
from qa.serve.export import Asked
from qa.serve.hints import error_line
from qa.serve.render import correction_note
from qa.serve.timeline import TIMELINE_DEPTH, render_timeline, timeline_of
from qa.settings import DEFAULT_K

# Questions the shipped corpus answers; the page offers those the open index answers confidently.
SEED_EXAMPLES = [
    "How many traffickers did the FIA arrest in Gujranwala?",
    "Why did Pakistan decline to pursue the case against Chinese sex traffickers?",
    "How many girls and women were brought to China to be sold as brides?",
    "What are Uyghurs forbidden from doing in the re-education centers?",
    "How do traffickers use online recruitment and fraudulent job listings?",
    "What did the Chinese team that visited Pakistan offer?",
]
MAX_K = 20
ARTICLES_SHOWN = 1000  # rows in the Articles tab; a bigger corpus is searched, not browsed
RERANK_ON = "rescore the top passages with a second model: slower, often more precise"
RERANK_OFF = "not available on this computer (About this index → Technical details says why)"
SETUP_TIP = (
    "For the person who runs this server: to search by meaning too, rebuild the index with a "
    "sentence-transformers model (qa build --model PATH), or train one on the articles "
    "(qa build --model self; it helps from about 100,000 words). README: Search."
)
log = logging.getLogger("qa")


class Service:
    """One index folder, answering for the page and for the `/ask` API endpoint.

    A rebuild swaps a new index into the folder; the next request notices the new manifest
    and opens it, while requests already running finish on the old one.
    """

    def __init__(self, retriever: Retriever) -> None:
        self._retriever = retriever
        self._stamp = _stamp(retriever.index_dir)
        self._lock = threading.Lock()
        self._examples: list[str] | None = None
        self.generation = 0  # how many rebuilt indexes have been opened since start
        self.desk = Desk.default()  # the audit log and the marks file (qa.serve.actions)

    @property
    def retriever(self) -> Retriever:
        """The retriever for the index in the folder now (reopened after a rebuild)."""
        stamp = _stamp(self._retriever.index_dir)
        if stamp is not None and stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._reopen(stamp)
        return self._retriever

    def _reopen(self, stamp: tuple[int, int]) -> None:
        index_dir = self._retriever.index_dir
        try:
            self._retriever = Retriever.load(index_dir, reranker=self._retriever.reranker_status().model)
            log.info("Opened the rebuilt index in %s (%d passages).", index_dir, len(self._retriever.passages))
            self._examples = None
            self.generation += 1
        except QAError as error:
            log.warning("Kept serving the index opened earlier: the one now in %s cannot be used: %s", index_dir, error)
        self._stamp = stamp

    @classmethod
    def open(
        cls,
        index_dir: Path | str,
        corpus_dir: Path | str,
        model: str | None = DEFAULT_MODEL,
        reranker: str = DEFAULT_RERANKER,
    ) -> Service:
        """Load ``index_dir``; when there is no index yet, build it from ``corpus_dir`` first."""
        index_dir = Path(index_dir)
        try:
            return cls(Retriever.load(index_dir, reranker=reranker))
        except IndexNotFoundError:
            log.info("No index at %s yet; building it from %s …", index_dir, corpus_dir)
        report = build_index(corpus_dir, index_dir, model=model, progress=True)
        log.info(
            "Indexed %d articles as %d passages (%s search).",
            report.manifest.articles,
            report.manifest.passages,
            report.manifest.mode,
        )
        return cls(Retriever.load(index_dir, reranker=reranker))

    # -- answering -----------------------------------------------------------------------

    def ask_html(self, question: str, *options: Any, **named: Any) -> str:
        """The results panel for a question (:meth:`ask_page`'s panel alone); a user's mistake becomes a
        message, not an exception."""
        return self.ask_page(question, *options, **named)[0]

    def ask_page(
        self,
        question: str,
        k: float = DEFAULT_K,
        outlets: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        rerank: bool = False,
        include_undated: bool = False,
        collapse: bool = True,
        audit: bool = True,
    ) -> tuple[str, Answer | None]:
        """The results panel and the answer it shows (None after a mistake, shown as a message).

        The panel holds the timeline of the best :data:`TIMELINE_DEPTH` matches, a note on the
        question's search syntax and on undated articles a date filter left out, and the cards
        with the relevance marks already given to their passages for this question. With
        ``audit`` the question is added to the audit log.
        """
        active = active_filters(outlets, date_from, date_to, include_undated)
        retriever = self.retriever
        try:
            options = page_options(outlets, date_from, date_to, include_undated, rerank, collapse)
            answer = retriever.ask(question or "", _k(k), **options)
            dates = retriever.match_dates(question or "", TIMELINE_DEPTH, **{**options, "rerank": False})
        except QAError as error:
            return web.render_message(error_line(error, retriever.index_dir), active=active), None
        if audit:
            self.desk.record([answer], "page", retriever, options, _k(k))
        restricted = parse_query(answer.question)
        notes = [f"Search syntax: {restricted.describe()}."] if restricted.restricts else []
        note = correction_note(answer)
        notes += [note] if note else []
        page = web.render_answer(
            answer,
            match_strengths(retriever, answer),
            active,
            notes,
            marks=self.desk.marks_for(answer),
            timeline=render_timeline(timeline_of(dates)) if answer.hits else "",
        )
        return page, answer

    def ask_json(
        self,
        question: str,
        k: float = DEFAULT_K,
        outlets: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        include_undated: bool = False,
        rerank: bool = False,
        collapse: bool = True,
    ) -> str:
        """Exactly what `qa ask --json` prints for the question with these options; raises QAError for a bad one.

        The `/ask` endpoint: recorded in the audit log (source ``api``) unless it is turned off.
        """
        options: dict[str, Any] = {
            "outlets": [name for name in outlets or [] if name] or None,
            "date_from": date_from or None,
            "date_to": date_to or None,
            "include_undated": bool(include_undated),
            "rerank": bool(rerank),
            "collapse": bool(collapse),
        }
        retriever = self.retriever
        answer = retriever.ask(question, _k(k), **options)
        self.desk.record([answer], "api", retriever, options, _k(k))
        return json.dumps(answer.to_dict(), ensure_ascii=False)

    def batch(
        self,
        text: str,
        k: float = 3,
        outlets: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        rerank: bool = False,
        include_undated: bool = False,
        collapse: bool = True,
        audit: bool = True,
    ) -> tuple[str, list[Asked]]:
        """The Batch tab: pasted questions (one per line) as a table, and the answers for the CSV download."""
        retriever = self.retriever
        try:
            options = page_options(outlets, date_from, date_to, include_undated, rerank, collapse)
            results = ask_pasted(retriever, text, _k(k), **options)
        except QAError as error:
            return web.render_message(str(error)), []
        if audit:
            answers = [result.answer for result in results if result.answer is not None]
            self.desk.record(answers, "page", retriever, options, _k(k))
        return web.render_batch(results), results

    def article_html(self, request: Any) -> str:
        """The reader for a click: ``{"show": {"article", "start", "end", "hlStart", "hlEnd"}}`` ("show in
        article": the passage marked), ``{"open": article_id}`` (the Articles tab: the whole article) or
        ``{"open": article_id, "paragraph": n}`` (a wire copy: that paragraph marked)."""
        try:
            data = json.loads(request) if isinstance(request, str) else dict(request or {})
            if "open" in data:
                article = self.retriever.article(str(data["open"]))
                if "paragraph" not in data:
                    return web.render_article(article)
                spans = article.paragraph_spans()
                number = int(data["paragraph"])
                if not 1 <= number <= len(spans):
                    return web.render_message("That paragraph is not in this article.")
                return web.render_article(article, *spans[number - 1])
            data = data.get("show", data)
            article = self.retriever.article(str(data["article"]))
            start, end = int(data["start"]), int(data["end"])
            highlight = (int(data["hlStart"]), int(data["hlEnd"]))
        except (KeyError, TypeError, ValueError, AttributeError, json.JSONDecodeError):
            return web.render_message("That passage could not be opened.")
        except QAError as error:
            return web.render_message(error_line(error, self.retriever.index_dir))
        if not 0 <= start <= end <= len(article.text):
            return web.render_message("That passage is not in this article.")
        return web.render_article(article, start, end, highlight)

    # -- facts about the index -------------------------------------------------------------

    def search_kind(self) -> str:
        """How questions are matched, in the page's terms: "keywords", "meaning", or "self"."""
        retriever = self.retriever
        if retriever.mode == "lexical":
            return "keywords"
        model = retriever.manifest.model
        return "self" if model is not None and model.self_trained is not None else "meaning"

    def facts(self) -> web.IndexFacts:
        """What the index holds, from the catalog's arrays (no article is read)."""
        retriever = self.retriever
        catalog = retriever.catalog
        days = np.asarray(catalog.article_day)
        dated = days[days != NO_DAY]
        return web.IndexFacts(
            articles=len(days),
            passages=len(catalog.passages),
            outlets=len(catalog.outlets),
            without_outlet=int(np.count_nonzero(np.asarray(catalog.article_outlet) == NO_OUTLET)),
            first_date=_iso_day(int(dated.min())) if len(dated) else None,
            last_date=_iso_day(int(dated.max())) if len(dated) else None,
            undated=int(len(days) - len(dated)),
            search=self.search_kind(),
            built=_when(retriever.manifest.created_at),
        )

    def rerank_option(self) -> tuple[bool, str]:
        """Whether the rerank toggle can be used, and the line explaining it (plain words)."""
        if self.retriever.reranker_status().available:
            return True, RERANK_ON
        return False, RERANK_OFF

    def summary_html(self) -> str:
        """The results panel before any question: what is indexed and how it is searched."""
        return web.render_summary(self.facts(), bool(self.examples()))

    def status_html(self) -> str:
        return web.render_status(self.search_kind())

    def about_html(self) -> str:
        retriever = self.retriever
        manifest = retriever.manifest
        status = retriever.reranker_status()
        technical = [
            ("Index folder", str(retriever.index_dir.resolve())),
            ("Search mode", retriever.mode),
            ("Semantic model", manifest.semantic_layer() if retriever.mode != "lexical" else "none"),
        ]
        if retriever.semantic_off_reason:
            technical.append(("Why semantic search is off", retriever.semantic_off_reason))
        technical += [
            ("Cross-encoder for reranking", f"{status.model} ({status.detail})"),
            ("Index format", f"{manifest.format_version} (qa {manifest.qa_version})"),
        ]
        tip = SETUP_TIP if retriever.mode == "lexical" else None
        rerank = RERANK_ON if status.available else "not available on this computer (Technical details below say why)"
        about = web.render_about(self.facts(), rerank[0].upper() + rerank[1:], technical, tip)
        about += web.render_skipped(manifest.skipped())
        return about

    def articles_html(self, limit: int = ARTICLES_SHOWN) -> str:
        """The Articles tab: the ``limit`` most recent articles (by date, then id)."""
        retriever = self.retriever
        catalog = retriever.catalog
        days = np.asarray(catalog.article_day)
        ids = catalog.articles.ids()
        # Newest first; undated articles (NO_DAY, the smallest value) last.
        order = sorted(range(len(ids)), key=lambda row: (int(days[row]), ids[row]), reverse=True)[:limit]
        rows = set(order)
        counts = Counter(int(row) for row in np.asarray(catalog.passage_article) if int(row) in rows)
        articles = [catalog.articles.rows[row] for row in order]
        per_article = {ids[row]: counts.get(row, 0) for row in order}
        return web.render_articles(articles, per_article, total=len(ids))

    def outlets(self) -> list[str]:
        return self.retriever.outlets()

    def outlet_choices(self) -> list[str]:
        """The outlet filter's choices: every named outlet, and "Unknown outlet" when some articles name none."""
        choices = self.outlets()
        if np.any(np.asarray(self.retriever.catalog.article_outlet) == NO_OUTLET):
            choices.append(web.UNKNOWN_OUTLET)
        return choices

    def examples(self, limit: int = 6) -> list[str]:
        """The seed questions this index answers confidently (none for an unrelated corpus)."""
        if self._examples is None:
            found = []
            for question in SEED_EXAMPLES:
                answer = self.retriever.ask(question, 1)
                if answer.confident:
                    found.append(question)
            self._examples = found
        return self._examples[:limit]


def active_filters(
    outlets: list[str] | None, date_from: str | None, date_to: str | None, include_undated: bool = False
) -> list[web.Filter]:
    """The filters the page has set, as chips (each knows what clearing it resets)."""
    active = [web.Filter(f"Outlet: {name}", {"outlet": name}) for name in outlets or [] if name]
    if date_from:
        active.append(web.Filter(f"From {str(date_from)[:10]}", {"date_from": "1"}))
    if date_to:
        active.append(web.Filter(f"Until {str(date_to)[:10]}", {"date_to": "1"}))
    if include_undated and (date_from or date_to):
        active.append(web.Filter("With undated articles", {"undated": "1"}))
    return active


def page_options(
    outlets: list[str] | None,
    date_from: object,
    date_to: object,
    include_undated: bool,
    rerank: bool,
    collapse: bool,
) -> dict[str, Any]:
    """The page's options and filters as :meth:`Retriever.ask` takes them; a date field that cannot be
    read raises InvalidRequestError naming it."""
    return {
        "outlets": _outlet_values(outlets) or None,
        "date_from": page_date(date_from, "Published from"),
        "date_to": page_date(date_to, "Published until"),
        "include_undated": bool(include_undated),
        "rerank": bool(rerank),
        "collapse": bool(collapse),
    }


def page_date(value: object, field: str) -> str | None:
    """A date typed or picked in the page's field ``field``, as YYYY-MM-DD; anything else is an error
    naming the field (never a search without the filter)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_date(value, field).isoformat()  # type: ignore[union-attr]
    except InvalidRequestError:
        raise InvalidRequestError(
            f"{field}: {str(value)!r} is not a date. Write it as YYYY-MM-DD (e.g. 2019-05-31), or clear the field."
        ) from None


def clear_filter(
    request: dict[str, Any],
    outlets: list[str] | None,
    date_from: str | None,
    date_to: str | None,
    include_undated: bool = False,
) -> tuple[list[str], str | None, str | None, bool]:
    """The filters after a chip's × (or "Clear all") was pressed."""
    outlets = list(outlets or [])
    if "all" in request:
        return [], None, None, False
    if "outlet" in request:
        outlets = [name for name in outlets if name != request["outlet"]]
    if "date_from" in request:
        date_from = None
    if "date_to" in request:
        date_to = None
    if "undated" in request:
        include_undated = False
    return outlets, date_from, date_to, include_undated


def match_strengths(retriever: Retriever, answer: Answer) -> list[str]:
    """A plain relevance cue per hit: "strong" when the hit alone would make the answer confident,
    "partial" when it holds at least half that evidence, else "weak"."""
    rule = retriever.confidence_rule(answer.mode, rerank=answer.reranked)
    levels = []
    for hit in answer.hits:
        coverage, cosine = retriever.evidence(answer.searched_question, [hit])
        if rule.decide(coverage, cosine):
            levels.append("strong")
        elif coverage >= rule.min_coverage / 2:
            levels.append("partial")
        else:
            levels.append("weak")
    return levels


def _outlet_values(outlets: list[str] | None) -> list[str | None]:
    """The page's outlet choices as the retriever takes them ("Unknown outlet" means no outlet named)."""
    return [None if name == web.UNKNOWN_OUTLET else name for name in outlets or [] if name]


def _iso_day(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def _when(created_at: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(created_at)
    except ValueError:
        return created_at
    return moment.strftime("%Y-%m-%d %H:%M") + (" UTC" if moment.utcoffset() == dt.timedelta(0) else "")


def _stamp(index_dir: Path) -> tuple[int, int] | None:
    """Identity of the manifest file now in ``index_dir``; a swapped-in index has a new one."""
    try:
        status = os.stat(index_dir / MANIFEST_FILE)
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns


def _k(k: Any) -> int:
    try:
        value = int(k)  # the slider sends floats
    except (TypeError, ValueError, OverflowError):  # OverflowError: k = Infinity
        raise InvalidRequestError(f"k must be a whole number, not {k!r}.") from None
    if value > MAX_K:
        raise InvalidRequestError(f"k can be at most {MAX_K} here (got {value}).")
    return value
