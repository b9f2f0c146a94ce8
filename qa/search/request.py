"""Checking what a caller asked for: questions, k, mode and filters become one :class:`SearchRequest`.

Everything a caller can get wrong is refused here with an InvalidRequestError (or an
EmptyQuestionError) that names the value, before any index is searched.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict, cast

import numpy as np

from qa.errors import EmptyQuestionError, InvalidRequestError
from qa.search.backend import NO_FILTERS, Filters
from qa.search.syntax import Query, parse_query
from qa.settings import MODES, Mode

MAX_QUESTION_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class SearchOptions(TypedDict, total=False):
    """What a caller may set besides the question and ``k`` (see :meth:`qa.Retriever.ask_many`)."""

    outlets: Iterable[str | None] | str | None
    date_from: object
    date_to: object
    include_undated: bool
    mode: str | None
    rerank: bool
    collapse: bool
    syntax: bool


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """Questions as they will be searched, with checked settings.

    :meth:`query` reads a question's search syntax: the words that rank, the phrases every hit
    must contain and the words none may (qa.search.syntax); with ``syntax`` False the question is
    searched as written (an evaluation set's quotation marks are not phrase searches). With
    ``collapse`` only the best of each group of wire copies is kept.
    """

    questions: tuple[str, ...]
    k: int
    mode: Mode
    rerank: bool = False
    filters: Filters = NO_FILTERS
    warnings: tuple[tuple[str, ...], ...] = ()  # per question: what cleaning changed
    collapse: bool = False
    syntax: bool = True

    def query(self, number: int) -> Query:
        """Question ``number`` as searched: its ranking words, phrases and excluded words."""
        return parse_query(self.questions[number]) if self.syntax else Query(self.questions[number])


def check_request(
    questions: Sequence[object],
    k: object,
    mode: object = None,
    *,
    rerank: bool = False,
    outlets: Iterable[str | None] | str | None = None,
    date_from: object = None,
    date_to: object = None,
    include_undated: bool = False,
    collapse: bool = False,
    syntax: bool = True,
    index_mode: Mode,
    semantic_off_reason: str | None = None,
    known_outlets: Sequence[str] = (),
) -> SearchRequest:
    """A request for an index that searches in ``index_mode`` (its best mode) and names ``known_outlets``.

    ``mode`` None means ``index_mode``; dates are ISO strings, dates, datetimes or timestamps.
    A question with only excluded words raises EmptyQuestionError.
    """
    cleaned = [clean_question(question) for question in questions]
    for text, _ in cleaned:
        parse_query(text)  # a question of only excluded words is refused here
    return SearchRequest(
        questions=tuple(text for text, _ in cleaned),
        k=check_k(k),
        mode=check_mode(mode, index_mode, semantic_off_reason),
        rerank=bool(rerank),
        filters=check_filters(outlets, date_from, date_to, known_outlets, include_undated),
        warnings=tuple(tuple(warnings) for _, warnings in cleaned),
        collapse=bool(collapse),
        syntax=bool(syntax),
    )


def clean_question(question: object) -> tuple[str, list[str]]:
    """The question as searched, and warnings about what was changed. Blank raises."""
    if not isinstance(question, str):
        raise InvalidRequestError(f"The question must be text, not {type(question).__name__}.")
    text = " ".join(_CONTROL.sub(" ", question).split())
    if not text:
        raise EmptyQuestionError("The question is empty. Type a question about the articles.")
    warnings = []
    if len(text) > MAX_QUESTION_CHARS:
        text = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0] or text[:MAX_QUESTION_CHARS]
        warnings.append(f"The question was longer than {MAX_QUESTION_CHARS:,} characters; only its start was used.")
    return text, warnings


def check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InvalidRequestError(f"k must be a whole number, not {k!r}.")
    if k < 1:
        raise InvalidRequestError(f"k must be at least 1 (got {k}).")
    return int(k)


def check_mode(mode: object, index_mode: Mode, semantic_off_reason: str | None = None) -> Mode:
    """``mode`` if the index can search that way (None: the index's own mode)."""
    if mode is None:
        return index_mode
    if mode not in MODES:
        raise InvalidRequestError(f"Unknown mode {mode!r}; use one of {', '.join(MODES)}.")
    if mode != "lexical" and index_mode == "lexical":
        raise InvalidRequestError(
            f"Mode {mode!r} needs semantic search, which is off for this index: {semantic_off_reason}"
        )
    return cast(Mode, mode)


def check_filters(
    outlets: Iterable[str | None] | str | None,
    date_from: object,
    date_to: object,
    known_outlets: Sequence[str],
    include_undated: bool = False,
) -> Filters:
    """Filters from a caller's values; an outlet the index does not name, or a reversed range, is refused."""
    wanted = resolve_outlets(outlets, known_outlets)
    start, end = parse_date(date_from, "date_from"), parse_date(date_to, "date_to")
    if not wanted and start is None and end is None:
        return NO_FILTERS
    if start and end and start > end:
        raise InvalidRequestError(f"date_from {start} is after date_to {end}; swap them.")
    return Filters(wanted, start, end, bool(include_undated))


def resolve_outlets(outlets: Iterable[str | None] | str | None, known_outlets: Sequence[str]) -> tuple[str | None, ...]:
    """The index's own spelling of each outlet asked for (matched ignoring case); ``None`` stands for
    articles that name no outlet. Raises InvalidRequestError for an outlet the index does not have."""
    if isinstance(outlets, str):  # one outlet given as a plain string
        outlets = [outlets]
    by_case = {name.casefold(): name for name in known_outlets}
    resolved: list[str | None] = []
    for outlet in outlets or []:
        if outlet is None:
            resolved.append(None)
            continue
        if not outlet.strip():
            continue
        name = by_case.get(outlet.strip().casefold())
        if name is None:
            listing = ", ".join(sorted(by_case.values())) or "none are named in this corpus"
            raise InvalidRequestError(f"No articles from outlet {outlet!r}. Known outlets: {listing}.")
        resolved.append(name)
    return tuple(dict.fromkeys(resolved))


def parse_date(value: object, name: str) -> dt.date | None:
    """A day from an ISO string, a date, a datetime or a timestamp (as date pickers send); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)):
        try:
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            raise InvalidRequestError(f"{name} {value!r} is not a date.") from None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise InvalidRequestError(f"{name} {value!r} is not a date; write it as YYYY-MM-DD.") from None
