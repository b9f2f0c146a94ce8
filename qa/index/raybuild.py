"""`qa build --engine ray`: the build's stages on a Ray cluster, assembling the same index folder as a local build.

    corpus files ──read, logical lines (Ray tasks)──► boilerplate lines (driver) ──clean (Ray tasks)──► articles
    articles ──split, catalog, BM25 (driver: qa.index.writer, as locally)──► passages
    passages ──embed (Ray Data map_batches over an actor pool of encoders; one GPU each when the cluster has GPUs)
            ──► vectors ──► FAISS (driver)

Every stage runs the functions a local build runs; only where they run differs, so the index is
the same: identical catalog and BM25 files, vectors equal within float tolerance (an encoder's
batches differ). Ray is the optional extra ``news-qa[ray]``. Ray tasks and actors read the corpus
files and the model where the driver names them, so on a cluster both must be at the same path
on every node (a shared filesystem, or the model installed in every node's environment).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import EngineUnavailableError
from qa.ingest.boilerplate import repeated_lines
from qa.ingest.corpus import (
    CorpusFile,
    CorpusLoad,
    FileRead,
    FolderCheck,
    Gathered,
    clean_document,
    corpus_files,
    finish_load,
    keep_articles,
    read_corpus_file,
)
from qa.ingest.sources import RawDocument, ReadOptions
from qa.records import Article, Skip

FILES_PER_TASK = 64  # corpus files read by one Ray task
DOCUMENTS_PER_TASK = 256  # documents cleaned by one Ray task
BLOCK_ROWS = 1024  # passages per Ray Data block (the unit an encoder actor takes)
INSTALL_HINT = "The Ray engine needs Ray: pip install 'news-qa[ray]' (or build without --engine ray)."
log = logging.getLogger("qa")


@dataclass(frozen=True)
class RaySettings:
    """Where the Ray cluster is and how the embedding stage uses it."""

    address: str | None = None  # None: start Ray on this machine; "auto" or ray://host:10001 for a cluster
    actors: int | None = None  # encoder actors (default: one per GPU, else one per CPU of the cluster)
    cpus_per_actor: float = 1.0


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EngineUnavailableError(INSTALL_HINT) from None
    return ray


def connect(settings: RaySettings) -> Any:
    """The ``ray`` module, connected to the cluster at ``settings.address`` (or a Ray started here)."""
    ray = _ray()
    if not ray.is_initialized():
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        try:
            ray.init(address=settings.address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = settings.address or "this machine"
            raise EngineUnavailableError(f"Cannot start or reach Ray at {where}: {error}") from None
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # vectors come back in passage order
    context.enable_progress_bars = False
    return ray


# -- ingest: the same functions as qa.ingest.corpus.load_corpus, in Ray tasks -------------------


def _read_files(files: Sequence[CorpusFile], options: ReadOptions) -> list[FileRead]:
    return [read_corpus_file(file, options) for file in files]


def _clean_documents(
    documents: Sequence[RawDocument], lines: Sequence[list[str]], repeated: set[str]
) -> tuple[list[Article | Skip], list[str]]:
    warnings: list[str] = []
    return [clean_document(doc, doc_lines, repeated, warnings) for doc, doc_lines in zip(documents, lines)], warnings


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_corpus_on_ray(
    corpus_dir: Path | str,
    strict: bool,
    settings: RaySettings,
    options: ReadOptions | None = None,
    skip_folder: FolderCheck | None = None,
) -> CorpusLoad:
    """What :func:`qa.ingest.corpus.load_corpus` returns, with files read and documents cleaned in Ray tasks.

    Deciding which lines are boilerplate looks at every document, so that step, the
    de-duplication (the first copy of a text wins) and making ids unique run on the driver, in
    corpus order.
    """
    ray = connect(settings)
    load = CorpusLoad(Path(corpus_dir), [])
    files = corpus_files(corpus_dir, load.skipped, skip_folder, load.passed)
    read = ray.remote(_read_files)
    quiet = dataclasses.replace(options or ReadOptions(), progress=False)  # no progress bars inside tasks
    gathered = Gathered()
    chunks = list(_chunks(files, FILES_PER_TASK))
    for first, reads in zip(range(0, len(files), FILES_PER_TASK), ray.get([read.remote(c, quiet) for c in chunks])):
        for number, result in enumerate(reads, start=first):
            gathered.add(load, number, result)
    repeated = ray.put(repeated_lines(gathered.lines))
    clean = ray.remote(_clean_documents)
    pending = [
        clean.remote(docs, doc_lines, repeated)
        for docs, doc_lines in zip(
            _chunks(gathered.documents, DOCUMENTS_PER_TASK), _chunks(gathered.lines, DOCUMENTS_PER_TASK)
        )
    ]
    cleaned: list[Article | Skip] = []
    for found, warnings in ray.get(pending):
        cleaned.extend(found)
        load.warnings.extend(warnings)
    keep_articles(load, zip(cleaned, gathered.source))
    return finish_load(load, strict)


# -- embedding: Ray Data over an actor pool of encoders ----------------------------------------


class _Encode:
    """A Ray Data actor: loads the encoder once, then embeds batches of passage documents."""

    def __init__(self, model: str, batch_size: int) -> None:
        from qa.models.encoder import load_encoder

        self.encoder = load_encoder(model, allow_download=False)
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch["text"]]
        return {"vector": self.encoder.encode_passages(texts, batch_size=self.batch_size)}


@dataclass
class RayEmbedder:
    """Embeds on the Ray cluster: documents go to the object store a chunk at a time, then one Ray Data
    pipeline maps them through the actor pool; vectors come back in document order."""

    model: str  # a model folder (or an id cached on every node)
    settings: RaySettings
    batch_size: int = 32  # passages per encoder call

    def embed(self, chunks: Iterable[list[str]]) -> Iterator[np.ndarray]:
        import pyarrow as pa

        ray = connect(self.settings)
        # Blocks of BLOCK_ROWS documents: Ray Data hands whole blocks to actors, so this is what spreads the work.
        refs = [ray.put(pa.table({"text": block})) for chunk in chunks for block in _chunks(chunk, BLOCK_ROWS)]
        if not refs:
            return
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        actors = self.settings.actors or (gpus or max(1, int(resources.get("CPU", 1) / self.settings.cpus_per_actor)))
        actors = min(actors, len(refs))  # an actor without a block of its own would only load the model
        log.info("embedding on Ray with %d encoder actor(s)%s", actors, " on GPUs" if gpus else "")
        dataset = ray.data.from_arrow_refs(refs).map_batches(
            _Encode,
            fn_constructor_args=(self.model, self.batch_size),
            compute=ray.data.ActorPoolStrategy(size=actors),
            batch_size=BLOCK_ROWS,
            batch_format="numpy",
            num_gpus=1 if gpus else None,
            num_cpus=self.settings.cpus_per_actor,
        )
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            yield np.asarray(batch["vector"], dtype=np.float32)
