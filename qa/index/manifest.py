"""manifest.json: what an index holds, how it was built, and the checks made before using it."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from qa.errors import IndexFormatError, IndexMismatchError, IndexNotFoundError, Remedy
from qa.index.dense import DenseInfo
from qa.index.lexical import LexicalSettings
from qa.ingest.sources import SUPPORTED_SUFFIXES
from qa.models.selftrain import TrainReport
from qa.records import Skip
from qa.settings import FusionSettings, Mode

# 2: typed manifest (catalog/ always present, a backend named); format 1 indexes are refused with a rebuild hint.
FORMAT_VERSION = 2
MANIFEST_FILE = "manifest.json"
FORMAT_MARKER = "news-qa index"  # written into every manifest, so a qa index is recognisable as one
T = TypeVar("T")


def _known(cls: type[T], data: dict[str, Any]) -> T:
    """``cls`` from the keys of ``data`` it has fields for (keys added by a later qa are ignored)."""
    fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
    return cls(**{key: value for key, value in data.items() if key in fields})


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """The embedding model that encoded the passages: what questions must be encoded with."""

    name: str  # hub id, absolute folder, or "model" (trained on the corpus, kept inside the index)
    dimension: int
    revision: str | None = None
    fingerprint: str | None = None  # sha256 over the model's files, when loaded from a folder
    query_prompt: str = ""  # prepended to every question ...
    document_prompt: str = ""  # ... and to every passage before encoding
    max_tokens: int | None = None
    self_trained: TrainReport | None = None  # how it was trained, for a model trained on the corpus

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.self_trained is None:
            del data["self_trained"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelInfo:
        trained = data.get("self_trained")
        info = _known(cls, {**data, "self_trained": None})
        return replace(info, self_trained=_known(TrainReport, trained)) if trained else info


@dataclass(frozen=True, slots=True)
class VectorsInfo:
    """The passage vectors of this build: the model they belong to (the reuse key) and how many were reused."""

    model_key: str
    embedded: int
    reused: int


@dataclass(frozen=True, slots=True)
class SentencesInfo:
    """The sentence vectors of this build (qa.index.sentences): how many, and how many were embedded or reused."""

    count: int
    embedded: int
    reused: int


@dataclass(frozen=True, slots=True)
class CopiesInfo:
    """How wire copies were grouped (qa.index.duplicates settings) and how many were found."""

    method: str
    threshold: float
    shingle_words: int
    min_words: int
    num_perm: int
    seed: int
    groups: int
    grouped_passages: int


@dataclass(frozen=True, slots=True)
class ChunkingInfo:
    """How articles were cut into passages."""

    max_tokens: int  # the longest passage, in tokens of ``token_counter``
    token_counter: str  # "model tokenizer" or "word estimate"
    title_prefix: bool = True  # the article title counted in every passage's window
    split: bool = True  # paragraphs split (False: each article one passage, as evaluation sets come)


@dataclass(frozen=True, slots=True)
class CorpusInfo:
    """What was indexed: the corpus folder, every file indexed (relative path → sha256), and what was skipped."""

    path: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    skipped: tuple[Skip, ...] = ()  # every file (or line, page, attachment) not indexed, with the reason

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "files": self.files, "skipped": [skip.to_dict() for skip in self.skipped]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorpusInfo:
        skipped = tuple(Skip(str(row["path"]), str(row["reason"])) for row in data.get("skipped") or [])
        return cls(data.get("path"), dict(data.get("files") or {}), skipped)


def missing_index(index_dir: Path) -> IndexNotFoundError:
    """The error for a folder that holds no index: its full path, what is there instead, and the remedy."""
    index_dir = Path(index_dir)
    where = index_dir.resolve()
    if not index_dir.exists():
        return IndexNotFoundError(f"No index at {where}: the folder does not exist.", path=index_dir)
    if not index_dir.is_dir():
        return IndexNotFoundError(
            f"No index at {where}: it is a file.", path=index_dir, remedy=Remedy.GIVE_INDEX_FOLDER
        )
    with contextlib.suppress(OSError):
        if any(entry.suffix.lower() in SUPPORTED_SUFFIXES for entry in index_dir.iterdir() if entry.is_file()):
            return IndexNotFoundError(
                f"No index at {where}: it holds articles, not an index.",
                path=index_dir,
                remedy=Remedy.BUILD_FROM_CORPUS,
            )
    return IndexNotFoundError(f"No index at {where}: the folder has no {MANIFEST_FILE}.", path=index_dir)


@dataclass(frozen=True, slots=True)
class QdrantInfo:
    """Where a `qdrant`-backend index's passages are: a server's URL or a local-mode folder, the collection
    this index was built into, the alias that names the newest build, and how sparse vectors are weighted."""

    collection: str
    alias: str
    sparse: str  # "idf" (Qdrant's IDF modifier over our tf parts) or "bm25" (our BM25 weights)
    url: str | None = None
    path: str | None = None


@dataclass
class Manifest:
    """What an index holds and how it was built; written last, so a folder with one is a finished index."""

    qa_version: str
    mode: Mode  # "hybrid" when there are passage vectors, else "lexical"
    articles: int
    passages: int
    lexical: LexicalSettings
    chunking: ChunkingInfo
    corpus: CorpusInfo
    backend: str = "local"  # what searches the passages: "local" (bm25s + FAISS files in the folder), or another
    model: ModelInfo | None = None  # when semantic search is on
    semantic_off_reason: str | None = None
    dense: DenseInfo | None = None  # the vector index: exact or IVF-SQ8, nprobe, recall check
    vectors: VectorsInfo | None = None
    sentences: SentencesInfo | None = None  # sentence vectors, when the fusion weighs the best sentence
    fusion: FusionSettings | None = None  # how hybrid mode fuses (None without vectors)
    duplicates: CopiesInfo | None = None  # how wire copies were grouped (None: not grouped)
    qdrant: QdrantInfo | None = None  # the collection, for the "qdrant" backend
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # index file -> {"bytes", "sha256"}
    versions: dict[str, str] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION
    format: str = FORMAT_MARKER

    def to_dict(self) -> dict[str, Any]:
        parts: dict[str, Any] = {
            "lexical": self.lexical.to_dict(),
            "chunking": asdict(self.chunking),
            "corpus": self.corpus.to_dict(),
            "model": self.model.to_dict() if self.model else None,
            "dense": self.dense.to_dict() if self.dense else None,
            "vectors": asdict(self.vectors) if self.vectors else None,
            "sentences": asdict(self.sentences) if self.sentences else None,
            "fusion": self.fusion.to_dict() if self.fusion else None,
            "duplicates": asdict(self.duplicates) if self.duplicates else None,
            "qdrant": asdict(self.qdrant) if self.qdrant else None,
        }
        data = {name: parts.get(name, getattr(self, name)) for name in self.__dataclass_fields__}
        return {"format": data.pop("format"), "format_version": data.pop("format_version"), **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """The manifest in ``data`` (as :meth:`to_dict` writes it); raises KeyError, TypeError or ValueError."""

        def part(name: str, read: Callable[[dict[str, Any]], Any]) -> Any:
            value = data.get(name)
            return read(value) if value is not None else None

        if data.get("mode") not in ("lexical", "hybrid"):
            raise ValueError(f"unknown mode {data.get('mode')!r}")
        typed = {
            "lexical": LexicalSettings.from_dict(data["lexical"]),
            "chunking": _known(ChunkingInfo, data["chunking"]),
            "corpus": CorpusInfo.from_dict(data["corpus"]),
            "model": part("model", ModelInfo.from_dict),
            "dense": part("dense", DenseInfo.from_dict),
            "vectors": part("vectors", lambda value: _known(VectorsInfo, value)),
            "sentences": part("sentences", lambda value: _known(SentencesInfo, value)),
            "fusion": part("fusion", FusionSettings.from_dict),
            "duplicates": part("duplicates", lambda value: _known(CopiesInfo, value)),
            "qdrant": part("qdrant", lambda value: _known(QdrantInfo, value)),
        }
        return _known(cls, {**data, **typed})

    def skipped(self) -> list[Skip]:
        """What the build did not index, and why."""
        return list(self.corpus.skipped)

    def semantic_layer(self) -> str:
        """Which semantic layer the index has, in one sentence for people."""
        model = self.model
        if model is None:
            return "none (keyword search only)"
        trained = model.self_trained
        if trained:
            return (
                f"a model trained on this corpus ({_when(trained.trained_at)}, "
                f"{trained.seconds:g} s, {trained.vocab_size:,} word pieces, {model.dimension} dimensions)"
            )
        return f"{model.name} (pretrained, {model.dimension} dimensions)"

    def checksum(self) -> str:
        """The checksum manifest.json records for itself: sha256 of every other field, in canonical JSON."""
        return _checksum(self.to_dict())

    def write(self, index_dir: Path) -> None:
        data = self.to_dict()
        data["checksum"] = _checksum(data)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        (index_dir / MANIFEST_FILE).write_text(text, encoding="utf-8")

    @classmethod
    def read(cls, index_dir: Path, older: bool = False) -> Manifest:
        """The checked manifest of the index in ``index_dir``. Only with ``older`` is an index of an older
        format read too (a rebuild reuses its passage vectors); searching one needs a rebuild."""
        path = index_dir / MANIFEST_FILE
        if not path.is_file():
            raise missing_index(index_dir)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise IndexFormatError(f"{path} is unreadable ({error}).", path=path) from None
        if not isinstance(data, dict) or not isinstance(data.get("format_version"), int):
            raise IndexFormatError(f"{path} is not a qa index manifest.", path=path)
        version = data["format_version"]
        if version > FORMAT_VERSION:
            raise IndexFormatError(
                f"The index in {index_dir} was written by a newer qa (index format {version}; this qa "
                f"reads format {FORMAT_VERSION}).",
                path=index_dir,
                remedy=Remedy.UPGRADE,
            )
        if version < FORMAT_VERSION and not older:
            raise IndexFormatError(f"The index in {index_dir} uses an old format ({version}).", path=index_dir)
        recorded = data.pop("checksum", None)
        if recorded != _checksum(data):
            raise IndexMismatchError(f"{path} does not match its own checksum: it was altered.", path=path)
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise IndexFormatError(f"{path} is incomplete ({error}).", path=path) from None


def is_qa_index(folder: Path) -> bool:
    """Whether ``folder`` holds a qa index: a manifest that parses, with the format marker or, for
    indexes written before the marker, a self-checksum that verifies. Only such a folder may be replaced."""
    path = Path(folder) / MANIFEST_FILE
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 1 << 24:
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(data, dict) or not isinstance(data.get("format_version"), int):
        return False
    if data.get("format") == FORMAT_MARKER:
        return True
    recorded = data.pop("checksum", None)
    return "qa_version" in data and recorded == _checksum(data)


def _when(timestamp: str) -> str:
    """An ISO 8601 UTC timestamp as people read it: 2026-11-21 22:50 UTC."""
    try:
        moment = dt.datetime.fromisoformat(timestamp).astimezone(dt.UTC)
    except (TypeError, ValueError):
        return str(timestamp)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _checksum(data: dict[str, Any]) -> str:
    """sha256 of the manifest's own content (every field but the checksum), in canonical JSON."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("faiss-cpu", "bm25s", "sentence-transformers", "numpy", "torch"):
        with contextlib.suppress(PackageNotFoundError):
            found[package] = version(package)
    return found
