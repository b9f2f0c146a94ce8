"""One BM25 field written a chunk of documents at a time, in bounded memory, as a bm25s index.

bm25s builds its score matrix from every document's token list at once: a Python list per
document, gigabytes at a million passages. :class:`FieldWriter` takes documents a chunk at a
time, keeps only a vocabulary and, per document, its distinct term ids and their counts in
flat int32 files in a scratch folder. :meth:`FieldWriter.finish` then computes the scores with
bm25s's own formulas, in the same float32/float64 steps (so every score is bit-for-bit what
bm25s computes; tested), a block of documents at a time, and places them term-major into the
arrays ``bm25s.BM25.load`` reads. Term ids are given in order of first appearance, so the same
documents in the same order always give the same files.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

BLOCK_ENTRIES = 1 << 22  # (document, term) pairs scored per block in finish(): ~100 MB of temporaries
_TERMS, _COUNTS = "terms.i32", "counts.i32"


@dataclass
class _Statistics:
    """What scoring a field's pairs needs once all its documents are in, with bm25s's own functions."""

    bm25: Any  # a bm25s.BM25 with the method and parameters (its dtype, delta, idf method)
    lengths: np.ndarray  # tokens per document
    entry_ends: np.ndarray  # one past each document's last (document, term) pair
    df: np.ndarray  # documents per term
    idf: np.ndarray  # float32, as bm25s stores it
    average: np.float64  # mean document length
    nonoccurrence: np.ndarray | None = None  # bm25l and bm25+ only

    @property
    def tfc_of(self) -> Any:
        from bm25s.scoring import _select_tfc_scorer

        return _select_tfc_scorer(self.bm25.method)

    def score(self, terms: np.ndarray, counts: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(tf part, score) of each pair, in float64: bm25s scores a document's terms as
        idf[float32] * tfc(tf[float32], len(doc), mean)."""
        bm25 = self.bm25
        tfc = self.tfc_of(
            tf_array=counts.astype(bm25.dtype),
            l_d=self.lengths[owners].astype(np.int64),
            l_avg=self.average,
            k1=bm25.k1,
            b=bm25.b,
            delta=bm25.delta,
        )
        scores = self.idf[terms] * tfc
        if self.nonoccurrence is not None:
            scores -= self.nonoccurrence[terms]
        return np.asarray(tfc, dtype=np.float64), scores


class FieldWriter:
    """Accumulates one field's documents (lists of terms) and writes its bm25s index."""

    def __init__(self, scratch_dir: Path, method: str = "lucene", k1: float = 1.5, b: float = 0.75) -> None:
        self.scratch_dir = Path(scratch_dir)
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        self.method, self.k1, self.b = method, k1, b
        self.vocab: dict[str, int] = {}
        self._lengths: list[np.ndarray] = []  # tokens per document, per chunk
        self._sizes: list[np.ndarray] = []  # distinct terms per document, per chunk
        self._entries = 0
        self._files = {name: (self.scratch_dir / name).open("wb") for name in (_TERMS, _COUNTS)}
        self._stats: _Statistics | None = None  # once every document is in

    @property
    def documents(self) -> int:
        return sum(len(sizes) for sizes in self._sizes)

    def add(self, documents: Iterable[list[str]]) -> None:
        """Append documents (each a list of terms, repeats counted) after those already added."""
        vocab = self.vocab
        ids: list[int] = []
        lengths: list[int] = []
        for terms in documents:
            ids.extend([vocab.setdefault(term, len(vocab)) for term in terms])
            lengths.append(len(terms))
        length_array = np.asarray(lengths, dtype=np.int64)
        owner = np.repeat(np.arange(len(lengths), dtype=np.int64), length_array)
        # One (document, term) key per token; np.unique gives each distinct pair once with its count.
        keys, counts = np.unique((owner << 32) | np.asarray(ids, dtype=np.int64), return_counts=True)
        sizes = np.bincount(keys >> 32, minlength=len(lengths)).astype(np.int32)
        self._files[_TERMS].write((keys & 0xFFFFFFFF).astype(np.int32).tobytes())
        self._files[_COUNTS].write(counts.astype(np.int32).tobytes())
        self._lengths.append(length_array.astype(np.int32))
        self._sizes.append(sizes)
        self._entries += len(keys)

    def finish(self, folder: Path, keep: bool = False) -> int:
        """Score every (document, term) pair and save the field as a bm25s index in ``folder``.

        Returns the number of documents. The scratch files are deleted afterwards, unless ``keep``
        (then :meth:`weights` reads them, and :meth:`close` deletes them).
        """
        stats = self._statistics()
        documents, vocabulary = len(stats.lengths), len(self.vocab)
        index_type = np.int32 if max(self._entries, documents, vocabulary) < 2**31 else np.int64
        indptr = np.zeros(vocabulary + 1, dtype=index_type)
        np.cumsum(stats.df, out=indptr[1:])
        data = np.empty(self._entries, dtype=stats.bm25.dtype)
        indices = np.empty(self._entries, dtype=index_type)
        cursor = indptr[:-1].astype(np.int64)  # next free slot of each term's column
        start = 0
        for terms, counts in self._blocks():
            end = start + len(terms)
            owners = np.searchsorted(stats.entry_ends, np.arange(start, end), side="right")
            _, scores = stats.score(terms, counts, owners)
            # Place the block term-major: within a term, documents stay in increasing order.
            order = np.argsort(terms, kind="stable")
            sorted_terms = terms[order]
            run_starts = np.flatnonzero(np.r_[True, sorted_terms[1:] != sorted_terms[:-1]])
            run_lengths = np.diff(np.r_[run_starts, len(sorted_terms)])
            rank = np.arange(len(sorted_terms)) - np.repeat(run_starts, run_lengths)
            slots = cursor[sorted_terms] + rank
            data[slots] = scores[order]
            indices[slots] = owners[order]
            cursor[sorted_terms[run_starts]] += run_lengths
            start = end
        if not keep:
            shutil.rmtree(self.scratch_dir, ignore_errors=True)

        bm25 = stats.bm25
        bm25.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": documents}
        bm25.vocab_dict = {**self.vocab, "": vocabulary}  # bm25s adds the empty token to a vocabulary of strings
        bm25.nonoccurrence_array = stats.nonoccurrence
        bm25.save(folder, show_progress=False)
        return documents

    def _statistics(self) -> _Statistics:
        from bm25s.scoring import _build_nonoccurrence_array, _select_idf_scorer

        if self._stats is not None:
            return self._stats
        for handle in self._files.values():
            handle.close()
        import bm25s

        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, dtype=np.int32)
        sizes = np.concatenate(self._sizes) if self._sizes else np.zeros(0, dtype=np.int32)
        documents, vocabulary = len(lengths), len(self.vocab)
        bm25 = bm25s.BM25(method=self.method, k1=self.k1, b=self.b)
        # bm25s: np.array([len(doc) for doc in corpus]).mean(), a float64 sum of exact integers over n.
        average = np.float64(lengths.sum(dtype=np.int64)) / documents if documents else np.float64(0)
        df = np.zeros(vocabulary, dtype=np.int64)
        for terms, _ in self._blocks():
            df += np.bincount(terms, minlength=vocabulary)
        idf_of = _select_idf_scorer(bm25.idf_method)
        idf = np.zeros(vocabulary, dtype=bm25.dtype)
        for term, count in enumerate(df.tolist()):  # math.log per term, as bm25s does
            if count:
                idf[term] = idf_of(count, N=documents)
        stats = _Statistics(bm25, lengths, np.cumsum(sizes, dtype=np.int64), df, idf, average)
        if bm25.method in bm25.methods_requiring_nonoccurrence:
            stats.nonoccurrence = _build_nonoccurrence_array(
                dict(enumerate(df.tolist())),
                documents,
                idf_of,
                stats.tfc_of,
                average,
                average,
                bm25.k1,
                bm25.b,
                bm25.delta,
            )
        self._stats = stats
        return stats

    def document_frequencies(self) -> np.ndarray:
        """Documents holding each term, by term id (once every document is in)."""
        return self._statistics().df

    def weights(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Documents ``start``..``stop`` (after ``finish(keep=True)``): (distinct terms per document, their
        term ids, their term-frequency parts, their BM25 scores), in document order (what a search server's
        sparse vectors hold: the scores, or the tf parts where the server applies its own IDF)."""
        stats = self._statistics()
        first = int(stats.entry_ends[start - 1]) if start else 0
        last = int(stats.entry_ends[stop - 1]) if stop > start else first
        sizes = np.diff(np.r_[first, stats.entry_ends[start:stop]]).astype(np.int64)
        with (self.scratch_dir / _TERMS).open("rb") as handle:
            handle.seek(first * 4)
            terms = np.fromfile(handle, dtype=np.int32, count=last - first)
        with (self.scratch_dir / _COUNTS).open("rb") as handle:
            handle.seek(first * 4)
            counts = np.fromfile(handle, dtype=np.int32, count=last - first)
        owners = np.repeat(np.arange(start, stop, dtype=np.int64), sizes)
        tfc, scores = stats.score(terms, counts, owners)
        return sizes, terms, tfc.astype(np.float32), scores.astype(np.float32)

    def _blocks(self) -> Iterable[tuple[np.ndarray, np.ndarray]]:
        """(term ids, counts) of the spilled pairs in file order, BLOCK_ENTRIES at a time (plain reads, no map)."""
        with (self.scratch_dir / _TERMS).open("rb") as terms, (self.scratch_dir / _COUNTS).open("rb") as counts:
            for _ in itertools.count():
                block_terms = np.fromfile(terms, dtype=np.int32, count=BLOCK_ENTRIES)
                if len(block_terms) == 0:
                    return
                yield block_terms, np.fromfile(counts, dtype=np.int32, count=len(block_terms))

    def close(self) -> None:
        """Drop the scratch files without writing an index (a build that failed)."""
        for handle in self._files.values():
            handle.close()
        shutil.rmtree(self.scratch_dir, ignore_errors=True)
