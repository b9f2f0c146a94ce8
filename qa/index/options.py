"""How an index is built: every choice of `qa build` in one value, handed to each stage of the build."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qa.index.dense import DenseSettings
from qa.index.duplicates import DuplicateSettings
from qa.index.lexical import LexicalSettings
from qa.ingest.sources import ReadOptions
from qa.models.encoder import DEFAULT_MODEL, Encoder
from qa.models.selftrain import TrainSettings

if TYPE_CHECKING:
    from qa.index.qdrant import QdrantSettings
    from qa.index.raybuild import RaySettings


@dataclass(frozen=True)
class BuildOptions:
    """Everything but the corpus and the index folder. ``None`` for a settings field means its defaults."""

    # The embedding model: a hub id or folder, "self" (train one on the corpus), None or "none"
    # (keywords only), or a loaded Encoder.
    model: str | Encoder | None = DEFAULT_MODEL
    require_dense: bool = False  # a model that cannot be used is an error, not a keyword-only index
    auto_self: bool = True  # when the model cannot be loaded, train one on a corpus large enough for it
    training: TrainSettings = field(default_factory=TrainSettings)  # budget and seed of a corpus-trained model
    lexical: LexicalSettings = field(default_factory=LexicalSettings)
    dense: DenseSettings = field(default_factory=DenseSettings)
    reuse_vectors: bool = True  # take unchanged passages' vectors from the index being replaced
    sentences: bool = True  # sentence vectors too, where the model's fusion weighs the best sentence
    split: bool = True  # each paragraph a passage (False: each article one passage, as evaluation sets come)
    duplicates: DuplicateSettings | None = field(default_factory=DuplicateSettings)  # wire copies (None: not grouped)
    strict: bool = False  # a corpus file that cannot be read is an error, not a skip
    reading: ReadOptions = field(default_factory=ReadOptions)  # how documents are read (OCR)
    progress: bool = False  # progress bars on the terminal
    batch_size: int = 32  # passages per encoder call
    ray: RaySettings | None = None  # run the build's stages on a Ray cluster (qa.index.raybuild), else here
    qdrant: QdrantSettings | None = None  # search backend: a Qdrant collection (qa.index.qdrant), else local files

    def __post_init__(self) -> None:
        for name, default in (
            ("training", TrainSettings),
            ("lexical", LexicalSettings),
            ("dense", DenseSettings),
            ("reading", ReadOptions),
        ):
            if getattr(self, name) is None:
                object.__setattr__(self, name, default())

    @classmethod
    def of(cls, options: BuildOptions | None = None, **changes: Any) -> BuildOptions:
        """``options`` (default: the defaults) with the fields named in ``changes`` set."""
        unknown = sorted(set(changes) - {field.name for field in dataclasses.fields(cls)})
        if unknown:
            raise TypeError(f"unknown build option {unknown[0]!r}")
        return dataclasses.replace(options or cls(), **changes)
