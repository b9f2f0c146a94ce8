"""manifest.json: what an index holds, how it was built, and the checks made before using it."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import platform
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import IndexFormatError, IndexMismatchError, IndexNotFoundError
from qa.ingest.sources import SUPPORTED_SUFFIXES
from qa.records import Skip

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
FORMAT_MARKER = "news-qa index"  # written into every manifest, so a qa index is recognisable as one


def missing_index(index_dir: Path) -> IndexNotFoundError:
    """The error for a folder that holds no index: its full path, what is there instead, and the fix."""
    index_dir = Path(index_dir)
    where = index_dir.resolve()
    build = f"Build one with `qa build --index {shlex.quote(str(index_dir))}`."
    if not index_dir.exists():
        return IndexNotFoundError(f"No index at {where}: the folder does not exist. {build}")
    if not index_dir.is_dir():
        return IndexNotFoundError(f"No index at {where}: it is a file. Give the folder `qa build` wrote the index to.")
    with contextlib.suppress(OSError):
        if any(entry.suffix.lower() in SUPPORTED_SUFFIXES for entry in index_dir.iterdir() if entry.is_file()):
            return IndexNotFoundError(
                f"No index at {where}: it holds articles, not an index. Give the index folder, or build one "
                f"from it with `qa build --corpus {shlex.quote(str(index_dir))} --index index`."
            )
    return IndexNotFoundError(f"No index at {where}: the folder has no {MANIFEST_FILE}. {build}")


@dataclass
class Manifest:
    qa_version: str
    mode: str  # "hybrid" when there are passage vectors, else "lexical"
    articles: int
    passages: int
    lexical: dict[str, Any]
    chunking: dict[str, Any]
    # {"path": ..., "files": {relative path: sha256}, "skipped": [{"path", "reason"}] for every file
    # (or line, page, attachment) that was not indexed}
    corpus: dict[str, Any]
    backend: str = "local"  # what searches the passages: "local" (bm25s + FAISS files in the folder), or another
    model: dict[str, Any] | None = None  # Encoder.describe() when semantic search is on
    semantic_off_reason: str | None = None
    dense: dict[str, Any] | None = None  # DenseIndex.describe(): exact or IVF-SQ8, nprobe, recall check
    vectors: dict[str, Any] | None = None  # {"model_key", "embedded", "reused"}: the passage-vector cache
    # How hybrid mode fuses the two rankings: {"method": "rrf", "k": 60} or
    # {"method": "interpolation", "lexical_weight": w}; None (older indexes) means RRF with k = 60.
    fusion: dict[str, Any] | None = None
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # index file -> {"bytes", "sha256"}
    versions: dict[str, str] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION
    format: str = FORMAT_MARKER

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"format": data.pop("format"), "format_version": data.pop("format_version"), **data}

    def skipped(self) -> list[Skip]:
        """What the build did not index, and why (nothing for indexes built before this was kept)."""
        return [Skip(str(row["path"]), str(row["reason"])) for row in self.corpus.get("skipped") or []]

    def semantic_layer(self) -> str:
        """Which semantic layer the index has, in one sentence for people."""
        model = self.model
        if model is None:
            return "none (keyword search only)"
        trained = model.get("self_trained")
        if trained:
            return (
                f"a model trained on this corpus ({_when(trained['trained_at'])}, "
                f"{trained['seconds']:g} s, {trained['vocab_size']:,} word pieces, {model['dimension']} dimensions)"
            )
        return f"{model['name']} (pretrained, {model['dimension']} dimensions)"

    def write(self, index_dir: Path) -> None:
        data = self.to_dict()
        data["checksum"] = _checksum(data)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        (index_dir / MANIFEST_FILE).write_text(text, encoding="utf-8")

    @classmethod
    def read(cls, index_dir: Path) -> Manifest:
        path = index_dir / MANIFEST_FILE
        if not path.is_file():
            raise missing_index(index_dir)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise IndexFormatError(f"{path} is unreadable ({error}). Rebuild the index with `qa build`.") from None
        if not isinstance(data, dict) or not isinstance(data.get("format_version"), int):
            raise IndexFormatError(f"{path} is not a qa index manifest. Rebuild the index with `qa build`.")
        version = data["format_version"]
        if version > FORMAT_VERSION:
            raise IndexFormatError(
                f"The index in {index_dir} was written by a newer qa (index format {version}; this qa "
                f"reads format {FORMAT_VERSION}). Upgrade qa, or rebuild the index with `qa build`."
            )
        if version < FORMAT_VERSION:
            raise IndexFormatError(
                f"The index in {index_dir} uses an old format ({version}). Rebuild it with `qa build`."
            )
        recorded = data.pop("checksum", None)
        if recorded != _checksum(data):
            raise IndexMismatchError(
                f"{path} does not match its own checksum: it was altered. Rebuild the index with `qa build`."
            )
        try:
            return cls(**{key: value for key, value in data.items() if key in cls.__dataclass_fields__})
        except TypeError as error:
            raise IndexFormatError(f"{path} is incomplete ({error}). Rebuild the index with `qa build`.") from None


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
