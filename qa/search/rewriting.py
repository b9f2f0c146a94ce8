"""What is searched for a question: as asked, or with its misspelt words in the corpus's own spelling
(qa.search.spelling); a question that is clearly not English gets a note instead of corrections."""

from __future__ import annotations

from dataclasses import dataclass, field

from qa.index.catalog import Catalog
from qa.models.bundled import english_words
from qa.records import Correction
from qa.search.backend import NO_FILTERS, LexicalSearcher
from qa.search.language import ENGLISH_ONLY, looks_english, searches_english
from qa.search.spelling import Speller, correct_question, spelling_in

SPELLING_SAMPLE = 10  # passages read to learn how the corpus spells a corrected word


@dataclass
class Rewritten:
    """One question as it will be searched, the words replaced in it, and notes for the reader."""

    text: str
    corrections: list[Correction] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class QuestionRewriter:
    """Spelling corrections from one index's vocabulary; the speller is built on the first question needing it."""

    def __init__(self, lexical: LexicalSearcher, catalog: Catalog) -> None:
        self.lexical = lexical
        self.catalog = catalog
        self._speller: Speller | None = None
        self.english = searches_english(lexical.analyzer)

    def rewrite(self, question: str) -> Rewritten:
        if self.english and not looks_english(question):
            return Rewritten(question, notes=[ENGLISH_ONLY])  # and no spelling correction: its words are not typos
        text, corrections = correct_question(question, self.speller(), self._spelling_of)
        return Rewritten(text, corrections)

    def speller(self) -> Speller:
        if self._speller is None:
            dictionary = english_words() if self.english else frozenset()
            self._speller = Speller(self.lexical.vocabulary(), self.lexical.analyzer, dictionary)
        return self._speller

    def _spelling_of(self, term: str, typed: str) -> str | None:
        """How the corpus writes the word ``typed`` meant (analysed term ``term``): read from passages holding it."""
        found = self.lexical.search(term, SPELLING_SAMPLE, NO_FILTERS)
        texts = []
        for row in found.rows.tolist():
            texts += [self.catalog.passages[row].text, self.catalog.article_of(row).title or ""]
        return spelling_in(texts, term, self.lexical.analyzer, typed)
