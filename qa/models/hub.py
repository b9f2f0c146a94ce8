"""Finding a model's files — one resolver for embedding models and cross-encoders — and loading them.

Order: a local folder; the bundled default model (verified file by file, qa/models/bundled.py);
the Hugging Face cache; then the hub, only when downloads are allowed. Opening an index never
downloads (``allow_download=False``): a model named by an index manifest — which may come from
anyone — is read from disk or not at all. ``HF_HUB_OFFLINE=1`` is honoured, and the hub is asked
at most once per process, with a bounded wait, so an offline machine never spends seconds on it.
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.checksums import sha256_file
from qa.errors import ModelUnavailableError
from qa.models.bundled import BUNDLED_MODEL, PINNED_FILES, REVISION, bundled_folder, check_digests

HUB_PROBE_SECONDS = 2.0
# Files that make up a model's identity (weights, configuration, vocabularies) for its fingerprint.
FINGERPRINT_SUFFIXES = (".safetensors", ".bin", ".json", ".txt", ".model")
_probes: dict[str, tuple[bool, str]] = {}
_probe_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where a model's files are, found without loading any weights."""

    name: str  # what an index records: the hub id, or the resolved folder
    path: str  # what the library opens: a folder, or a hub id (read from the cache or downloaded)
    origin: str  # "folder", "package", "cache" or "hub"
    revision: str | None
    fingerprint: str | None  # sha256 over a folder's weights and configuration
    detail: str  # where it comes from, for people


@dataclass(frozen=True, slots=True)
class Wording:
    """How messages name a kind of model, and the error they raise."""

    noun: str  # "Model", "Cross-encoder"
    missing: str  # "model", "cross-encoder": "No model folder at …"
    folder: str  # "sentence-transformers model folder", "CrossEncoder folder": "… is not a loadable …"
    error: type[ModelUnavailableError] = ModelUnavailableError
    hint: str = ""  # appended to "cannot be found" messages

    def fail(self, message: str) -> ModelUnavailableError:
        return self.error(f"{message} {self.hint}".strip())


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def folder_digests(folder: Path, every_file: bool = False) -> tuple[str, dict[str, str]]:
    """(fingerprint, {relative path: sha256}) of ``folder``, each file read once.

    The fingerprint covers the non-hidden weights and configuration files, so an index notices a
    changed model; the per-file digests cover those files, or with ``every_file`` all of them.
    """
    fingerprint = hashlib.sha256()
    digests: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.suffix in FINGERPRINT_SUFFIXES and not path.name.startswith("."):
            fingerprint.update(name.encode())
            digests[name] = sha256_file(path, also=fingerprint)
        elif every_file:
            digests[name] = sha256_file(path)
    return fingerprint.hexdigest(), digests


def hub_answers(model_id: str) -> tuple[bool, str]:
    """Whether the hub can be reached and knows ``model_id``: asked once per process per id, waiting at most
    HUB_PROBE_SECONDS (name lookups included, which a plain socket timeout does not bound)."""
    with _probe_lock:
        if model_id in _probes:
            return _probes[model_id]
    answer: list[tuple[bool, str]] = []
    asker = threading.Thread(target=lambda: answer.append(_ask_hub(model_id)), daemon=True)
    asker.start()
    asker.join(HUB_PROBE_SECONDS)
    result = answer[0] if answer else (False, f"the Hugging Face hub did not answer within {HUB_PROBE_SECONDS:g} s")
    with _probe_lock:
        _probes[model_id] = result
    return result


def _ask_hub(model_id: str) -> tuple[bool, str]:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    request = urllib.request.Request(f"{endpoint}/api/models/{model_id}", method="HEAD")
    try:
        urllib.request.urlopen(request, timeout=HUB_PROBE_SECONDS).close()
        return True, ""
    except urllib.error.HTTPError as error:
        if error.code in (401, 404):
            return False, f"the Hugging Face hub has no model named {model_id!r}"
        return True, ""  # the hub answered; let the real download report what is wrong
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return False, f"the Hugging Face hub cannot be reached ({reason})"


def _cached_revision(model_id: str) -> str | None:
    """The revision of ``model_id``'s cached snapshot (found by its modules.json or config.json), or None."""
    from huggingface_hub import try_to_load_from_cache

    for marker in ("modules.json", "config.json"):
        found = try_to_load_from_cache(model_id, marker)
        if isinstance(found, str) and "/snapshots/" in found:
            return found.split("/snapshots/")[1].split("/")[0]
    return None


def looks_like_path(name: str) -> bool:
    """A name meant as a folder: it starts like a path or has more separators than ``org/model``."""
    return name.startswith((".", "/", "~")) or os.sep in name.strip("/").replace("/", "", 1)


def find_model(name_or_path: str | Path, wording: Wording, *, allow_download: bool = True) -> ModelSource:
    """Where ``name_or_path`` would be loaded from, without loading it; raises ``wording.error`` saying why not.

    The bundled default is verified here, every file against its pinned sha256.
    """
    name = str(name_or_path)
    folder = Path(name).expanduser()
    if folder.is_dir():
        fingerprint, _ = folder_digests(folder)
        return ModelSource(str(folder.resolve()), str(folder), "folder", None, fingerprint, f"local folder {folder}")
    if looks_like_path(name):
        raise wording.fail(f"No {wording.missing} folder at {folder}.")
    if name == BUNDLED_MODEL:
        package = bundled_folder()
        fingerprint, digests = folder_digests(package, every_file=True)
        check_digests(package, digests, PINNED_FILES)
        return ModelSource(name, str(package), "package", REVISION, fingerprint, "bundled package, verified")
    revision = _cached_revision(name)
    if revision is not None:
        return ModelSource(name, name, "cache", revision, None, "Hugging Face cache")
    uncached = f"{wording.noun} {name} is not in the Hugging Face cache"
    if offline():
        raise wording.fail(f"{uncached} and downloads are off (HF_HUB_OFFLINE).")
    if not allow_download:
        raise wording.fail(f"{uncached}, and a model named by an index is never downloaded.")
    reachable, why = hub_answers(name)
    if not reachable:
        raise wording.fail(f"{uncached} and {why}.")
    return ModelSource(name, name, "hub", None, None, "Hugging Face hub (downloaded on first use)")


def load_model(source: ModelSource, wording: Wording, factory: Callable[..., Any]) -> tuple[Any, ModelSource]:
    """``factory(path, local_files_only=…)`` for ``source``; library failures become ``wording.error``.

    Returns the model and its source, with the revision filled in once a download has cached it.
    """
    quiet_libraries()
    local = source.origin != "hub"
    try:
        model = factory(source.path, local_files_only=local)
    except Exception as error:  # the libraries raise many types for a bad folder or a failed download
        why = f"{type(error).__name__}: {error}"
        if source.origin in ("folder", "package"):
            raise wording.error(f"{source.path} is not a loadable {wording.folder} ({why})") from None
        if source.origin == "cache":
            raise wording.error(
                f"{wording.noun} {source.name} is in the Hugging Face cache but cannot be loaded ({why})."
            ) from None
        raise wording.error(f"{wording.noun} {source.name} could not be downloaded ({why}).") from None
    if source.origin == "hub":
        source = ModelSource(source.name, source.path, "hub", _cached_revision(source.name), None, "Hugging Face hub")
    return model, source
