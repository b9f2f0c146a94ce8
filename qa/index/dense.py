"""The FAISS index of passage vectors: vectors in, row ids and cosine scores out. Knows no text.

Vectors are normalized, so inner product equals cosine. ``vectors.npy`` keeps every passage
vector (float32, row *i* = passage *i*, memory-mapped when loaded); ``dense.faiss`` is the
search structure over them:

* up to ``DenseSettings.approximate_above`` passages, exact search (``IndexFlatIP``);
* above it, an inverted file (IVF, ``nlist`` ≈ 2·√n k-means cells) over 8-bit scalar-quantized
  codes (SQ8, 384 bytes per 384-d vector). It proposes ``refine`` × k candidates (at least
  ``min_candidates``) from the ``nprobe`` nearest cells, and the exact cosines from
  ``vectors.npy`` put them in order. ``nprobe`` is ``probe_share`` of the cells (1/16: 128 of
  2,048 at a million passages, the setting measured in docs/performance.md to keep recall@10
  against exact search at 0.98 or better on question-like queries), doubled at build time while
  recall@10 on sentence probes from the corpus stays under ``probe_recall`` (0.93; such probes
  are harder than questions, hence the lower bar, and 100 of them measure recall to about
  ±0.02: at 0.95 a million-passage build whose probes scored 0.949 doubled ``nprobe`` and
  cost 5 ms a search for 0.990 → 0.993 on questions). The figures go into the manifest.

Filters: a filtered search over at most ``approximate_above`` allowed rows is exact (it costs
no more than an unfiltered search of a small index); over more, the IVF probes proportionally
more cells (``nprobe`` × n / allowed, so as many allowed candidates are scanned as without a
filter), and falls back to exact search if that still finds fewer than k.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexFormatError
from qa.index.arrays import NpyReader
from qa.settings import APPROXIMATE_ABOVE

DENSE_FILE = "dense.faiss"
VECTORS_FILE = "vectors.npy"
CHECK_K = 10
_BLOCK_ROWS = 65_536  # rows per block of brute-force scoring, to bound temporary memory


@dataclass(frozen=True)
class DenseSettings:
    """When the index becomes approximate, and how good it must be; recorded in the manifest."""

    approximate_above: int = APPROXIMATE_ABOVE  # passages; at or below, search is exact
    probe_share: float = 1 / 16  # share of the IVF cells searched per question, at least ...
    probe_recall: float = 0.93  # ... and more (doubling) until build-time probes reach this recall@10
    refine: int = 3  # candidates proposed per result wanted, re-ranked by exact cosine ...
    min_candidates: int = 256  # ... and never fewer than this, so near-duplicates cannot crowd out a neighbour
    train_per_cell: int = 50  # k-means training points per IVF cell

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DenseSettings:
        data = data or {}
        return cls(**{key: value for key, value in data.items() if key in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class DenseCheck:
    """Recall@10 of the approximate index against exact search on sentence probes, measured at build time."""

    probes: int
    recall_at_10: float
    by_nprobe: dict[str, float]  # cells searched → recall measured with that many

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DenseCheck:
        return cls(int(data["probes"]), float(data["recall_at_10"]), dict(data["by_nprobe"]))


@dataclass(frozen=True, slots=True)
class DenseInfo:
    """What was built (the manifest's ``dense``): an exact index, or IVF-SQ8 with the cells searched."""

    settings: DenseSettings = DenseSettings()
    index: str = "Flat"  # the FAISS index factory string
    nlist: int | None = None  # IVF cells (approximate only) ...
    nprobe: int | None = None  # ... and how many are searched per question
    check: DenseCheck | None = None

    @property
    def exact(self) -> bool:
        return self.nprobe is None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"index": self.index, "exact": self.exact, **self.settings.to_dict()}
        if not self.exact:
            data.update(nlist=self.nlist, nprobe=self.nprobe, check=asdict(self.check) if self.check else None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DenseInfo:
        exact = data.get("exact", True)
        check = data.get("check")
        return cls(
            DenseSettings.from_dict(data),
            str(data.get("index", "Flat")),
            None if exact else int(data["nlist"]),
            None if exact else int(data["nprobe"]),
            DenseCheck.from_dict(check) if check and not exact else None,
        )


def cells_for(rows: int) -> int:
    """IVF cells for ``rows`` vectors: the power of two nearest 2·√rows (2,048 at a million)."""
    return int(2 ** round(math.log2(2 * math.sqrt(max(rows, 1)))))


def exact_top_k(
    vectors: np.ndarray | NpyReader, queries: np.ndarray, k: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force (scores, row ids) of the top ``k`` per query among ``rows`` (all when None), best first.

    Works block by block, so a memory-mapped matrix is streamed rather than copied.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    total = len(vectors) if rows is None else len(rows)
    k = min(k, total)
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, total, _BLOCK_ROWS):
        ids = np.arange(start, min(start + _BLOCK_ROWS, total)) if rows is None else rows[start : start + _BLOCK_ROWS]
        block = vectors[start : start + len(ids)] if rows is None else vectors[ids]
        scores = queries @ np.asarray(block, dtype=np.float32).T
        best_scores = np.concatenate([best_scores, scores], axis=1)
        best_rows = np.concatenate([best_rows, np.broadcast_to(np.asarray(ids, dtype=np.int64), scores.shape)], axis=1)
        if best_scores.shape[1] > k:
            keep = np.argpartition(-best_scores, k - 1, axis=1)[:, :k]
            best_scores = np.take_along_axis(best_scores, keep, axis=1)
            best_rows = np.take_along_axis(best_rows, keep, axis=1)
    order = np.argsort(-best_scores, axis=1, kind="stable")
    return np.take_along_axis(best_scores, order, axis=1), np.take_along_axis(best_rows, order, axis=1)


def recall_at(found_scores: np.ndarray, truth_scores: np.ndarray) -> float:
    """Recall@k of a search against exact search, from exact cosines (k = the width of ``truth_scores``).

    A found row counts when its cosine reaches the k-th exact one, so rows tied with a true
    neighbour (duplicate passages) count as found, whichever of them exact search listed.
    """
    if truth_scores.size == 0:
        return 1.0
    k = truth_scores.shape[1]
    threshold = truth_scores[:, -1:] - 1e-6
    found = (found_scores[:, :k] >= threshold).sum(axis=1)
    return float(np.mean(np.minimum(found, k) / k))


class DenseIndex:
    """Top-k passage rows by cosine to a query vector; exact or IVF-SQ8 with exact re-ranking."""

    def __init__(
        self,
        index: Any,
        vectors: np.ndarray | NpyReader | None,
        settings: DenseSettings | None = None,
        nprobe: int | None = None,
        check: DenseCheck | None = None,
    ) -> None:
        self._index = index
        self.vectors = vectors
        self.settings = settings or DenseSettings()
        self.nprobe = nprobe
        self.check = check  # recall measured at build time, for the manifest

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def approximate(self) -> bool:
        return self.nprobe is not None

    def describe(self) -> DenseInfo:
        """What was built, for the manifest (and read back by :meth:`load`)."""
        if not self.approximate:
            return DenseInfo(self.settings)
        nlist = int(self._ivf().nlist)
        return DenseInfo(self.settings, f"IVF{nlist},SQ8", nlist, self.nprobe, self.check)

    def _ivf(self) -> Any:
        import faiss

        return faiss.extract_index_ivf(self._index)

    # -- building --------------------------------------------------------------------------

    @classmethod
    def build(
        cls, vectors: np.ndarray | NpyReader, settings: DenseSettings | None = None, probes: np.ndarray | None = None
    ) -> DenseIndex:
        """Index ``vectors`` (normalized float32 rows; an :class:`NpyReader` is read a block at a time and
        never held whole); for an approximate index, ``probes`` (query vectors) measure its recall@10
        against exact search, recorded as ``check``."""
        import faiss

        settings = settings or DenseSettings()
        rows, dimension = vectors.shape
        if rows <= settings.approximate_above:
            index: Any = faiss.IndexFlatIP(dimension)
            _add_blocks(index, vectors)
            return cls(index, vectors, settings)
        nlist = cells_for(rows)
        rng = np.random.default_rng(0)
        sample = np.sort(rng.choice(rows, min(rows, settings.train_per_cell * nlist), replace=False))
        index = faiss.index_factory(dimension, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
        _add_blocks(index, vectors)
        nprobe = max(1, min(nlist, round(nlist * settings.probe_share)))
        dense = cls(index, vectors, settings, nprobe=nprobe)
        if probes is not None and len(probes):
            dense._tune(np.asarray(probes, dtype=np.float32), nlist)
        return dense

    def _tune(self, probes: np.ndarray, nlist: int) -> None:
        """Search more cells (doubling) until recall@10 on ``probes`` reaches ``probe_recall``; record the figures."""
        assert self.nprobe is not None
        truth, _ = exact_top_k(self._vectors(), probes, CHECK_K)
        measured: dict[str, float] = {}
        while True:
            found, _ = self.search(probes, CHECK_K)
            measured[str(self.nprobe)] = round(recall_at(found, truth), 4)
            if measured[str(self.nprobe)] >= self.settings.probe_recall or self.nprobe >= nlist:
                break
            self.nprobe = min(nlist, self.nprobe * 2)
        self.check = DenseCheck(len(probes), measured[str(self.nprobe)], measured)

    def save(self, index_dir: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(index_dir / DENSE_FILE))
        if isinstance(self.vectors, np.ndarray):  # a streaming build wrote vectors.npy already
            np.save(index_dir / VECTORS_FILE, self.vectors, allow_pickle=False)

    @classmethod
    def load(cls, index_dir: Path, info: DenseInfo | None = None, mmap: bool = True) -> DenseIndex:
        """Open ``dense.faiss`` and ``vectors.npy``; with ``mmap`` both stay on disk and are paged in on use."""
        import faiss

        path = index_dir / DENSE_FILE
        # IO_FLAG_MMAP_IFC maps flat codes and inverted lists in place; plain IO_FLAG_MMAP would copy a flat index.
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError as error:
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else "unreadable"
            raise IndexFormatError(f"The vector index {path} cannot be read ({reason}).", path=index_dir) from None
        vectors = None
        if (index_dir / VECTORS_FILE).is_file():
            try:
                vectors = np.load(index_dir / VECTORS_FILE, mmap_mode="r" if mmap else None, allow_pickle=False)
                _random_access(vectors)
                vectors = np.asarray(vectors)  # still mapped; a plain ndarray view indexes faster than np.memmap
            except (OSError, ValueError) as error:
                raise IndexFormatError(
                    f"{index_dir / VECTORS_FILE} cannot be read ({error}).", path=index_dir
                ) from None
            if vectors.shape != (index.ntotal, index.d):
                raise IndexFormatError(
                    f"{index_dir / VECTORS_FILE} holds {vectors.shape} vectors but {path} indexes "
                    f"{index.ntotal} of dimension {index.d}.",
                    path=index_dir,
                )
        info = info or DenseInfo()
        if info.nprobe is not None and vectors is None:
            raise IndexFormatError(f"{index_dir / VECTORS_FILE} is missing.", path=index_dir)
        return cls(index, vectors, info.settings, info.nprobe, info.check)

    # -- searching -------------------------------------------------------------------------

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, row ids) per query, best first; ``allowed`` limits the rows searched.

        One call searches every query (one batched FAISS call). Missing results (fewer than k
        allowed rows) have id -1 and score -inf.
        """
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, self.size))
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            if len(allowed) == 0:
                return _empty(len(queries), k)
        if not self.approximate:
            return self._search_flat(queries, k, allowed)
        if allowed is not None and len(allowed) <= self.settings.approximate_above:
            return _pad(*exact_top_k(self._vectors(), queries, k, allowed), k)
        return self._search_ivf(queries, k, allowed)

    def _vectors(self) -> np.ndarray | NpyReader:
        if self.vectors is None:
            self.vectors = self._index.reconstruct_n(0, self.size)
        return self.vectors

    def _search_flat(self, queries: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        params = None
        if allowed is not None:
            bitmap = _bitmap(allowed, self.size)
            selector = faiss.IDSelectorBitmap(self.size, faiss.swig_ptr(bitmap))
            # faiss's Python layer adds keyword constructors that keep ``selector`` alive; its stubs lack them.
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = self._index.search(queries, k, params=params)
        scores[ids < 0] = -np.inf
        return scores, ids

    def _search_ivf(self, queries: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        assert self.nprobe is not None
        nlist = int(self._ivf().nlist)
        nprobe = self.nprobe
        bitmap = None
        if allowed is not None:  # probe more cells in proportion to what the filter removes
            nprobe = min(nlist, math.ceil(self.nprobe * self.size / len(allowed)))
            bitmap = _bitmap(allowed, self.size)
            selector = faiss.IDSelectorBitmap(self.size, faiss.swig_ptr(bitmap))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)  # type: ignore[call-arg]  # as above
        else:
            params = faiss.SearchParametersIVF(nprobe=nprobe)  # type: ignore[call-arg]
        wanted = min(self.size, max(k * self.settings.refine, self.settings.min_candidates))
        _, candidates = self._index.search(queries, wanted, params=params)
        scores, ids = self._rerank(queries, candidates, k)
        short = (ids >= 0).sum(axis=1) < min(k, self.size if allowed is None else len(allowed))
        if short.any():  # too few candidates passed the filter in the probed cells: search those queries exactly
            exact_scores, exact_ids = _pad(*exact_top_k(self._vectors(), queries[short], k, allowed), k)
            scores[short], ids[short] = exact_scores, exact_ids
        return scores, ids

    def _rerank(self, queries: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Order candidate rows by their exact cosine; keep the top ``k`` per query."""
        vectors = self._vectors()
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for number, (query, rows) in enumerate(zip(queries, candidates)):
            rows = rows[rows >= 0]
            if len(rows) == 0:
                continue
            order = np.argsort(rows)  # read the memory map in file order
            exact = np.asarray(vectors[rows[order]], dtype=np.float32) @ query
            top = np.argsort(-exact, kind="stable")[:k]
            scores[number, : len(top)] = exact[top]
            ids[number, : len(top)] = rows[order][top]
        return scores, ids

    def scores_for(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact cosine of one query against the given rows."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        rows = np.asarray(rows, dtype=np.int64)
        if self.vectors is not None:
            vectors = np.asarray(self.vectors[rows], dtype=np.float32)
        else:
            vectors = self._index.reconstruct_batch(rows)
        return vectors @ np.asarray(query, dtype=np.float32)


def _add_blocks(index: Any, vectors: np.ndarray | NpyReader) -> None:
    for start in range(0, len(vectors), _BLOCK_ROWS):
        index.add(np.ascontiguousarray(vectors[start : start + _BLOCK_ROWS], dtype=np.float32))


def _random_access(array: np.ndarray) -> None:
    """Tell the kernel a memory-mapped array is read at random rows (re-ranking reads ~300 per question).

    Without it every page fault also reads the pages around it (read-around, typically 128 KB
    for a 1.5 KB row): harmless while the file sits in the page cache, but when memory is short
    those extra pages evict the ones actually needed and searches slow down a hundredfold.
    """
    import mmap

    mapped = getattr(array, "_mmap", None)
    if isinstance(mapped, mmap.mmap) and hasattr(mmap, "MADV_RANDOM"):
        with contextlib.suppress(OSError):  # advice only
            mapped.madvise(mmap.MADV_RANDOM)


def _bitmap(rows: np.ndarray, size: int) -> np.ndarray:
    """FAISS IDSelectorBitmap layout: bit (i & 7) of byte i >> 3 is set for every allowed row i."""
    mask = np.zeros(size, dtype=bool)
    mask[rows] = True
    return np.packbits(mask, bitorder="little")


def _empty(queries: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((queries, k), -np.inf, dtype=np.float32), np.full((queries, k), -1, dtype=np.int64)


def _pad(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Widen results to ``k`` columns with -inf / -1 where there were fewer rows."""
    if scores.shape[1] >= k:
        return scores.astype(np.float32), ids
    padded_scores, padded_ids = _empty(len(scores), k)
    padded_scores[:, : scores.shape[1]], padded_ids[:, : ids.shape[1]] = scores, ids
    return padded_scores, padded_ids
