"""Spelling: a question word the corpus has never seen, one or two edits from a word it has, is searched as that word.

"Gujranwla" finds nothing, since no passage holds it; "Gujranwala" is one deletion away and
the corpus has it, so the question is searched with "Gujranwala" and the answer says so. Only
words the corpus lacks are touched (a word it has is never "corrected", nor a common English
word such as "world": the default model's vocabulary lists about 21,000 of them), and only when the
typo is plausible: a word of at least 5 letters, no digits, one edit away (two when its stem has
8 letters or more, the first letter is right or the first two are swapped). Edits are optimal-string-alignment
edits (a swap of two neighbouring letters counts as one). Among candidates the fewest edits win,
then the word in most passages.

Matching is on analysed terms (lowercase Snowball stems, as the lexical index stores them); the
word shown to the reader is the corpus's own spelling of that term, read from a passage holding it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping

from qa.index.terms import Analyzer
from qa.records import Correction

MIN_LETTERS = 5  # shorter words are too often a different real word one edit away ("cat" → "car")
TWO_EDITS_FROM = 8  # letters from which two edits are allowed
ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_WORD = re.compile(r"(?u)\b\w\w+\b")


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance between ``a`` and ``b``, or ``limit + 1`` once it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            cost = 0 if char == other else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1] if previous[-1] <= limit else limit + 1


class Speller:
    """Suggestions from one index's vocabulary (analysed term → passages holding it).

    Two ways to a candidate, so that stemming cannot hide a typo: every one-edit variant of the
    typed word, analysed ("beijng" + "i" → "beijing" → term "beij"); and the terms within one or two
    edits of the typed word's own term ("gujranwla" → "gujranwala"), bucketed by first letter and length.
    """

    def __init__(
        self, vocabulary: Mapping[str, int], analyzer: Analyzer, dictionary: frozenset[str] = frozenset()
    ) -> None:
        self.vocabulary = vocabulary
        self.analyzer = analyzer
        self.dictionary = dictionary  # real words, never corrected even when the corpus lacks them
        self._buckets: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
        for term, count in vocabulary.items():
            if len(term) >= MIN_LETTERS - 1 and term.isalpha():  # a 5-letter word is one edit from a 4-letter one
                self._buckets[term[0], len(term)].append((term, count))

    def suggest(self, word: str) -> str | None:
        """The corpus term ``word`` was most likely meant to be, or None (known, too short, or nothing close)."""
        word = word.lower()
        if len(word) < MIN_LETTERS or not word.isalpha() or word in self.dictionary:
            return None
        terms = self.analyzer.terms(word)
        if len(terms) != 1 or terms[0] in self.vocabulary:
            return None
        term = terms[0]
        found = [(1, -self.vocabulary[meant], meant) for meant in self._one_edit_terms(word)]
        limit = 2 if len(term) >= TWO_EDITS_FROM else 1  # the stem's length: a short stem is easily another word
        for first in {term[0], term[1]}:  # the first letter, or the second when the first two were swapped
            for length in range(len(term) - limit, len(term) + limit + 1):
                for candidate, count in self._buckets.get((first, length), ()):
                    if first != term[0] and candidate[:2] != term[1::-1]:
                        continue
                    edits = edit_distance(term, candidate, limit)
                    if edits <= limit:
                        found.append((edits, -count, candidate))
        return min(found)[2] if found else None

    def _one_edit_terms(self, word: str) -> set[str]:
        """Vocabulary terms of the words one deletion, swap, replacement or insertion away from ``word``."""
        letters = set(ALPHABET) | set(word)
        splits = [(word[:cut], word[cut:]) for cut in range(len(word) + 1)]
        variants = {a + b[1:] for a, b in splits if b}
        variants |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        variants |= {a + letter + b[1:] for a, b in splits if b for letter in letters}
        variants |= {a + letter + b for a, b in splits for letter in letters}
        variants.discard(word)
        found = set()
        for variant in variants:
            terms = self.analyzer.terms(variant)
            if len(terms) == 1 and terms[0] in self.vocabulary:
                found.add(terms[0])
        return found


def correct_question(
    question: str, speller: Speller, spelling_of: Callable[[str, str], str | None]
) -> tuple[str, list[Correction]]:
    """``question`` with each unknown word that has a close corpus term replaced by the corpus's
    spelling of it (``spelling_of(term, typed word)``), and the corrections made."""
    corrections: list[Correction] = []
    pieces: list[str] = []
    cursor = 0
    for match in _WORD.finditer(question):
        word = match.group()
        meant = speller.suggest(word)
        spelled = spelling_of(meant, word) if meant is not None else None
        if spelled is None or spelled.lower() == word.lower():
            continue
        pieces += [question[cursor : match.start()], spelled]
        cursor = match.end()
        corrections.append(Correction(word, spelled))
    if not corrections:
        return question, []
    return "".join(pieces) + question[cursor:], corrections


def spelling_in(texts: list[str], term: str, analyzer: Analyzer, typed: str = "") -> str | None:
    """How ``texts`` spell the word ``typed`` was meant to be (a word whose analysed term is ``term``): of
    their spellings, the closest to ``typed``, then the most frequent; capitalised like ``typed``."""
    counts: dict[str, int] = defaultdict(int)
    for text in texts:
        for word in _WORD.findall(text):
            if analyzer.terms(word) == [term]:
                counts[word] += 1
    if not counts:
        return None
    typed_lower = typed.lower()
    limit = max(len(typed), *(len(word) for word in counts))

    def rank(item: tuple[str, int]) -> tuple[int, int, bool, str]:
        word, count = item
        return edit_distance(typed_lower, word.lower(), limit), -count, not word.islower(), word

    best = min(counts.items(), key=rank)[0]
    if typed[:1].isupper() and best.islower():
        best = best[0].upper() + best[1:]
    return best
