"""The FAISS index of passage vectors: vectors in, row ids and cosine scores out. Knows no text."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.errors import IndexFormatError

DENSE_FILE = "dense.faiss"


class DenseIndex:
    """Exact inner-product search; inner product equals cosine because vectors are normalized."""

    def __init__(self, index: object) -> None:
        self._index = index

    @property
    def size(self) -> int:
        return int(self._index.ntotal)  # type: ignore[attr-defined]

    @property
    def dimension(self) -> int:
        return int(self._index.d)  # type: ignore[attr-defined]

    @classmethod
    def build(cls, vectors: np.ndarray) -> DenseIndex:
        import faiss

        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    def save(self, index_dir: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(index_dir / DENSE_FILE))

    @classmethod
    def load(cls, index_dir: Path, mmap: bool = True) -> DenseIndex:
        import faiss

        path = index_dir / DENSE_FILE
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        try:
            return cls(faiss.read_index(str(path), flags))
        except RuntimeError as error:
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else "unreadable"
            raise IndexFormatError(
                f"The vector index {path} cannot be read ({reason}). Rebuild it with `qa build --index {index_dir}`."
            ) from None

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, row ids) per query, best first; ``allowed`` limits the rows searched.

        Missing results (fewer than k allowed rows) have id -1.
        """
        import faiss

        k = max(1, min(k, self.size))
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        scores, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)  # type: ignore[attr-defined]
        return scores, ids

    def scores_for(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact cosine of one query against the given rows."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        vectors = self._index.reconstruct_batch(np.asarray(rows, dtype=np.int64))  # type: ignore[attr-defined]
        return vectors @ np.asarray(query, dtype=np.float32)
