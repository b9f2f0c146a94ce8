"""The typed values that flow through the package: Article, Passage, Hit, Answer, Skip."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CITATION_TITLE_CHARS = 70


@dataclass(frozen=True, slots=True)
class Article:
    """A corpus document after cleaning: metadata plus the text passages are cut from.

    ``text`` is the cleaned article: paragraphs joined by a blank line. Every passage's
    character span points into it, so a citation can always be checked against it.
    """

    id: str
    path: str
    text: str
    title: str | None = None
    outlet: str | None = None
    author: str | None = None
    date: str | None = None
    url: str | None = None
    language: str | None = None

    def metadata(self) -> dict[str, str | None]:
        """Everything but the text, in the shape of the JSON output's ``article`` object."""
        return {
            "id": self.id,
            "title": self.title,
            "outlet": self.outlet,
            "author": self.author,
            "date": self.date,
            "url": self.url,
            "path": self.path,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def cite(self, paragraph: int) -> str:
        """A human-readable pointer: ``Outlet — "Title", Author, 2019-05-11, ¶4``.

        Unknown fields are left out rather than guessed; an untitled article is named by its id.
        """
        title = self.title or ""
        if len(title) > CITATION_TITLE_CHARS:
            title = title[: CITATION_TITLE_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
        named = f'"{title}"' if title else f"[{self.id}]"
        parts = [named, *(value for value in (self.author, self.date) if value), f"¶{paragraph}"]
        lead = f"{self.outlet} — " if self.outlet else ""
        return lead + ", ".join(parts)

    def paragraph_spans(self) -> list[tuple[int, int]]:
        """Character spans of the cleaned text's paragraphs, in reading order (¶1 first)."""
        spans, start = [], 0
        for block in self.text.split("\n\n"):
            spans.append((start, start + len(block)))
            start += len(block) + 2
        return spans


@dataclass(frozen=True, slots=True)
class Passage:
    """The unit we index and cite: a paragraph, or a sentence-aligned part of a long one."""

    article_id: str
    paragraph: int
    char_start: int
    char_end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage returned for a question, with its rank, scores and highlighted sentence.

    ``score`` is the score that ranked it (fused in hybrid mode); ``scores`` holds each
    method's own score. ``highlight`` is a (start, end) span relative to ``passage.text``.
    """

    rank: int
    score: float
    scores: dict[str, float]
    passage: Passage
    article: Article
    highlight: tuple[int, int]

    @property
    def citation(self) -> str:
        return self.article.cite(self.passage.paragraph)

    @property
    def highlighted_text(self) -> str:
        start, end = self.highlight
        return self.passage.text[start:end]

    def to_dict(self) -> dict[str, Any]:
        start, end = self.highlight
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "scores": {name: round(value, 6) for name, value in self.scores.items()},
            "article": self.article.metadata(),
            "paragraph": self.passage.paragraph,
            "char_start": self.passage.char_start,
            "char_end": self.passage.char_end,
            "text": self.passage.text,
            "highlight": {"char_start": start, "char_end": end},
            "citation": self.citation,
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """The hits for one question, and whether the corpus plausibly answers it at all."""

    question: str
    mode: str
    hits: list[Hit]
    confident: bool
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "confident": self.confident,
            "mode": self.mode,
            "hits": [hit.to_dict() for hit in self.hits],
        }


@dataclass(frozen=True, slots=True)
class Skip:
    """A corpus file (or a line of one) that was not indexed, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"
