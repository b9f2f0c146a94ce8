"""The typed values that flow through the package: Article, Passage, Hit, Answer, Skip."""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from qa.settings import Mode


def page_label(page: int | None, page_end: int | None = None) -> str | None:
    """``p. 12``, or ``pp. 12–13`` for a passage that runs onto later pages; None without pages."""
    if page is None:
        return None
    if page_end is not None and page_end != page:
        return f"pp. {page}–{page_end}"
    return f"p. {page}"


_YEAR = re.compile(r"(?:19|20)\d\d")
_DAY = re.compile(r"(?:19|20)\d{6}")  # 20190511


def readable_name(article_id: str, outlet: str | None = None) -> str:
    """A name for an untitled article, made from its id (which comes from its file name).

    ``shafaqna-2024-01-01-human-trafficking-glaring-failure-of-the-state`` from Shafaqna Pakistan
    reads "Human trafficking glaring failure of the state": folders, a leading date and leading
    words of the outlet's name are dropped, hyphens become spaces. A line of a JSON-lines file
    (``wires/feed/3``) reads "Feed, item 3".
    """
    parts = [part for part in article_id.split("/") if part]
    if not parts:
        return "Untitled article"
    last = parts[-1]
    if last.isdigit():
        return f"{readable_name('/'.join(parts[:-1]), outlet)}, item {last}" if len(parts) > 1 else f"Item {last}"
    words = [word for word in re.split(r"[-_.\s]+", last) if word]
    outlet_words = {word.lower() for word in re.findall(r"\w+", outlet or "")}
    while len(words) > 1:
        if words[0].lower() in outlet_words or _DAY.fullmatch(words[0]):
            words.pop(0)
        elif _YEAR.fullmatch(words[0]):
            words.pop(0)
            while len(words) > 1 and len(words[0]) <= 2 and words[0].isdigit():  # month, day
                words.pop(0)
        else:
            break
    if not words:
        return "Untitled article"
    text = " ".join(words)
    return text[0].upper() + text[1:]


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
    # Paged documents (PDF): (offset in text, page number) where each page's text starts, and
    # the pages whose text was read by OCR. An e-mail attachment names its message's id.
    pages: tuple[tuple[int, int], ...] | None = None
    ocr_pages: tuple[int, ...] = ()
    attached_to: str | None = None

    def __post_init__(self) -> None:
        if self.pages is not None and not isinstance(self.pages, tuple):  # read back from JSON as lists
            object.__setattr__(self, "pages", tuple((int(offset), int(page)) for offset, page in self.pages))
        if not isinstance(self.ocr_pages, tuple):
            object.__setattr__(self, "ocr_pages", tuple(self.ocr_pages))

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
        data = asdict(self)
        for name in ("pages", "ocr_pages", "attached_to"):  # stored only where there are some
            if not data[name]:
                del data[name]
        return data

    @property
    def name(self) -> str:
        """The title, or for an untitled article a readable name made from its id (see :func:`readable_name`)."""
        return self.title or readable_name(self.id, self.outlet)

    def page_at(self, offset: int) -> int | None:
        """The page the character at ``offset`` of the text is on (None for an article without pages)."""
        if not self.pages:
            return None
        row = bisect.bisect_right(self.pages, (offset, float("inf"))) - 1
        return self.pages[max(row, 0)][1]

    def cite(self, paragraph: int, page: int | None = None, page_end: int | None = None) -> str:
        """A human-readable pointer: ``Outlet — "Full Title", Author, 2019-05-11, p. 12, ¶4``.

        Unknown fields are left out rather than guessed; the title is never shortened; an
        untitled article is named by :attr:`name` and marked ``(untitled)``.
        """
        named = f'"{self.title}"' if self.title else f"{self.name} (untitled)"
        located = (self.author, self.date, page_label(page, page_end))
        parts = [named, *(value for value in located if value), f"¶{paragraph}"]
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
    page: int | None = None  # the page it starts on, in a paged document (PDF)
    page_end: int | None = None  # the page it ends on
    ocr: bool = False  # its text was read from a scan by OCR and may hold misread words

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("page", "page_end", "ocr"):  # stored only where there is one
            if not data[name]:
                del data[name]
        return data

    @property
    def sha256(self) -> str:
        """sha256 of the text as UTF-8: how audit lines and relevance marks pin the exact words quoted."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Copy:
    """Where else a hit's passage ran: a near-identical passage of another article (a wire copy)."""

    article_id: str
    outlet: str | None
    title: str | None
    date: str | None
    paragraph: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def citation(self) -> str:
        """Where the copy ran: ``Outlet — "Full Title", 2024-03-05, ¶4`` (an undated copy says ``undated``)."""
        named = f'"{self.title}"' if self.title else f"{readable_name(self.article_id, self.outlet)} (untitled)"
        lead = f"{self.outlet} — " if self.outlet else ""
        return f"{lead}{named}, {self.date or 'undated'}, ¶{self.paragraph}"


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage returned for a question, with its rank, scores and highlighted sentence.

    ``score`` is the score that ranked it (fused in hybrid mode); ``scores`` holds each
    method's own score. ``highlight`` is a (start, end) span relative to ``passage.text``.
    ``also_in`` lists the other articles that ran this passage (wire copies), earliest first.
    """

    rank: int
    score: float
    scores: dict[str, float]
    passage: Passage
    article: Article
    highlight: tuple[int, int]
    also_in: tuple[Copy, ...] = ()

    @property
    def earliest(self) -> Copy | None:
        """The earliest-dated of this passage and its copies (None when none of them is dated)."""
        own = Copy(self.article.id, self.article.outlet, self.article.title, self.article.date, self.passage.paragraph)
        dated = [copy for copy in (own, *self.also_in) if copy.date]
        return min(dated, key=lambda copy: (copy.date or "", copy.article_id)) if dated else None

    @property
    def citation(self) -> str:
        """Where the passage is: ``Outlet — "Full Title", Author, Date, p. 12, ¶4``."""
        return self.article.cite(self.passage.paragraph, self.passage.page, self.passage.page_end)

    @property
    def highlighted_text(self) -> str:
        start, end = self.highlight
        return self.passage.text[start:end]

    @property
    def full_citation(self) -> str:
        """The reference to paste: the citation, the URL when known, and the quoted sentence.

        ``Outlet — "Full Title", Author, 2019-05-11, ¶4, https://…: “The answering sentence.”``
        """
        url = f", {self.article.url}" if self.article.url else ""
        return f"{self.citation}{url}: “{' '.join(self.highlighted_text.split())}”"

    def to_dict(self) -> dict[str, Any]:
        start, end = self.highlight
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "scores": {name: round(value, 6) for name, value in self.scores.items()},
            "article": self.article.metadata(),
            "paragraph": self.passage.paragraph,
            "page": self.passage.page,
            "page_end": self.passage.page_end,
            "ocr": self.passage.ocr,
            "char_start": self.passage.char_start,
            "char_end": self.passage.char_end,
            "text": self.passage.text,
            "highlight": {"char_start": start, "char_end": end},
            "citation": self.citation,
            "full_citation": self.full_citation,
            "also_in": [copy.to_dict() for copy in self.also_in],
        }


@dataclass(frozen=True, slots=True)
class Correction:
    """A question word the corpus lacks, as typed, and the corpus word it was searched as (spelling)."""

    typed: str
    searched: str

    def to_dict(self) -> dict[str, str]:
        return {"typed": self.typed, "searched": self.searched}


@dataclass(frozen=True, slots=True)
class Answer:
    """The hits for one question, and whether the corpus plausibly answers it at all.

    ``question`` is the question as asked; when ``corrections`` is not empty it was searched with
    those words replaced (see qa.search.spelling). ``undated_excluded`` counts the passages sharing
    words with the question that a date filter left out only because their article has no date (0
    without a date filter, or when undated articles were included).
    """

    question: str
    mode: Mode  # how the candidates were ranked ...
    hits: list[Hit]
    confident: bool
    warnings: list[str] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    searched: str | None = None  # the question with the corrections applied (None: searched as asked)
    reranked: bool = False  # whether the cross-encoder reordered the hits ranked in ``mode``
    undated_excluded: int = 0

    @property
    def searched_question(self) -> str:
        """The text the hits were ranked, highlighted and judged for."""
        return self.searched if self.searched is not None else self.question

    @property
    def label(self) -> str:
        """The mode as people and the JSON output name it: ``hybrid``, or ``hybrid+rerank`` when reranked."""
        return f"{self.mode}+rerank" if self.reranked else self.mode

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "confident": self.confident,
            "mode": self.label,
            "undated_excluded": self.undated_excluded,
            "hits": [hit.to_dict() for hit in self.hits],
        }
        if self.corrections:  # only when a word was replaced, so other answers keep their shape
            data["corrections"] = [correction.to_dict() for correction in self.corrections]
        return data


@dataclass(frozen=True, slots=True)
class Skip:
    """A corpus file (or a line of one) that was not indexed, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}
