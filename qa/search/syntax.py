"""Search syntax in a question: ``"exact phrase"`` must appear, ``-word`` (or ``NOT word``) must not.

    Pakistan traffickers "Federal Investigation Agency" -Beijing -"online recruitment"

* ``"exact phrase"`` (straight or curly quotes): every hit contains the phrase — its words in
  this order, any case, any spacing between them; ``'`` and ``’`` count as the same apostrophe.
  The phrase's words also rank, like the rest of the question.
* ``-word`` or ``-"a phrase"`` (the minus starting a word) and ``NOT word`` (capitals): no hit
  contains it, as a whole word, in any case. Excluded words do not rank.
* Everything else is the free-text question. A hyphen inside a word (``re-education``) and a
  quote left unclosed are plain text.

Phrases and exclusions are checked against the passage text (what a hit quotes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from qa.errors import EmptyQuestionError

_TOKEN = re.compile(
    r"""(?P<minus>(?:(?<=\s)|^)-)?[\"“”„](?P<phrase>[^\"“”„]*)[\"“”„]  # "phrase" or -"phrase"
      | (?:(?<=\s)|^)-(?P<word>[^\W\d_][\w'’-]*)                               # -word
      | (?:(?<=\s)|^)NOT\s+(?P<not>\w[\w'’-]*)                            # NOT word
    """,
    re.VERBOSE,
)
SYNTAX_HELP = (
    'Search syntax: "exact phrase" must appear in every passage; -word (or NOT word) leaves out '
    "passages containing that word; both combine with ordinary words."
)


def _pattern(words: str) -> re.Pattern[str]:
    """Whole words in order, any case and spacing; either apostrophe."""
    parts = [re.sub("['’]", lambda _: "['’]", re.escape(word)) for word in words.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)  # not slotted: the compiled patterns are cached on the instance
class Query:
    """A question split into what ranks (``text``), what every hit must contain and what none may."""

    text: str
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @property
    def restricts(self) -> bool:
        """Whether some passages are ruled out by their text (a phrase or an exclusion)."""
        return bool(self.phrases or self.excluded)

    @cached_property
    def _required(self) -> tuple[re.Pattern[str], ...]:
        return tuple(_pattern(phrase) for phrase in self.phrases)

    @cached_property
    def _forbidden(self) -> tuple[re.Pattern[str], ...]:
        return tuple(_pattern(words) for words in self.excluded)

    def admits(self, text: str) -> bool:
        """Whether a passage with this text may be a hit: every phrase in it, no excluded word."""
        return all(p.search(text) for p in self._required) and not any(p.search(text) for p in self._forbidden)

    def describe(self) -> str:
        """The restrictions in words, e.g. ``must contain "Federal Investigation Agency"; without "Beijing"``."""
        parts = []
        if self.phrases:
            parts.append("must contain " + ", ".join(f'"{phrase}"' for phrase in self.phrases))
        if self.excluded:
            parts.append("without " + ", ".join(f'"{words}"' for words in self.excluded))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, list[str]]:
        return {"phrases": list(self.phrases), "excluded": list(self.excluded)}


def parse_query(question: str) -> Query:
    """Split ``question`` (already cleaned of control characters) into a :class:`Query`.

    Raises EmptyQuestionError when nothing is left to rank (only exclusions, or empty phrases).
    """
    phrases: list[str] = []
    excluded: list[str] = []
    free: list[str] = []
    position = 0
    for match in _TOKEN.finditer(question):
        free.append(question[position : match.start()])
        position = match.end()
        if match.group("phrase") is not None:
            words = " ".join(match.group("phrase").split())
            if not words:
                continue
            if match.group("minus"):
                excluded.append(words)
            else:
                phrases.append(words)
                free.append(f" {words} ")
        else:
            excluded.append(match.group("word") or match.group("not"))
    free.append(question[position:])
    text = " ".join("".join(free).split())
    if not text:
        raise EmptyQuestionError(
            "Nothing to search for: the question has only excluded words. Add words or a phrase to look for."
        )
    return Query(text, tuple(dict.fromkeys(phrases)), tuple(dict.fromkeys(excluded)))
