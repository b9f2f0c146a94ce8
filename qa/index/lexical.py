"""The BM25 index (bm25s): passage text in, one score per passage out.

A passage is scored on up to three fields, each its own bm25s index:

* ``passage`` — the article title (twice: a crude field weight) and the passage text (always);
* ``sentence`` — each sentence on its own, with the article title as its context; a passage
  gets the best score of its sentences, so one sentence that answers the question counts even
  inside a long paragraph;
* ``bigram`` — adjacent term pairs, rewarding the question's phrases kept intact.

score = passage + sentence_weight · max(sentence) + bigram_weight · bigram
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import IndexFormatError, InvalidRequestError
from qa.index.postings import FieldWriter
from qa.index.terms import Analyzer
from qa.ingest.sentences import sentence_spans

LEXICAL_DIR = "lexical"
SENTENCE_OFFSETS_FILE = "sentence_offsets.npy"


@dataclass(frozen=True)
class LexicalSettings:
    """BM25 variant, parameters and field weights; recorded in the manifest and reused at query time."""

    method: str = "lucene"
    k1: float = 0.9
    b: float = 0.75
    stopwords: str = "en_plus"
    stemmer: str | None = "english"
    title_repeats: int = 2  # how many times the article title is indexed with each passage
    sentence_weight: float = 0.25
    sentence_title: bool = True  # index each sentence with its article's title (build time only)
    bigram_weight: float = 0.1

    def analyzer(self) -> Analyzer:
        return Analyzer(self.stopwords, self.stemmer)

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def with_overrides(self, pairs: list[str]) -> LexicalSettings:
        """These settings with ``KEY=VALUE`` changes (as typed on a command line) applied."""
        changes: dict[str, object] = {}
        for pair in pairs:
            key, _, value = pair.partition("=")
            key = key.strip()
            if key not in self.__dataclass_fields__ or not _:
                names = ", ".join(self.__dataclass_fields__)
                raise InvalidRequestError(f"Cannot set {pair!r}: write KEY=VALUE with KEY one of {names}.")
            current = getattr(self, key)
            try:
                if value.strip().lower() in ("none", "") and key == "stemmer":
                    changes[key] = None
                elif isinstance(current, bool):
                    changes[key] = value.strip().lower() in ("1", "true", "yes", "on")
                elif isinstance(current, (int, float)):
                    changes[key] = type(current)(value)
                else:
                    changes[key] = value.strip()
            except ValueError:
                raise InvalidRequestError(
                    f"Cannot set {key} to {value!r}: it takes a {type(current).__name__}."
                ) from None
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> LexicalSettings:
        return cls(**{key: value for key, value in data.items() if key in cls.__dataclass_fields__})  # type: ignore[arg-type]


def bigrams(terms: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in itertools.pairwise(terms)]


class _Field:
    """One bm25s index and its vocabulary."""

    def __init__(self, bm25: object) -> None:
        self.bm25 = bm25
        scores = bm25.scores  # type: ignore[attr-defined]
        self.num_docs = int(scores["num_docs"])
        self.vocab: dict[str, int] = bm25.vocab_dict  # type: ignore[attr-defined]
        # Plain ndarray views of bm25s' memory maps (np.memmap adds overhead to every slice).
        self._data, self._indices, self._indptr = (np.asarray(scores[key]) for key in ("data", "indices", "indptr"))
        self.df = np.diff(np.asarray(self._indptr))
        # Variants that score absent terms (bm25l, bm25+) need bm25s' own path; Lucene BM25 does not.
        self._sparse = getattr(bm25, "nonoccurrence_array", None) is None

    def damage(self) -> str | None:
        """What is structurally wrong with the arrays (cheap checks: no pass over the postings), or None."""
        terms = len(self._indptr) - 1
        if terms < 0 or (terms and int(self._indptr[0]) != 0) or int(self._indptr[-1]) != len(self._indices):
            return "its term offsets do not match its postings"
        if len(self._data) != len(self._indices):
            return "its scores and postings differ in length"
        try:  # bm25s numbers an empty token last, without postings; no question ever looks it up
            ids = np.fromiter((i for term, i in self.vocab.items() if term), dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            return "its vocabulary holds something other than term numbers"
        if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= terms):
            return "its vocabulary points past its terms"
        if terms and bool(np.any(np.diff(self._indptr) < 0)):
            return "its term offsets decrease"
        return None

    def scores(self, terms: list[str]) -> np.ndarray:
        ids = [self.vocab[term] for term in terms if term in self.vocab]
        if not ids:
            return np.zeros(self.num_docs, dtype=np.float32)
        if not self._sparse:
            return np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)  # type: ignore[attr-defined]
        total = np.zeros(self.num_docs, dtype=np.float32)
        for term in ids:
            start, end = int(self._indptr[term]), int(self._indptr[term + 1])
            # A term lists each document once, so plain fancy-index addition is exact (and faster than add.at).
            total[self._indices[start:end]] += self._data[start:end]
        return total


def best_per_group(values: np.ndarray, owner: np.ndarray, groups: int) -> np.ndarray:
    """Max of non-negative ``values`` within each group; ``owner`` (non-decreasing) names each value's group.

    Only the non-zero values are visited, which is what makes the sentence field cheap: a
    question touches a small share of a million passages' sentences.
    """
    best = np.zeros(groups, dtype=np.float32)
    touched = np.flatnonzero(values > 0)
    if len(touched):
        owners = owner[touched]
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        best[owners[starts]] = np.maximum.reduceat(values[touched], starts)
    return best


class LexicalWriter:
    """Writes the lexical index of passages added a chunk at a time, in bounded memory (see qa.index.postings).

    ``documents`` are what the passage field indexes (title + text); sentences come from
    ``passage_texts``, each preceded by its passage's title from ``titles`` when
    ``settings.sentence_title`` is on.
    """

    def __init__(self, scratch_dir: Path, settings: LexicalSettings) -> None:
        self.settings = settings
        self._terms = settings.analyzer().terms
        bm25 = (settings.method, settings.k1, settings.b)
        self._passage = FieldWriter(scratch_dir / "passage", *bm25)
        self._sentence = FieldWriter(scratch_dir / "sentence", *bm25) if settings.sentence_weight else None
        self._bigram = FieldWriter(scratch_dir / "bigram", *bm25) if settings.bigram_weight else None
        self._sentence_counts: list[np.ndarray] = []

    def add(self, documents: list[str], passage_texts: list[str], titles: list[str | None] | None = None) -> None:
        terms = self._terms
        tokens = [terms(text) for text in documents]
        self._passage.add(tokens)
        if self._sentence is not None:
            sentences: list[list[str]] = []
            counts = []
            contexts = titles if titles is not None and self.settings.sentence_title else [None] * len(passage_texts)
            for text, title in zip(passage_texts, contexts, strict=True):
                spans = sentence_spans(text) or [(0, len(text))]
                context = terms(title) * self.settings.title_repeats if title else []
                sentences.extend(context + terms(text[a:b]) for a, b in spans)
                counts.append(len(spans))
            self._sentence.add(sentences)
            self._sentence_counts.append(np.asarray(counts, dtype=np.int64))
        if self._bigram is not None:
            self._bigram.add([bigrams(t) for t in tokens])

    def finish(self, index_dir: Path, keep: bool = False) -> None:
        """Write ``lexical/`` into ``index_dir``; with ``keep`` the passage and bigram fields' term counts stay
        in the scratch folder for :meth:`weights` (then :meth:`close` removes them)."""
        folder = index_dir / LEXICAL_DIR
        self._passage.finish(folder / "passage", keep)
        if self._sentence is not None:
            self._sentence.finish(folder / "sentence")
            counts = np.concatenate(self._sentence_counts) if self._sentence_counts else np.zeros(0, np.int64)
            offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else counts
            np.save(folder / SENTENCE_OFFSETS_FILE, offsets, allow_pickle=False)
        if self._bigram is not None:
            self._bigram.finish(folder / "bigram", keep)

    @property
    def passage_field(self) -> FieldWriter:
        return self._passage

    @property
    def bigram_field(self) -> FieldWriter | None:
        return self._bigram

    def close(self) -> None:
        """Drop the scratch files (a build that failed)."""
        for writer in (self._passage, self._sentence, self._bigram):
            if writer is not None:
                writer.close()


class LexicalIndex:
    """BM25 over passages (plus sentence and bigram fields), with document frequencies for IDF features."""

    def __init__(
        self,
        settings: LexicalSettings,
        passage: _Field,
        sentence: _Field | None = None,
        sentence_offsets: np.ndarray | None = None,
        bigram: _Field | None = None,
    ) -> None:
        self.settings = settings
        self.analyzer = settings.analyzer()
        self._passage = passage
        self._sentence = sentence
        self._sentence_offsets = sentence_offsets
        self._sentence_owner = None
        if sentence is not None and sentence_offsets is not None:
            sizes = np.diff(np.append(np.asarray(sentence_offsets, dtype=np.int64), sentence.num_docs))
            if len(sizes) and sizes.min() >= 0:  # else check_rows reports the damage
                self._sentence_owner = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
        self._bigram = bigram
        self.num_docs = passage.num_docs

    @classmethod
    def load(cls, index_dir: Path, settings: LexicalSettings, mmap: bool = True) -> LexicalIndex:
        import bm25s

        folder = index_dir / LEXICAL_DIR

        def field(name: str) -> _Field:
            try:
                return _Field(bm25s.BM25.load(folder / name, mmap=mmap, load_corpus=False))
            except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
                raise IndexFormatError(
                    f"The lexical index in {folder / name} cannot be read ({error}).", path=index_dir
                ) from None

        sentence = offsets = bigram = None
        if settings.sentence_weight:
            sentence = field("sentence")
            try:
                offsets = np.load(folder / SENTENCE_OFFSETS_FILE, allow_pickle=False)
            except (OSError, ValueError) as error:
                raise IndexFormatError(
                    f"{folder / SENTENCE_OFFSETS_FILE} cannot be read ({error}).", path=index_dir
                ) from None
        if settings.bigram_weight:
            bigram = field("bigram")
        return cls(settings, field("passage"), sentence, offsets, bigram)

    def check_rows(self, passages: int) -> str | None:
        """A description of what disagrees with ``passages`` rows, or None when all fields agree."""
        for name, found in (("passage", self._passage), ("sentence", self._sentence), ("bigram", self._bigram)):
            problem = found.damage() if found is not None else None
            if problem:
                return f"the {name} field is damaged: {problem}"
        if self._passage.num_docs != passages:
            return f"the passage field has {self._passage.num_docs} rows for {passages} passages"
        if self._sentence_offsets is not None and len(self._sentence_offsets) != passages:
            return f"the sentence field maps {len(self._sentence_offsets)} passages, not {passages}"
        if self._sentence_offsets is not None and passages and self._sentence_owner is None:
            return "the sentence offsets are not increasing"
        if self._bigram is not None and self._bigram.num_docs != passages:
            return f"the bigram field has {self._bigram.num_docs} rows for {passages} passages"
        return None

    def scores(self, question: str) -> np.ndarray:
        """The lexical score of every passage for ``question`` (zeros where nothing matches)."""
        terms = self.analyzer.terms(question)
        try:
            total = self._passage.scores(terms)
            if self._sentence is not None and self._sentence_owner is not None and self.settings.sentence_weight:
                best = best_per_group(self._sentence.scores(terms), self._sentence_owner, self.num_docs)
                total += np.float32(self.settings.sentence_weight) * best
            if self._bigram is not None and self.settings.bigram_weight and len(terms) > 1:
                total += np.float32(self.settings.bigram_weight) * self._bigram.scores(bigrams(terms))
        except IndexError:  # a posting past the last passage: only a damaged (or crafted) index has one
            raise IndexFormatError("The lexical index is damaged: a posting points past the last passage.") from None
        return total

    def vocabulary(self) -> dict[str, int]:
        """Every analysed term of the passage field (titles and text) with its document frequency."""
        df = self._passage.df
        return {term: int(df[index]) for term, index in self._passage.vocab.items() if term and index < len(df)}

    def idf(self, term: str) -> float:
        """Lucene IDF over passages; a term absent from the corpus gets the highest possible value."""
        index = self._passage.vocab.get(term)
        df = int(self._passage.df[index]) if index is not None else 0
        return math.log(1 + (self.num_docs - df + 0.5) / (df + 0.5))
