"""Reusing passage vectors between builds, so a rebuild embeds only what changed.

Every passage vector is keyed by the sha256 of the model's identity and the exact string that
was embedded (title + passage text), cut to 16 bytes. ``vector_keys.npy`` sits next to
``vectors.npy`` in the index folder, row for row, so the previous index *is* the cache: a
rebuild looks up each passage's key there and embeds only the passages it does not find.
Passages of removed articles are simply never looked up; a changed model changes every key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.errors import QAError
from qa.index.dense import VECTORS_FILE
from qa.index.integrity import check_files
from qa.index.manifest import Manifest, ModelInfo

KEYS_FILE = "vector_keys.npy"
KEY_BYTES = 16
log = logging.getLogger("qa")


def model_key(model: ModelInfo) -> str:
    """What makes two models embed a string identically: weights (fingerprint, else name and revision),
    the document prompt, the dimension and the token window."""
    identity = {
        "weights": model.fingerprint or f"{model.name}@{model.revision}",
        "document_prompt": model.document_prompt or "",
        "dimension": model.dimension,
        "max_tokens": model.max_tokens,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def content_keys(model: str, documents: Sequence[str]) -> np.ndarray:
    """One 16-byte key per document: sha256(model key, NUL, document)."""
    keys = np.empty((len(documents), KEY_BYTES), dtype=np.uint8)
    prefix = model.encode() + b"\0"
    for row, document in enumerate(documents):
        keys[row] = np.frombuffer(hashlib.sha256(prefix + document.encode("utf-8")).digest()[:KEY_BYTES], np.uint8)
    return keys


def save_keys(index_dir: Path, keys: np.ndarray) -> None:
    np.save(index_dir / KEYS_FILE, keys, allow_pickle=False)


class VectorCache:
    """The vectors of a previous index, found by content key."""

    def __init__(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self._vectors = vectors
        self._keys = keys
        prefixes = np.ascontiguousarray(keys[:, :8]).view("<u8").ravel()
        self._order = np.argsort(prefixes, kind="stable")
        self._sorted = prefixes[self._order]

    def __len__(self) -> int:
        return len(self._keys)

    @classmethod
    def open(
        cls,
        index_dir: Path,
        model: str,
        dimension: int,
        vectors_file: str = VECTORS_FILE,
        keys_file: str = KEYS_FILE,
    ) -> VectorCache | None:
        """The cache kept in the index at ``index_dir`` (passage vectors, or others kept the same way under
        ``vectors_file`` and ``keys_file``), or None when it has none for this model."""
        try:
            manifest = Manifest.read(index_dir, older=True)
        except Exception:  # no index there yet, or an unreadable one: nothing to reuse
            return None
        if manifest.vectors is None or manifest.vectors.model_key != model:
            return None
        # Reused vectors are copied into the new index under fresh checksums: check them in full
        # first (opening an index only samples large files), so damage is never carried forward.
        records = {name: manifest.files[name] for name in (vectors_file, keys_file) if name in manifest.files}
        if len(records) < 2:  # files the manifest does not vouch for are not reused
            return None
        try:
            check_files(index_dir, records, full=True)
        except QAError as error:
            log.warning("not reusing the vectors in %s: %s", index_dir / vectors_file, error)
            return None
        try:
            keys = np.load(index_dir / keys_file, mmap_mode="r", allow_pickle=False)
            vectors = np.load(index_dir / vectors_file, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as error:
            log.info("not reusing the vectors in %s: %s", index_dir / vectors_file, error)
            return None
        if keys.shape != (len(vectors), KEY_BYTES) or vectors.ndim != 2 or vectors.shape[1] != dimension:
            return None
        return cls(np.asarray(keys), vectors)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Row in the cache of each key, or -1 where it is not cached."""
        found = np.full(len(keys), -1, dtype=np.int64)
        if len(self._keys) == 0 or len(keys) == 0:
            return found
        prefixes = np.ascontiguousarray(keys[:, :8]).view("<u8").ravel()
        at = np.minimum(np.searchsorted(self._sorted, prefixes), len(self._sorted) - 1)
        rows = self._order[at]
        same = (self._sorted[at] == prefixes) & (self._keys[rows] == keys).all(axis=1)
        found[same] = rows[same]
        return found

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        order = np.argsort(rows)  # read the memory map in file order
        out = np.empty((len(rows), self._vectors.shape[1]), dtype=np.float32)
        out[order] = self._vectors[rows[order]]
        return out
