"""Cutting an article's paragraphs into passages that fit the encoder, keeping exact spans."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator

from qa.ingest.sentences import sentence_spans
from qa.records import Article, Passage

TokenCounter = Callable[[str], int]
DEFAULT_MAX_TOKENS = 510  # a 512-token encoder window minus its two special tokens
_WORD = re.compile(r"\S+")


def estimate_tokens(text: str) -> int:
    """Without a tokenizer: about four subword tokens for every three English words."""
    return math.ceil(len(text.split()) * 4 / 3)


def _units(text: str, start: int, end: int, count: TokenCounter, budget: int) -> Iterator[tuple[int, int, int]]:
    """Sentences of text[start:end] with their token counts; a sentence over budget comes as words."""
    for a, b in sentence_spans(text[start:end]):
        a, b = start + a, start + b
        tokens = count(text[a:b])
        if tokens <= budget:
            yield a, b, tokens
        else:
            for word in _WORD.finditer(text, a, b):
                yield word.start(), word.end(), count(word.group())


def _pack(units: Iterator[tuple[int, int, int]], budget: int) -> Iterator[tuple[int, int]]:
    """Greedy: consecutive units share a piece while their token counts add up to the budget.

    Counts add up because the tokenizers we use split on whitespace before subwords; a lone
    unit over budget (one giant "word") stands alone and the encoder truncates it.
    """
    piece: list[int] | None = None  # [start, end, tokens]
    for start, end, tokens in units:
        if piece is not None and piece[2] + tokens <= budget:
            piece[1], piece[2] = end, piece[2] + tokens
            continue
        if piece is not None:
            yield piece[0], piece[1]
        piece = [start, end, tokens]
    if piece is not None:
        yield piece[0], piece[1]


def split_passages(
    article: Article,
    count_tokens: TokenCounter = estimate_tokens,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    prefix: str = "",
) -> list[Passage]:
    """One passage per paragraph, numbered ¶1..n in reading order.

    ``count_tokens`` counts content tokens (no special tokens) and ``max_tokens`` is the room
    the encoder has for them. ``prefix`` is what the encoder sees before every passage of this
    article (its title); a paragraph that does not fit is split at sentence boundaries and its
    parts keep the paragraph's number. In a paged document each passage records its first
    and last page.
    """
    text = article.text
    budget = max(1, max_tokens - (count_tokens(prefix) if prefix else 0))
    passages = []
    for number, (start, end) in enumerate(article.paragraph_spans(), start=1):
        if count_tokens(text[start:end]) <= budget:
            pieces: Iterator[tuple[int, int]] | list[tuple[int, int]] = [(start, end)]
        else:
            pieces = _pack(_units(text, start, end, count_tokens, budget), budget)
        for piece_start, piece_end in pieces:
            passages.append(_passage(article, number, piece_start, piece_end))
    return passages


def _passage(article: Article, paragraph: int, start: int, end: int) -> Passage:
    """The passage text[start:end], with the pages it spans and whether any of them was OCR'd."""
    page, page_end = article.page_at(start), article.page_at(max(start, end - 1))
    ocr = page is not None and page_end is not None and any(page <= p <= page_end for p in article.ocr_pages)
    return Passage(article.id, paragraph, start, end, article.text[start:end], page, page_end, ocr)
