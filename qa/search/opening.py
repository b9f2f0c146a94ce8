"""Opening an index folder for searching: the checked manifest, the catalog, the backend's searchers and
the model that encodes questions the way the passages were encoded."""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from qa.errors import IndexFormatError, IndexMismatchError, IndexNotFoundError, ModelUnavailableError, Remedy
from qa.index.catalog import Catalog
from qa.index.document import model_location
from qa.index.manifest import MANIFEST_FILE, Manifest, ModelInfo
from qa.index.store import open_manifest, reading_index
from qa.index.vectorcache import model_key
from qa.models.encoder import Encoder, load_encoder
from qa.search.backend import Backend, open_backend

SNAPSHOT_ATTEMPTS = 5
log = logging.getLogger("qa")


@dataclass(frozen=True, slots=True)
class OpenIndex:
    """Everything a retriever searches with; ``encoder`` is None (and ``backend.dense`` too) when semantic
    search is off, for the reason in ``semantic_off_reason``."""

    index_dir: Path
    manifest: Manifest
    catalog: Catalog
    backend: Backend
    encoder: Encoder | None
    semantic_off_reason: str | None


def open_index(index_dir: Path, mmap: bool = True, encoder: Encoder | None = None) -> OpenIndex:
    """Open a built index; raises IndexNotFoundError, IndexFormatError or IndexMismatchError.

    ``encoder``, an already loaded model, answers instead of the index's model when it embeds exactly
    as the index was built (the same model key): evaluation, rebuilding often, loads it once.

    When the index has passage vectors but their model cannot be loaded now, it opens for keyword
    search only and says why (a warning, and ``semantic_off_reason``).

    The result is one consistent snapshot: every file is opened or mapped while opening, so later
    reads never see a rebuild's files; and when a rebuild swapped the folder while it was being
    opened (the manifest read from one index, files from the next), the opening starts again
    instead of reporting damage that is not there.
    """
    for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
        before = folder_identity(index_dir)
        try:
            opened = _open_once(index_dir, mmap)
        except (IndexNotFoundError, IndexFormatError, IndexMismatchError):
            if attempt < SNAPSHOT_ATTEMPTS and folder_identity(index_dir) != before:
                continue  # a rebuild swapped the folder mid-way: what looked damaged was two indexes mixed
            raise
        if folder_identity(index_dir) == before:
            return _with_encoder(opened, encoder)
    raise IndexMismatchError(
        f"The index at {index_dir} was replaced {SNAPSHOT_ATTEMPTS} times while it was being opened "
        "(builds running back to back?). Open it again when the builds are done."
    )


def folder_identity(index_dir: Path) -> tuple[int, ...] | None:
    """What changes when a rebuild swaps a new index in: the folder's and its manifest's file identity."""
    try:
        folder, manifest = os.stat(index_dir), os.stat(index_dir / MANIFEST_FILE)
    except OSError:
        return None
    return folder.st_dev, folder.st_ino, manifest.st_ino, manifest.st_mtime_ns, manifest.st_size


def _open_once(index_dir: Path, mmap: bool) -> OpenIndex:
    with reading_index(index_dir):  # permissions and I/O errors become one clear line
        manifest = open_manifest(index_dir)
        catalog = Catalog.load(index_dir, manifest.passages, manifest.articles, mmap_arrays=mmap)
        backend = open_backend(index_dir, manifest, catalog, mmap=mmap)
    encoder = None
    off_reason = manifest.semantic_off_reason
    if manifest.model is not None:
        try:
            encoder = load_index_encoder(manifest.model, index_dir)
        except ModelUnavailableError as error:
            off_reason = f"the index has passage vectors but its model cannot be loaded now: {error}"
            log.warning("semantic search is off: %s", off_reason)
            backend = dataclasses.replace(backend, dense=None, hybrid=None)
    return OpenIndex(index_dir, manifest, catalog, backend, encoder, off_reason)


def load_index_encoder(model: ModelInfo, index_dir: Path) -> Encoder:
    """The model the manifest records, checked to be the one that encoded the passages."""
    # A manifest may come from anyone: the model it names is read from disk, never downloaded.
    encoder = load_encoder(model_location(index_dir, model.name), allow_download=False)
    if model.fingerprint and encoder.fingerprint and encoder.fingerprint != model.fingerprint:
        raise IndexMismatchError(
            f"The model at {model.name} has changed since the index was built.",
            path=model.name,
            remedy=Remedy.REBUILD_WITH_MODEL,
        )
    if encoder.dimension != model.dimension:
        raise IndexMismatchError(
            f"Model {model.name} makes {encoder.dimension}-dimensional vectors but the index holds "
            f"{model.dimension}-dimensional ones.",
            path=model.name,
            remedy=Remedy.REBUILD_WITH_MODEL,
        )
    encoder.query_prompt, encoder.document_prompt = model.query_prompt, model.document_prompt
    return encoder


def _with_encoder(opened: OpenIndex, encoder: Encoder | None) -> OpenIndex:
    vectors = opened.manifest.vectors
    if encoder is None or vectors is None or opened.backend.dense is None:
        return opened
    if vectors.model_key != model_key(ModelInfo.from_dict(encoder.describe())):
        return opened
    return dataclasses.replace(opened, encoder=encoder)
