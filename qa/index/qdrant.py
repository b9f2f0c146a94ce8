"""The `qdrant` search backend's build stage: an index's passages written into a Qdrant collection.

One point per passage, its id the passage row: the dense vector (``dense``, cosine), a sparse
lexical vector made by our own analyzer (``lexical``: the passage field's terms, then the
bigram field's, each with its BM25 weight), and the payload that citations and filters need.
Two ways to weight the sparse vector (``QdrantSettings.sparse``): ``bm25`` stores our BM25
scores (IDF computed at build time, as the local index does), ``idf`` stores only the
term-frequency part and lets Qdrant's IDF modifier apply ``ln(1 + (N - n + 0.5) / (n + 0.5))``,
the same Lucene IDF, from its own live counts (docs/scale.md compares them).

A build writes a new collection (``<name>-<time>-<pid>-<random>``, marked as made by qa in its metadata)
and only then points the alias ``<name>`` at it and deletes the collection the alias named
before — only if qa made that one too. The index folder keeps the manifest, the catalog and the
term statistics (``qdrant/terms.json``) that questions are analysed with; the manifest names
the collection itself, so an index folder always searches the passages it was built with.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import EngineUnavailableError, IndexWriteError
from qa.index.arrays import NpyReader
from qa.index.catalog import NO_DAY, Catalog, day_number
from qa.index.lexical import LexicalWriter

DENSE, LEXICAL = "dense", "lexical"  # the collection's vector names
TERMS_FILE = "qdrant/terms.json"  # in the index folder
MADE_BY = "news-qa"  # collection metadata "created_by": only such collections are ever deleted
SPARSE_WEIGHTS = ("idf", "bm25")
INSTALL_HINT = "The Qdrant backend needs qdrant-client: pip install 'news-qa[qdrant]'."
UPLOAD_BATCH = 256  # points per upsert
_clients: dict[str, Any] = {}  # one client per server or local folder in a process (a local folder allows one)


@dataclass(frozen=True)
class QdrantSettings:
    """Where the collection lives (a server's URL, or a folder for Qdrant's local mode) and how it is written."""

    url: str | None = None  # http://host:6333; the API key, if any, is read from $QDRANT_API_KEY
    path: str | None = None  # local mode: a folder (one process at a time may open it)
    collection: str = "news-qa"  # the alias a build points at its new collection
    sparse: str = "idf"  # "idf": Qdrant's IDF modifier over our tf parts; "bm25": our BM25 weights

    def __post_init__(self) -> None:
        if (self.url is None) == (self.path is None):
            raise ValueError("give exactly one of url and path")
        if self.sparse not in SPARSE_WEIGHTS:
            raise ValueError(f"sparse must be one of {SPARSE_WEIGHTS}")

    @property
    def where(self) -> str:
        return self.url or f"the local Qdrant folder {self.path}"


def client_for(settings: QdrantSettings) -> Any:
    """A connected client (shared within this process), or EngineUnavailableError saying why not."""
    try:
        from qdrant_client import QdrantClient
    except ImportError:
        raise EngineUnavailableError(INSTALL_HINT) from None
    key = settings.url or str(Path(settings.path or "").resolve())
    if key not in _clients:
        try:
            if settings.url is not None:
                client = QdrantClient(url=settings.url, api_key=os.environ.get("QDRANT_API_KEY") or None)
                client.get_collections()  # fail here, with the reason, rather than at the first search
            else:
                Path(key).mkdir(parents=True, exist_ok=True)
                client = QdrantClient(path=key)
        except Exception as error:  # the client raises transport errors of several libraries
            raise EngineUnavailableError(f"Cannot open Qdrant at {settings.where}: {_reason(error)}") from None
        if not _clients:
            atexit.register(_close_all)  # while the interpreter still runs: the local client saves on close
        _clients[key] = client
    return _clients[key]


def _close_all() -> None:
    for client in _clients.values():
        with contextlib.suppress(Exception):
            client.close()
    _clients.clear()


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if "already accessed by another instance" in text:
        return "another process has this local folder open (local mode serves one process; use a Qdrant server)"
    return text


def sparse_vector(
    passage: tuple[np.ndarray, np.ndarray], bigram: tuple[np.ndarray, np.ndarray] | None, bigram_offset: int
) -> tuple[list[int], list[float]]:
    """One passage's sparse vector: its passage-field (term ids, weights), then its bigram-field ones with
    ids after the passage field's vocabulary."""
    indices, values = passage[0].tolist(), passage[1].tolist()
    if bigram is not None:
        indices += (bigram[0] + bigram_offset).tolist()
        values += bigram[1].tolist()
    return indices, values


def payload(row: int, article: Any, passage: Any) -> dict[str, Any]:
    """What a point carries for citations and filters (the text stays in the index folder's catalog)."""
    day = day_number(article.date)
    return {
        "row": row,
        "article_id": passage.article_id,
        "paragraph": passage.paragraph,
        "char_start": passage.char_start,
        "char_end": passage.char_end,
        "page": passage.page,
        "page_end": passage.page_end,
        "outlet": article.outlet or None,
        "date": article.date,
        "day": day if day != NO_DAY else None,  # an unreadable date is no date, as in the catalog
    }


def write_collection(
    settings: QdrantSettings, staging: Path, catalog: Catalog, lexical: LexicalWriter, dimension: int | None
) -> str:
    """Create a new collection and upload every passage of the index staged in ``staging`` (its catalog,
    ``vectors.npy`` unless ``dimension`` is None, and ``lexical``'s kept weights); returns its name.
    The collection is deleted again if anything fails."""
    from qdrant_client import models

    client = client_for(settings)
    # two builds in one second of one process (a retry, a test) must not meet: a random tail
    name = f"{settings.collection}-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"
    vectors = {DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE)} if dimension else {}
    modifier = models.Modifier.IDF if settings.sparse == "idf" else None
    client.create_collection(
        name,
        vectors_config=vectors,
        sparse_vectors_config={LEXICAL: models.SparseVectorParams(modifier=modifier)},
        metadata={"created_by": MADE_BY, "alias": settings.collection},
    )
    try:
        _upload(client, name, settings, staging, catalog, lexical, dimension)
        for field, schema in (("outlet", models.PayloadSchemaType.KEYWORD), ("day", models.PayloadSchemaType.INTEGER)):
            if settings.url is not None:  # local mode has no payload indexes (it scans)
                client.create_payload_index(name, field, field_schema=schema)
    except BaseException:
        client.delete_collection(name)
        raise
    return name


def _upload(
    client: Any,
    name: str,
    settings: QdrantSettings,
    staging: Path,
    catalog: Catalog,
    lexical: LexicalWriter,
    dimension: int | None,
) -> None:
    from qdrant_client import models

    from qa.index.dense import VECTORS_FILE

    vectors = NpyReader(staging / VECTORS_FILE) if dimension else None
    bigram_field = lexical.bigram_field
    offset = len(lexical.passage_field.vocab)
    use = 2 if settings.sparse == "idf" else 3  # the tf parts, or the BM25 scores, of FieldWriter.weights
    batch: list[tuple[Any, Any]] = []
    row = 0

    def flush() -> None:
        nonlocal row
        start, stop = row, row + len(batch)
        passage = _split(lexical.passage_field.weights(start, stop), use)
        bigram = _split(bigram_field.weights(start, stop), use) if bigram_field is not None else None
        dense = vectors[start:stop] if vectors is not None else None
        points = []
        for number, (article, passage_record) in enumerate(batch):
            indices, values = sparse_vector(passage[number], bigram[number] if bigram else None, offset)
            vector: dict[str, Any] = {LEXICAL: models.SparseVector(indices=indices, values=values)}
            if dense is not None:
                vector[DENSE] = dense[number].tolist()
            points.append(
                models.PointStruct(
                    id=start + number, vector=vector, payload=payload(start + number, article, passage_record)
                )
            )
        client.upsert(name, points=points, wait=True)
        row = stop
        batch.clear()

    for article, passages in catalog.scan():
        for passage_record in passages:
            batch.append((article, passage_record))
            if len(batch) == UPLOAD_BATCH:
                flush()
    if batch:
        flush()


def _split(
    weights: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], use: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per document, (term ids, chosen weights) from FieldWriter.weights' flat arrays."""
    sizes, terms, values = weights[0], weights[1], weights[use]
    ends = np.cumsum(sizes)
    starts = ends - sizes
    return [(terms[a:b], values[a:b]) for a, b in zip(starts.tolist(), ends.tolist())]


def write_terms(index_dir: Path, lexical: LexicalWriter) -> None:
    """``qdrant/terms.json``: the passage field's terms (in id order) with their document counts, and the
    bigram field's terms — what a question is turned into a sparse vector with, and what highlighting and
    confidence read IDF from."""
    passage = lexical.passage_field
    df = passage.document_frequencies()
    terms = sorted(passage.vocab, key=passage.vocab.__getitem__)
    bigram = lexical.bigram_field
    bigrams = sorted(bigram.vocab, key=bigram.vocab.__getitem__) if bigram is not None else []
    (index_dir / TERMS_FILE).parent.mkdir(parents=True, exist_ok=True)
    data = {"documents": passage.documents, "terms": [[term, int(df[passage.vocab[term]])] for term in terms]}
    data["bigrams"] = bigrams
    (index_dir / TERMS_FILE).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def point_alias(settings: QdrantSettings, collection: str) -> None:
    """Point the alias ``settings.collection`` at ``collection``. The collection it named before is kept
    (a server still answering from the replaced index folder searches it) until the next build; older ones
    made by qa under this alias are deleted. A collection qa did not make is never touched."""
    from qdrant_client import models

    client = client_for(settings)
    alias = settings.collection
    previous = next((a.collection_name for a in client.get_aliases().aliases if a.alias_name == alias), None)
    operations: list[Any] = []
    if previous is not None:
        operations.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias)))
    operations.append(
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=collection, alias_name=alias))
    )
    client.update_collection_aliases(change_aliases_operations=operations)  # one atomic change on a server
    for other in client.get_collections().collections:
        if other.name not in (collection, previous) and _metadata(client, other.name) == {
            "created_by": MADE_BY,
            "alias": alias,
        }:
            client.delete_collection(other.name)


def check_alias_free(settings: QdrantSettings) -> None:
    """Refuse, before any work, a ``--collection`` name that is a collection (not an alias) qa did not make."""
    client = client_for(settings)
    names = {collection.name for collection in client.get_collections().collections}
    if settings.collection in names:
        raise IndexWriteError(
            f"{settings.where} already has a collection named {settings.collection!r}"
            + ("" if made_by_qa(client, settings.collection) else " that qa did not make")
            + "; qa names its collections by an alias. Choose another collection name."
        )


def _metadata(client: Any, collection: str) -> dict[str, Any]:
    try:
        return dict(client.get_collection(collection).config.metadata or {})
    except Exception:  # gone already, or unreadable: not ours to delete
        return {}


def made_by_qa(client: Any, collection: str) -> bool:
    return _metadata(client, collection).get("created_by") == MADE_BY


def delete_collection(settings: QdrantSettings, collection: str) -> None:
    """Delete a collection this build made (a build that failed after writing it)."""
    client = client_for(settings)
    if made_by_qa(client, collection):
        client.delete_collection(collection)
