"""Whether a question looks English: the index's stemmer, stopwords and (usually) its model are English,
so a question in another language finds little, and the reader should be told why.

A question is taken as not English when most of its letters are outside the Latin alphabet
(Arabic, Urdu, Chinese, Cyrillic …), or when it has at least two common function words of
French, Spanish, Portuguese, Italian, German or Dutch and more of those than English ones.
Short or ambiguous questions count as English: the hint is only for clear cases.
"""

from __future__ import annotations

import re

from qa.index.terms import Analyzer

ENGLISH_ONLY = (
    "This question does not seem to be in English. The articles are searched in English, "
    "so ask in English to find them."
)
_WORD = re.compile(r"(?u)[^\W\d_]+")
_LATIN_END = 0x024F  # Basic Latin through Latin Extended-B
# Frequent function words of other Latin-script languages that are not English words.
FOREIGN_WORDS = frozenset(
    """que le la les des du une est sont qui quoi pourquoi comment avec dans pour sur pas ont été aux
    el los las del una por para con qué cómo cuándo dónde quién por qué está están fue fueron
    não uma são foi com pelo pela os quem como onde porque
    il gli della delle che chi sono perché dove quando
    der die das den dem und ist sind nicht mit wie warum wer wurde wurden ein eine einer
    het een niet wat wie waarom zijn werd""".split()
)
ENGLISH_WORDS = frozenset(
    """the a an of to in and is are was were what who why how when where which did does do has have had
    for with on by from that this these those it its be been""".split()
)


def looks_english(question: str) -> bool:
    """False only when ``question`` is clearly in another language (see the module docstring)."""
    letters = [char for char in question if char.isalpha()]
    if not letters:
        return True
    if sum(ord(char) > _LATIN_END for char in letters) > len(letters) / 2:
        return False
    words = [word.lower() for word in _WORD.findall(question)]
    foreign = sum(word in FOREIGN_WORDS for word in words)
    english = sum(word in ENGLISH_WORDS for word in words)
    return foreign < 2 or foreign <= english


def searches_english(analyzer: Analyzer) -> bool:
    """Whether an index analyses text as English (its stemmer), so that the hint applies to it."""
    return analyzer.stemmer in (None, "english", "porter") and analyzer.stopwords.startswith("en")
