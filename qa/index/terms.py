"""Text to index terms for lexical search: lowercase words, stopwords out, Snowball stems."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

_WORD = re.compile(r"(?u)\b\w\w+\b")
STOPWORD_LISTS = ("en", "en_plus", "none")


@dataclass(frozen=True)
class Analyzer:
    """The one tokenisation used for passages, questions and highlight scoring alike."""

    stopwords: str = "en_plus"
    stemmer: str | None = "english"
    _cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def _stopword_set(self) -> frozenset[str]:
        if self.stopwords == "none":
            return frozenset()
        from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_EN_PLUS

        return frozenset(STOPWORDS_EN_PLUS if self.stopwords == "en_plus" else STOPWORDS_EN)

    @cached_property
    def _stem_word(self):  # type: ignore[no-untyped-def]
        if not self.stemmer:
            return None
        import Stemmer

        return Stemmer.Stemmer(self.stemmer).stemWord

    def terms(self, text: str) -> list[str]:
        stop, stem, cache = self._stopword_set, self._stem_word, self._cache
        result = []
        for word in _WORD.findall(text.lower()):
            if word in stop:
                continue
            if stem is not None:
                stemmed = cache.get(word)
                if stemmed is None:
                    stemmed = cache[word] = stem(word)
                word = stemmed
            result.append(word)
        return result

    def to_dict(self) -> dict[str, str | None]:
        return {"stopwords": self.stopwords, "stemmer": self.stemmer}
