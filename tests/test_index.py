"""The index folder: what it holds, loading it back, and every way it can be wrong."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa.errors import (
    IndexFormatError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
    ModelUnavailableError,
    Remedy,
)
from qa.index.build import build_index
from qa.index.manifest import FORMAT_VERSION
from qa.search.retriever import Retriever

QUESTION = "How many traffickers did the FIA arrest in Gujranwala?"


def _answers(retriever: Retriever) -> list[tuple[str, int, float]]:
    return [(h.passage.article_id, h.passage.paragraph, round(h.score, 5)) for h in retriever.search(QUESTION, k=5)]


def test_lexical_index_contents_and_manifest(lexical_index, seed_corpus):
    names = sorted(p.relative_to(lexical_index).as_posix() for p in lexical_index.rglob("*") if p.is_file())
    assert "manifest.json" in names and "articles.jsonl" in names and "passages.jsonl" in names
    assert any(name.startswith("lexical/") for name in names)
    assert not any(name.endswith((".pkl", ".pickle")) for name in names)
    manifest = json.loads((lexical_index / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION and manifest["backend"] == "local"
    assert manifest["mode"] == "lexical" and manifest["model"] is None
    assert manifest["semantic_off_reason"] == 'semantic search was turned off (model "none")'
    assert manifest["articles"] == 5
    assert manifest["corpus"]["files"].keys() == {p.name for p in seed_corpus.glob("*.txt")}
    assert set(manifest["files"]) == set(names) - {"manifest.json"}
    assert {"faiss-cpu", "bm25s", "python"} <= manifest["versions"].keys()
    lines = (lexical_index / "passages.jsonl").read_text().splitlines()
    assert len(lines) == manifest["passages"]
    assert {"article_id", "paragraph", "char_start", "char_end", "text"} <= json.loads(lines[0]).keys()


def test_no_index_file_is_a_pickle(lexical_index, hybrid_index):
    for folder in (lexical_index, hybrid_index):
        for path in folder.rglob("*.npy"):
            np.load(path, allow_pickle=False)  # raises on object arrays
        for path in folder.rglob("*"):
            if path.is_file():
                assert path.read_bytes()[:2] != b"\x80\x04", f"{path} looks like a pickle"


def test_every_stored_passage_is_an_exact_slice_of_its_stored_article(hybrid_index):
    retriever = Retriever.load(hybrid_index)
    for passage in retriever.passages:
        article = retriever.articles[passage.article_id]
        assert article.text[passage.char_start : passage.char_end] == passage.text


def test_hybrid_manifest_records_the_model(hybrid_index, static_model_dir):
    manifest = json.loads((hybrid_index / "manifest.json").read_text())
    assert manifest["mode"] == "hybrid"
    assert manifest["model"]["name"] == str(static_model_dir.resolve())
    assert manifest["model"]["dimension"] == 64
    assert manifest["model"]["query_prompt"] == ""
    assert len(manifest["model"]["fingerprint"]) == 64
    assert "dense.faiss" in manifest["files"]


def test_save_load_round_trip_gives_identical_answers(tmp_path, seed_corpus, static_model_dir):
    first = Retriever.build(seed_corpus, tmp_path / "index", model=str(static_model_dir))
    again = Retriever.load(tmp_path / "index")
    assert again.mode == first.mode == "hybrid"
    assert _answers(again) == _answers(first)
    assert again.passages == first.passages and again.articles == first.articles


def test_model_that_cannot_be_loaded_gives_a_lexical_index(tmp_path, seed_corpus, caplog):
    report = build_index(seed_corpus, tmp_path / "index", model="no-such-org/no-such-model")
    assert report.manifest.mode == "lexical"
    assert "not in the Hugging Face cache" in report.manifest.semantic_off_reason
    assert any(
        m.startswith("semantic search is off:") and "sentence-transformers folder as the model" in m
        for m in caplog.messages
    )
    assert Retriever.load(tmp_path / "index").mode == "lexical"


def test_require_dense_makes_a_missing_model_an_error(tmp_path, seed_corpus):
    with pytest.raises(ModelUnavailableError, match="no-such-model"):
        build_index(seed_corpus, tmp_path / "index", model="no-such-org/no-such-model", require_dense=True)
    assert not (tmp_path / "index").exists()


def test_hub_id_resolves_from_the_hugging_face_cache(tmp_path, seed_corpus, static_model_dir, monkeypatch):
    """A model id is looked up in the HF cache layout (models--org--name/snapshots/<rev>) offline."""
    cache = tmp_path / "hf"
    snapshot = cache / "models--tiny-org--tiny-static" / "snapshots" / ("a" * 40)
    shutil.copytree(static_model_dir, snapshot)
    (cache / "models--tiny-org--tiny-static" / "refs").mkdir()
    (cache / "models--tiny-org--tiny-static" / "refs" / "main").write_text("a" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    report = build_index(seed_corpus, tmp_path / "index", model="tiny-org/tiny-static")
    assert report.manifest.model.name == "tiny-org/tiny-static"
    assert report.manifest.model.revision == "a" * 40


def test_missing_index_says_to_build(tmp_path):
    with pytest.raises(
        IndexNotFoundError, match=r"No index at .*nothing: the folder does not exist\. Build an index"
    ) as missing:
        Retriever.load(tmp_path / "nothing")
    assert missing.value.remedy is Remedy.BUILD and missing.value.path == tmp_path / "nothing"
    assert "qa build" not in str(missing.value)  # the library names no command; the CLI and page do


def _copy(index: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(index, target)
    return target


def test_truncated_file_is_reported_by_name(tmp_path, lexical_index):
    index = _copy(lexical_index, tmp_path)
    path = index / "passages.jsonl"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(IndexMismatchError, match="passages.jsonl has .* bytes but the manifest says"):
        Retriever.load(index)


def test_missing_file_is_reported_by_name(tmp_path, hybrid_index):
    index = _copy(hybrid_index, tmp_path)
    (index / "dense.faiss").unlink()
    with pytest.raises(IndexFormatError, match="dense.faiss is missing"):
        Retriever.load(index)


def test_corrupt_manifest_is_a_format_error(tmp_path, lexical_index):
    index = _copy(lexical_index, tmp_path)
    (index / "manifest.json").write_text("{not json")
    with pytest.raises(IndexFormatError, match="manifest.json is unreadable"):
        Retriever.load(index)


def test_newer_format_version_asks_to_upgrade(tmp_path, lexical_index):
    index = _copy(lexical_index, tmp_path)
    manifest = json.loads((index / "manifest.json").read_text())
    manifest["format_version"] = 99
    (index / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFormatError, match="written by a newer qa .*Upgrade qa"):
        Retriever.load(index)


def test_count_mismatch_is_detected(tmp_path, lexical_index):
    from qa.index.manifest import Manifest

    index = _copy(lexical_index, tmp_path)
    manifest = Manifest.read(index)
    manifest.passages += 1  # a manifest that is intact but disagrees with the files
    manifest.write(index)
    with pytest.raises(IndexMismatchError, match="manifest says"):
        Retriever.load(index)


def test_hand_edited_manifest_is_detected(tmp_path, lexical_index):
    index = _copy(lexical_index, tmp_path)
    path = index / "manifest.json"
    path.write_text(path.read_text().replace('"k1": 0.9', '"k1": 1.9'))
    with pytest.raises(IndexMismatchError, match="manifest.json does not match its own checksum"):
        Retriever.load(index)


def test_changed_model_folder_is_detected(tmp_path, seed_corpus):
    from tests.support.tiny_models import build_static_model

    model = build_static_model(tmp_path / "model", seed_corpus, seed=1)
    build_index(seed_corpus, tmp_path / "index", model=str(model))
    build_static_model(model, seed_corpus, seed=2)  # same folder, new weights
    with pytest.raises(IndexMismatchError, match="has changed since the index was built"):
        Retriever.load(tmp_path / "index")


def test_refuses_to_replace_a_folder_that_is_not_an_index(tmp_path, seed_corpus):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.txt").write_text("precious")
    with pytest.raises(IndexWriteError, match="is not a qa index; refusing to replace it"):
        build_index(seed_corpus, tmp_path / "docs", model="none")
    assert (tmp_path / "docs" / "thesis.txt").read_text() == "precious"


def test_rebuild_replaces_the_index_and_leaves_no_staging_folder(tmp_path, corpus_copy):
    build_index(corpus_copy, tmp_path / "index", model="none")
    (corpus_copy / "extra.txt").write_text(
        "Flood update\n\nHeavy rain flooded large parts of Lahore on Saturday, officials said.\n", encoding="utf-8"
    )
    build_index(corpus_copy, tmp_path / "index", model="none")
    assert Retriever.load(tmp_path / "index").manifest.articles == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "index"]


BUILD_SCRIPT = """
import sys
from qa.index.build import build_index
build_index(sys.argv[1], sys.argv[2], model=sys.argv[3])
"""


def _big_corpus(folder: Path, articles: int) -> Path:
    folder.mkdir()
    words = ["rain", "flood", "river", "police", "court", "election", "trade", "border", "market", "school", "hospital"]
    for n in range(articles):
        body = "\n\n".join(
            " ".join(words[(n + i + j) % len(words)] for j in range(40)).capitalize() + "." for i in range(8)
        )
        (folder / f"story-{n:05d}.txt").write_text(f"Story {n}\n\n{body}\n", encoding="utf-8")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("wait_for", ["staging folder exists", "staging folder has files"])
def test_build_killed_midway_leaves_the_previous_index_loadable(tmp_path, seed_corpus, static_model_dir, wait_for):
    index = tmp_path / "index"
    build_index(seed_corpus, index, model=str(static_model_dir))
    before = _answers(Retriever.load(index))
    big = _big_corpus(tmp_path / "big", 3000)
    process = subprocess.Popen([sys.executable, "-c", BUILD_SCRIPT, str(big), str(index), str(static_model_dir)])
    staging = tmp_path / f"index.building-{process.pid}"
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if staging.is_dir() and (wait_for == "staging folder exists" or any(staging.iterdir())):
            break
        time.sleep(0.005)
    assert process.poll() is None, "the build finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    after = Retriever.load(index)
    assert after.manifest.articles == 5
    assert _answers(after) == before
    build_index(seed_corpus, index, model="none")  # the next build cleans the dead build's staging folder
    assert not staging.exists()


@pytest.mark.parametrize(
    "manifest",
    [
        '{"name": "PWA", "start_url": "/"}',  # a web app's manifest
        '{"format_version": 1, "qa_version": "0.1.0"}',  # looks like ours, but no marker and no valid checksum
        "not json at all",
    ],
)
def test_refuses_a_folder_whose_manifest_is_not_a_qa_manifest(tmp_path, seed_corpus, manifest):
    site = tmp_path / "site"
    (site / "img").mkdir(parents=True)
    (site / "manifest.json").write_text(manifest)
    (site / "index.html").write_text("<h1>my site</h1>")
    (site / "img" / "logo.png").write_bytes(b"\x89PNG")
    before = sorted((p.relative_to(site).as_posix(), p.read_bytes() if p.is_file() else b"") for p in site.rglob("*"))
    with pytest.raises(IndexWriteError, match="is not a qa index; refusing to replace it"):
        build_index(seed_corpus, site, model="none")
    after = sorted((p.relative_to(site).as_posix(), p.read_bytes() if p.is_file() else b"") for p in site.rglob("*"))
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_refuses_to_build_into_the_corpus_folder_that_has_a_manifest(tmp_path, corpus_copy):
    (corpus_copy / "manifest.json").write_text("{}")
    files = sorted(p.name for p in corpus_copy.iterdir())
    with pytest.raises(IndexWriteError, match="is not a qa index"):
        build_index(corpus_copy, corpus_copy, model="none")
    assert sorted(p.name for p in corpus_copy.iterdir()) == files


def test_a_built_index_is_recognised_and_replaced(tmp_path, seed_corpus):
    from qa.index.manifest import is_qa_index

    build_index(seed_corpus, tmp_path / "index", model="none")
    assert is_qa_index(tmp_path / "index")
    build_index(seed_corpus, tmp_path / "index", model="none")
    assert is_qa_index(tmp_path / "index")


def _tree(folder: Path) -> list[tuple[str, bytes]]:
    return sorted((p.relative_to(folder).as_posix(), p.read_bytes() if p.is_file() else b"") for p in folder.rglob("*"))


def test_refuses_to_replace_an_index_folder_that_holds_other_files(tmp_path, seed_corpus):
    index = tmp_path / "index"
    build_index(seed_corpus, index, model="none")
    (index / "my-notes.txt").write_text("precious")
    before = _tree(index)
    with pytest.raises(IndexWriteError, match=r"holds files qa did not write \(my-notes.txt\); a build replaces"):
        build_index(seed_corpus, index, model="none")
    assert _tree(index) == before


def test_refuses_a_symlinked_manifest_even_to_a_real_index(tmp_path, seed_corpus):
    build_index(seed_corpus, tmp_path / "real", model="none")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>my site</h1>")
    (tmp_path / "site" / "manifest.json").symlink_to(tmp_path / "real" / "manifest.json")
    with pytest.raises(IndexWriteError, match="is not a qa index"):
        build_index(seed_corpus, tmp_path / "site", model="none")
    assert (tmp_path / "site" / "index.html").read_text() == "<h1>my site</h1>"


@pytest.mark.parametrize("where", ["the index folder", "inside the index folder"])
def test_refuses_a_corpus_that_is_the_index_or_lies_inside_it(tmp_path, seed_corpus, where):
    index = tmp_path / "index"
    build_index(seed_corpus, index, model="none")
    corpus = index if where == "the index folder" else index / "lexical"
    before = _tree(index)
    with pytest.raises(IndexWriteError, match=f"is {where} .*which a build replaces"):
        build_index(corpus, index, model="none")
    assert _tree(index) == before


def test_an_index_inside_the_corpus_is_never_read_as_articles(tmp_path, corpus_copy):
    (corpus_copy / "old-index").mkdir()
    build_index(corpus_copy, corpus_copy / "old-index", model="none")
    for _ in range(3):
        report = build_index(corpus_copy, corpus_copy / "index", model="none", strict=True)
        assert report.manifest.articles == 5 and report.skipped == []
    from qa.index.store import corpus_folder_check
    from qa.ingest.corpus import load_corpus

    load = load_corpus(corpus_copy, skip_folder=corpus_folder_check(corpus_copy / "index"))
    assert {skip.path: skip.reason for skip in load.passed} == {
        "index/": "the index folder being built (an index is never read as articles)",
        "old-index/": "a qa index folder (an index is never read as articles)",
    }


def test_a_symlinked_index_path_stays_a_symlink_and_its_target_is_replaced(tmp_path, seed_corpus, corpus_copy):
    target, link = tmp_path / "indexes" / "news", tmp_path / "index"
    build_index(seed_corpus, target, model="none")
    link.symlink_to(target)
    (corpus_copy / "extra.txt").write_text("Flood update\n\nHeavy rain flooded Lahore on Saturday, officials said.\n")
    build_index(corpus_copy, link, model="none")
    assert link.is_symlink() and Path(os.readlink(link)) == target
    assert Retriever.load(link).manifest.articles == Retriever.load(target).manifest.articles == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "index", "indexes"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["news"]


def test_cleanup_removes_only_folders_qa_made_and_treats_the_index_name_literally(tmp_path, seed_corpus, monkeypatch):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = dead.stdout.strip()  # a process that has exited
    monkeypatch.chdir(tmp_path)
    thesis = tmp_path / "thesis.building-2023"  # a user's folder that a glob from `--index '*'` would match
    thesis.mkdir()
    (thesis / "chapter1.txt").write_text("precious")
    lookalike = tmp_path / f"index.building-{pid}"  # named like a dead build's staging folder, without the marker
    lookalike.mkdir()
    (lookalike / "data.txt").write_text("precious too")
    stale = tmp_path / f"index.building-model-{pid}"  # a killed build's leftover: it carries the marker
    stale.mkdir()
    (stale / ".qa-staging").write_text(pid)
    build_index(seed_corpus, Path("*"), model="none")
    build_index(seed_corpus, Path("index"), model="none")
    assert (thesis / "chapter1.txt").read_text() == "precious"
    assert (lookalike / "data.txt").read_text() == "precious too"
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["*", "index", thesis.name, lookalike.name])
