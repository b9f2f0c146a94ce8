"""`qa build --backend qdrant`: the collection's life (aliases, rebuilds, failures), the index folder it leaves,
and the messages when Qdrant cannot be used. What searching returns is the contract in test_backend.py."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from qa.errors import EngineUnavailableError, IndexFormatError, IndexWriteError
from qa.index import build as build_module
from qa.index import qdrant as qdrant_module
from qa.index.build import build_index
from qa.index.qdrant import INSTALL_HINT, QdrantSettings, client_for
from qa.search.retriever import Retriever
from qa.serve.cli import main
from qa.settings import FusionSettings
from tests.support.eval_fixtures import write_squad

QUESTION = "How many traffickers did the FIA arrest in Gujranwala?"


def _collections(settings: QdrantSettings) -> list[str]:
    return sorted(c.name for c in client_for(settings).get_collections().collections)


def _alias_target(settings: QdrantSettings) -> str | None:
    aliases = client_for(settings).get_aliases().aliases
    return next((a.collection_name for a in aliases if a.alias_name == settings.collection), None)


def test_index_folder_keeps_catalog_and_terms_and_the_collection_holds_the_rest(qdrant_hybrid_index):
    names = {p.relative_to(qdrant_hybrid_index).as_posix() for p in qdrant_hybrid_index.rglob("*") if p.is_file()}
    assert {"manifest.json", "articles.jsonl", "passages.jsonl", "qdrant/terms.json"} <= names
    assert not any(name.startswith("lexical/") for name in names)
    assert not names & {"vectors.npy", "vector_keys.npy", "dense.faiss"}
    manifest = json.loads((qdrant_hybrid_index / "manifest.json").read_text())
    assert manifest["backend"] == "qdrant" and manifest["mode"] == "hybrid"
    assert manifest["qdrant"]["alias"] == "hybrid" and manifest["qdrant"]["sparse"] == "idf"
    settings = QdrantSettings(path=manifest["qdrant"]["path"], collection="hybrid")
    assert client_for(settings).count(manifest["qdrant"]["collection"]).count == manifest["passages"]


def test_rebuilds_point_the_alias_at_the_newest_and_keep_one_generation_back(seed_corpus, tmp_path):
    settings = QdrantSettings(path=str(tmp_path / "qdrant"), collection="news")
    built = []
    for _ in range(3):
        build_index(seed_corpus, tmp_path / "index", model="none", qdrant=settings)
        built.append(json.loads((tmp_path / "index" / "manifest.json").read_text())["qdrant"]["collection"])
    assert len(set(built)) == 3
    assert _alias_target(settings) == built[2]
    assert _collections(settings) == sorted(built[1:]), "the replaced one is kept for readers; older ones go"
    assert Retriever.load(tmp_path / "index").search(QUESTION, k=1)[0].passage.paragraph == 2


def test_builds_in_one_second_of_one_process_make_distinct_collections(seed_corpus, tmp_path, monkeypatch):
    settings = QdrantSettings(path=str(tmp_path / "qdrant"), collection="news")
    monkeypatch.setattr(qdrant_module.time, "strftime", lambda *args: "20261202071509")
    for _ in range(2):
        build_index(seed_corpus, tmp_path / "index", model="none", qdrant=settings)
    names = _collections(settings)
    assert len(names) == 2 and all(name.startswith("news-20261202071509-") for name in names)
    assert (
        _alias_target(settings)
        == json.loads((tmp_path / "index" / "manifest.json").read_text())["qdrant"]["collection"]
    )


def test_a_collection_qa_did_not_make_is_never_replaced(seed_corpus, tmp_path):
    from qdrant_client import models

    settings = QdrantSettings(path=str(tmp_path / "qdrant"), collection="theirs")
    client_for(settings).create_collection("theirs", vectors_config=models.VectorParams(size=4, distance="Cosine"))
    with pytest.raises(IndexWriteError, match="'theirs' that qa did not make"):
        build_index(seed_corpus, tmp_path / "index", model="none", qdrant=settings)
    assert _collections(settings) == ["theirs"]
    assert not (tmp_path / "index" / "manifest.json").exists()


def test_a_build_that_fails_after_writing_the_collection_deletes_it(seed_corpus, tmp_path, monkeypatch):
    settings = QdrantSettings(path=str(tmp_path / "qdrant"), collection="news")
    build_index(seed_corpus, tmp_path / "index", model="none", qdrant=settings)
    before = _collections(settings)

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build_module, "write_manifest", fail)
    with pytest.raises(IndexWriteError, match="disk is full"):
        build_index(seed_corpus, tmp_path / "index", model="none", qdrant=settings)
    assert _collections(settings) == before
    assert Retriever.load(tmp_path / "index").search(QUESTION, k=1), "the previous index still answers"


def test_an_index_whose_collection_is_gone_says_so(seed_corpus, tmp_path):
    settings = QdrantSettings(path=str(tmp_path / "qdrant"), collection="news")
    build_index(seed_corpus, tmp_path / "index", model="none", qdrant=settings)
    for name in _collections(settings):
        client_for(settings).delete_collection(name)
    with pytest.raises(IndexFormatError, match="is not at the local Qdrant folder"):
        Retriever.load(tmp_path / "index")


def test_without_qdrant_client_the_backend_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "qdrant_client", None)
    with pytest.raises(EngineUnavailableError) as raised:
        client_for(QdrantSettings(path=str(tmp_path / "elsewhere")))
    assert str(raised.value) == INSTALL_HINT and "news-qa[qdrant]" in INSTALL_HINT


def test_a_local_folder_another_process_holds_gives_one_clear_line(tmp_path):
    folder = tmp_path / "held"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom qdrant_client import QdrantClient\nheld = QdrantClient(path=sys.argv[1])\n"
            "print('ready', flush=True)\ntime.sleep(60)",
            str(folder),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        qdrant_module._clients.pop(str(folder.resolve()), None)
        with pytest.raises(EngineUnavailableError, match="another process has this local folder open"):
            client_for(QdrantSettings(path=str(folder)))
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--backend", "qdrant"], "--backend qdrant needs one of --qdrant-url URL or --qdrant-path DIR"),
        (["--backend", "qdrant", "--qdrant-url", "http://x", "--qdrant-path", "d"], "needs one of"),
        (["--qdrant-path", "d"], "--qdrant-url, --qdrant-path and --collection need --backend qdrant"),
        (["--collection", "c"], "need --backend qdrant"),
    ],
)
def test_backend_flags_are_checked_before_any_work(flags, message, seed_corpus, tmp_path, capsys):
    assert main(["build", "--corpus", str(seed_corpus), "--index", str(tmp_path / "i"), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "i").exists()


def test_cli_builds_into_qdrant_and_asks_and_describes_it(seed_corpus, static_model_dir, tmp_path, capsys):
    index, folder = tmp_path / "index", tmp_path / "qdrant"
    flags = ["--backend", "qdrant", "--qdrant-path", str(folder), "--collection", "cli", "--qdrant-sparse", "bm25"]
    assert (
        main(["build", "--corpus", str(seed_corpus), "--index", str(index), "--model", str(static_model_dir), *flags])
        == 0
    )
    assert "(hybrid search" in capsys.readouterr().out
    assert main(["ask", QUESTION, "--index", str(index), "--json", "-k", "1", "--mode", "lexical"]) == 0
    hit = json.loads(capsys.readouterr().out)["hits"][0]
    assert "Gujranwala" in hit["text"] and hit["citation"].endswith("¶2")
    assert main(["info", "--index", str(index)]) == 0
    described = capsys.readouterr().out
    assert "Qdrant collection cli-" in described and "(alias cli)" in described and "BM25 weights" in described


def test_a_qdrant_index_records_its_models_fusion_and_searches_as_the_local_index_does(
    seed_corpus, static_model_dir, tmp_path, monkeypatch
):
    settings = QdrantSettings(path=str(tmp_path / "qdrant"), collection="tuned")
    build_index(seed_corpus, tmp_path / "plain", model=str(static_model_dir), qdrant=settings)
    plain = json.loads((tmp_path / "plain" / "manifest.json").read_text())
    assert plain["fusion"] == {"method": "rrf", "k": 60}, "a model never tuned is fused by rank, and says so"

    tuned = FusionSettings("interpolation", lexical_weight=0.65, normalise="zscore", coverage_gate=0.85)
    monkeypatch.setattr(build_module, "MODEL_FUSION", {plain["model"]["name"]: tuned})
    build_index(seed_corpus, tmp_path / "local", model=str(static_model_dir))
    ours = QdrantSettings(path=settings.path, collection="tuned", sparse="bm25")  # BM25 weights as the local index's
    build_index(seed_corpus, tmp_path / "qdrant-index", model=str(static_model_dir), qdrant=ours)
    recorded = json.loads((tmp_path / "qdrant-index" / "manifest.json").read_text())["fusion"]
    assert FusionSettings.from_dict(recorded) == tuned
    local, qdrant = Retriever.load(tmp_path / "local"), Retriever.load(tmp_path / "qdrant-index")
    question = "Why did Pakistan stop investigating Chinese traffickers?"
    found = [r.search(question, k=5, mode="hybrid") for r in (qdrant, local)]
    # interpolated by the retriever, not rank-fused on the server (RRF scores never pass 2 / (k + 1))
    assert found[0][0].score > 2 / 61 and found[1][0].score > 2 / 61
    # Qdrant scores the passage and bigram fields but not the best sentence, so the order may differ a little
    assert {h.passage.char_start for h in found[0]} == {h.passage.char_start for h in found[1]}
    assert found[0][0].passage == found[1][0].passage


def _eval_figures(capsys, *args) -> dict:
    assert main(["eval", *map(str, args), "--json", "--lexical", "sentence_weight=0"]) == 0
    report = json.loads(capsys.readouterr().out)
    return {name: {k: v for k, v in figures.items() if k != "qps"} for name, figures in report["modes"].items()}


def test_qa_eval_through_qdrant_gives_the_local_figures_and_leaves_no_collection(tmp_path, capsys):
    """The sentence field is off: it is the one lexical signal a sparse vector cannot carry (qa/search/qdrant.py)."""
    dataset = write_squad(tmp_path / "dev.json")
    local = _eval_figures(capsys, dataset)
    assert local["lexical"]["recall@1"] < 1, "a set where ranks differ, so equal figures mean equal rankings"
    folder = tmp_path / "qdrant"
    for sparse in ("idf", "bm25"):
        qdrant = _eval_figures(
            capsys, dataset, "--backend", "qdrant", "--qdrant-path", folder, "--qdrant-sparse", sparse
        )
        assert qdrant == local, sparse
        assert _collections(QdrantSettings(path=str(folder), collection="qa-eval")) == []
    assert _eval_figures(capsys, dataset, "--backend", "qdrant") == local  # a local-mode folder for the run


def test_a_kept_qdrant_evaluation_index_survives_the_next_evaluation(tmp_path, capsys):
    dataset, folder, kept = write_squad(tmp_path / "dev.json"), tmp_path / "qdrant", tmp_path / "kept"
    flags = ["--backend", "qdrant", "--qdrant-path", folder]
    first = _eval_figures(capsys, dataset, *flags, "--keep-index", kept)
    _eval_figures(capsys, dataset, *flags)  # another run on the same Qdrant, not kept
    assert main(["ask", "Who discovered oxygen?", "--index", str(kept), "--json", "-k", "1", "--mode", "lexical"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"], "the kept index still has its collection"
    assert _eval_figures(capsys, dataset, *flags, "--keep-index", kept) == first  # a rerun replaces its own
    assert len(_collections(QdrantSettings(path=str(folder), collection="qa-eval"))) == 2, "kept one, and one back"


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--qdrant-path", "d"], "--qdrant-url and --qdrant-path need --backend qdrant"),
        (["--backend", "qdrant", "--qdrant-url", "http://x", "--qdrant-path", "d"], "give one of"),
        (["--backend", "qdrant", "--keep-index", "k"], "--keep-index with --backend qdrant needs"),
        (["--backend", "qdrant", "--confidence"], "--confidence measures the local backend"),
    ],
)
def test_eval_backend_flags_are_checked(flags, message, tmp_path, capsys):
    assert main(["eval", str(write_squad(tmp_path / "dev.json")), *flags]) == 2
    assert message in capsys.readouterr().err
