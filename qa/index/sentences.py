"""Sentence vectors: every passage's sentences embedded on their own, so a passage can also be scored by its
best sentence (a question usually matches one sentence, which a vector of the whole passage dilutes).

Each sentence is embedded with its article title as context (``title\\nsentence``, as the lexical sentence
field reads it). ``sentence_vectors.npy`` holds them in passage order (float32, memory-mapped when opened),
``sentence_offsets.npy`` where each passage's sentences start (passages + 1 int64 values), and
``sentence_keys.npy`` their content keys, so a rebuild embeds only the sentences of passages that changed
(qa.index.vectorcache). The manifest's ``sentences`` records how many there are. Knows no ranking: it
answers "the best sentence cosine of each of these passages".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from qa.errors import IndexFormatError
from qa.index.catalog import Catalog
from qa.ingest.sentences import split_sentences

SENTENCE_VECTORS_FILE = "sentence_vectors.npy"
SENTENCE_KEYS_FILE = "sentence_keys.npy"
SENTENCE_OFFSETS_FILE = "sentence_offsets.npy"
CHUNK_SENTENCES = 4096


def passage_sentences(text: str, title: str | None) -> list[str]:
    """The strings embedded for one passage: each sentence (the whole passage when it has none), titled."""
    prefix = title + "\n" if title else ""
    return [prefix + sentence for sentence in split_sentences(text) or [text]]


def sentence_offsets(catalog: Catalog) -> np.ndarray:
    """Where each passage's sentences start among all sentences, in passage row order (passages + 1 values)."""
    counts = [len(split_sentences(p.text) or [p.text]) for _, passages in catalog.scan() for p in passages]
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(np.asarray(counts, dtype=np.int64), out=offsets[1:])
    return offsets


def sentence_documents(catalog: Catalog) -> Iterator[list[str]]:
    """The embedded string of every sentence, in passage row order, about CHUNK_SENTENCES at a time."""
    chunk: list[str] = []
    for article, passages in catalog.scan():
        for passage in passages:
            chunk.extend(passage_sentences(passage.text, article.title))
        if len(chunk) >= CHUNK_SENTENCES:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def save_offsets(index_dir: Path, offsets: np.ndarray) -> None:
    np.save(index_dir / SENTENCE_OFFSETS_FILE, offsets, allow_pickle=False)


class SentenceVectors:
    """The sentence vectors of an index, grouped by passage row."""

    def __init__(self, vectors: np.ndarray, offsets: np.ndarray) -> None:
        self.vectors = vectors
        self.offsets = offsets

    @classmethod
    def load(cls, index_dir: Path, passages: int, dimension: int, mmap: bool = True) -> SentenceVectors:
        try:
            vectors = np.load(index_dir / SENTENCE_VECTORS_FILE, mmap_mode="r" if mmap else None, allow_pickle=False)
            offsets = np.load(index_dir / SENTENCE_OFFSETS_FILE, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise IndexFormatError(
                f"The sentence vectors in {index_dir} cannot be read ({error}).", path=index_dir
            ) from None
        if (
            vectors.ndim != 2
            or vectors.shape[1] != dimension
            or offsets.shape != (passages + 1,)
            or offsets[0] != 0
            or offsets[-1] != len(vectors)
            or np.any(np.diff(offsets) < 1)
        ):
            raise IndexFormatError(
                f"The sentence vectors in {index_dir} do not fit its {passages} passages of dimension {dimension}.",
                path=index_dir,
            )
        return cls(vectors, offsets)

    def best(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The largest cosine between ``vector`` and a sentence of each of ``rows`` (float32, aligned)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        cosines, counts = self._cosines(vector, rows)
        return np.maximum.reduceat(cosines, np.r_[0, np.cumsum(counts)[:-1]])

    def each(self, vector: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
        """The cosine between ``vector`` and every sentence of each of ``rows``, in sentence order."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return []
        cosines, counts = self._cosines(vector, rows)
        return np.split(cosines, np.cumsum(counts)[:-1])

    def _cosines(self, vector: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The cosines of every sentence of ``rows`` (row after row) and each row's sentence count."""
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        counts = ends - starts
        wanted = np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(int(counts.sum()))
        order = np.argsort(wanted, kind="stable")  # read the memory map in file order
        block = np.empty((len(wanted), self.vectors.shape[1]), dtype=np.float32)
        block[order] = self.vectors[wanted[order]]
        return block @ np.asarray(vector, dtype=np.float32), counts
