"""Answers as files to keep: CSV (one row per hit), Markdown (a readable report) and JSON lines.

The CLI (`qa ask --format`, `--batch`) and the page's downloads write through these functions,
so a row means the same thing wherever it was made. Every export carries the full citation
(:attr:`qa.records.Hit.full_citation`): outlet, full title, author, date, URL, page and ¶, and
the quoted sentence.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qa.records import Answer, Hit

FORMATS = ("text", "json", "csv", "markdown")
CSV_COLUMNS = (
    "id",
    "question",
    "confident",
    "rank",
    "citation",
    "quote",
    "highlight",
    "outlet",
    "title",
    "author",
    "date",
    "url",
    "path",
    "article_id",
    "paragraph",
    "page",
    "char_start",
    "char_end",
    "score",
    "also_in",
    "error",
)
# How a report (made by the CLI or downloaded from the page) says to search the undated articles left out.
UNDATED_REMEDY = "Search undated articles too with --include-undated (on the page: Include undated articles)."
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")


@dataclass(frozen=True, slots=True)
class Asked:
    """One question as asked (with the id a batch file gave it) and its answer, or the error it got."""

    question: str | None  # None: a batch line without one
    answer: Answer | None = None
    error: str | None = None
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object for this question: the answer's (or the error), with the id first when there is one."""
        head = {"id": self.id} if self.id is not None else {}
        if self.answer is None:
            return {**head, "question": self.question, "error": self.error}
        return {**head, **self.answer.to_dict()}


def hit_row(hit: Hit) -> dict[str, Any]:
    """The CSV columns one hit fills (``quote`` is the passage, ``highlight`` its answering sentence)."""
    article, passage = hit.article, hit.passage
    return {
        "rank": hit.rank,
        "citation": hit.full_citation,
        "quote": passage.text,
        "highlight": hit.highlighted_text,
        "outlet": article.outlet or "",
        "title": article.title or "",
        "author": article.author or "",
        "date": article.date or "",
        "url": article.url or "",
        "path": article.path,
        "article_id": article.id,
        "paragraph": passage.paragraph,
        "page": _pages(passage.page, passage.page_end),
        "char_start": passage.char_start,
        "char_end": passage.char_end,
        "score": round(hit.score, 6),
        "also_in": "; ".join(copy.citation for copy in hit.also_in),
    }


def _pages(page: int | None, page_end: int | None) -> str:
    """``12``, ``12–13`` for a passage running onto later pages, empty without pages."""
    if page is None:
        return ""
    return f"{page}–{page_end}" if page_end is not None and page_end != page else str(page)


def to_csv(asked: Iterable[Asked], hits: Sequence[int] | None = None) -> str:
    """A header, then a row per hit (only ranks in ``hits``, when given), each saying whether the corpus
    seems to answer its question (``confident``: yes or no); a question without hits is one row with no
    rank, and a failed question a row with its error."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for item in asked:
        head = {"id": item.id or "", "question": item.question or ""}
        if item.answer is None:
            writer.writerow({**head, "error": item.error or ""})
            continue
        head["confident"] = "yes" if item.answer.confident else "no"
        if not item.answer.hits:
            writer.writerow(head)
        for hit in _picked(item.answer, hits):
            writer.writerow({**head, **hit_row(hit)})
    return buffer.getvalue()


def undated_note(count: int) -> str:
    """What a date filter left out only for having no date (the page, the text and the report say it alike)."""
    passages = f"{count:,} passage{'' if count == 1 else 's'} that {'shares' if count == 1 else 'share'}"
    return f"The date filter left out {passages} words with your question but whose article has no date."


def to_json_lines(asked: Iterable[Asked]) -> str:
    """One JSON object per question (what `qa ask --json` prints), one per line."""
    return "".join(json.dumps(item.to_dict(), ensure_ascii=False) + "\n" for item in asked)


def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _md_quote(hit: Hit) -> str:
    """The passage as a Markdown block quote, its answering sentence in bold."""
    start, end = hit.highlight
    text = hit.passage.text
    marked = f"{_md(text[:start])}**{_md(text[start:end].strip())}**{_md(text[end:])}"
    return "\n".join(f"> {line}".rstrip() for line in marked.split("\n"))


def to_markdown(asked: Iterable[Asked], hits: Sequence[int] | None = None) -> str:
    """A report: per question a heading, then each hit's full citation and its passage quoted."""
    from qa.settings import NO_HITS, NOT_CONFIDENT

    sections = []
    for item in asked:
        label = f" ({_md(item.id)})" if item.id else ""
        blocks = [f"## {_md(item.question or '(no question)')}{label}"]
        answer = item.answer
        if answer is None:
            blocks.append(f"**Error:** {_md(item.error or '')}")
        else:
            if answer.undated_excluded:
                blocks.append(f"_{_md(undated_note(answer.undated_excluded))} {_md(UNDATED_REMEDY)}_")
            if not answer.hits:
                blocks.append(f"_{_md(NO_HITS)}_")
            elif not answer.confident:
                blocks.append(f"_{_md(NOT_CONFIDENT)}_")
            for hit in _picked(answer, hits):
                blocks += [f"{hit.rank}. {_md(hit.full_citation)}", _md_quote(hit)]
                if hit.also_in:
                    blocks.append("Also ran in:\n\n" + "\n".join(f"- {_md(copy.citation)}" for copy in hit.also_in))
        sections.append("\n\n".join(blocks) + "\n")
    return "\n".join(sections)


def _picked(answer: Answer, ranks: Sequence[int] | None) -> list[Hit]:
    if ranks is None:
        return list(answer.hits)
    wanted = set(ranks)
    return [hit for hit in answer.hits if hit.rank in wanted]
