"""`qa build --engine ray`: the same index as a local build, from a real (local) Ray cluster."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.errors import EngineUnavailableError
from qa.index.build import build_index
from qa.index.raybuild import INSTALL_HINT, RaySettings, connect
from qa.search.retriever import Retriever
from qa.serve.cli import main

QUESTIONS = [
    "How many traffickers did the FIA arrest in Gujranwala?",
    "What are detainees in the re-education centres forced to do?",
    "Why did Pakistan stop investigating Chinese traffickers?",
    "brides",
]


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture()
def mixed_corpus(corpus_copy: Path) -> Path:
    """The shipped articles plus what a real folder holds: a copy of one, an empty file, an unsupported one."""
    first = sorted(corpus_copy.glob("*.txt"))[0]
    shutil.copy(first, corpus_copy / "zz-copy-of-first.txt")
    (corpus_copy / "empty.txt").write_text("")
    (corpus_copy / "notes.xyz").write_text("not an article")
    return corpus_copy


def _files(index_dir: Path) -> dict[str, bytes]:
    return {
        path.relative_to(index_dir).as_posix(): path.read_bytes()
        for path in sorted(index_dir.rglob("*"))
        if path.is_file() and path.name not in ("manifest.json", "params.index.json", "vectors.npy", "dense.faiss")
    }


@pytest.mark.slow
def test_ray_build_writes_the_same_index_as_a_local_build(ray_cluster, mixed_corpus, static_model_dir, tmp_path):
    local = build_index(mixed_corpus, tmp_path / "local", model=str(static_model_dir))
    on_ray = build_index(mixed_corpus, tmp_path / "ray", model=str(static_model_dir), ray=RaySettings(), batch_size=8)
    assert _files(tmp_path / "ray") == _files(tmp_path / "local"), "catalog, BM25 fields and vector keys byte for byte"
    assert on_ray.manifest.corpus == local.manifest.corpus  # the same files read, the same ones skipped and why
    assert len(on_ray.skipped) == 3
    vectors = np.load(tmp_path / "ray" / "vectors.npy")
    assert np.allclose(vectors, np.load(tmp_path / "local" / "vectors.npy"), atol=1e-6)
    retrievers = Retriever.load(tmp_path / "local"), Retriever.load(tmp_path / "ray")
    for mode in ("lexical", "dense", "hybrid"):
        rankings = [[rows.tolist() for rows, _ in r.rank_many(QUESTIONS, 10, mode=mode)] for r in retrievers]
        assert rankings[0] == rankings[1], mode


@pytest.mark.slow
def test_cli_builds_on_ray_and_the_index_answers(ray_cluster, seed_corpus, static_model_dir, tmp_path, capsys):
    index_dir = tmp_path / "index"
    flags = ["--engine", "ray", "--ray-actors", "1", "--batch-size", "4"]
    code = main(
        ["build", "--corpus", str(seed_corpus), "--index", str(index_dir), "--model", str(static_model_dir), *flags]
    )
    assert code == 0 and "Indexed 5 articles" in capsys.readouterr().out
    assert main(["ask", QUESTIONS[0], "--index", str(index_dir), "--json", "-k", "1", "--mode", "lexical"]) == 0
    hit = json.loads(capsys.readouterr().out)["hits"][0]
    assert "Gujranwala" in hit["text"]


def test_without_ray_installed_the_engine_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(EngineUnavailableError) as raised:
        connect(RaySettings())
    assert str(raised.value) == INSTALL_HINT and "news-qa[ray]" in INSTALL_HINT


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--ray-address", "auto"], "--ray-address and --ray-actors need --engine ray"),
        (["--engine", "ray", "--ray-actors", "0"], "--ray-actors must be at least 1"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
    ],
)
def test_engine_flags_are_checked_before_any_work(flags, message, seed_corpus, tmp_path, capsys):
    assert main(["build", "--corpus", str(seed_corpus), "--index", str(tmp_path / "i"), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "i").exists()
