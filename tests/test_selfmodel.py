"""`qa build --model self`: a model trained on the corpus, saved in the index, fused by interpolation."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from qa.errors import IndexMismatchError
from qa.index import embedding
from qa.index.build import build_index
from qa.models.selftrain import TrainSettings
from qa.search.fusion import interpolate_scores
from qa.search.retriever import Retriever
from qa.settings import FusionSettings

QUESTIONS = [
    "How many traffickers did the FIA arrest in Gujranwala?",
    "Which countries work together against the trafficking of women?",
    "What did the report say about officials complicit in trafficking?",
    "smuggling of migrants by sea",
]
QUICK = TrainSettings(seconds=2, seed=7)


@pytest.fixture(scope="module")
def self_index(tmp_path_factory, seed_corpus):
    index_dir = tmp_path_factory.mktemp("self") / "index"
    build_index(seed_corpus, index_dir, model="self", training=QUICK)
    return index_dir


def test_the_model_is_trained_saved_in_the_index_and_described(self_index):
    retriever = Retriever.load(self_index)
    manifest = retriever.manifest
    assert retriever.mode == "hybrid" and manifest.model.name == "model"
    trained = manifest.model.self_trained
    assert trained.seed == 7 and trained.dimension == manifest.model.dimension == 256
    assert trained.steps > 0 and trained.pairs >= trained.steps and trained.vocab_size > 1000
    assert 0 < trained.seconds < 60 and trained.trained_at
    assert manifest.fusion == FusionSettings("interpolation", lexical_weight=0.65)
    assert "model/model.safetensors" in manifest.files  # checksummed like every index file
    assert "trained on this corpus" in manifest.semantic_layer()
    hits = retriever.search(QUESTIONS[0], k=3)
    assert hits[0].passage.text.startswith("The Federal Investigation Agency")
    assert set(hits[0].scores) == {"lexical", "dense"}


def test_same_corpus_and_seed_give_the_same_model_and_rankings(tmp_path, seed_corpus, self_index):
    again = tmp_path / "again"
    build_index(seed_corpus, again, model="self", training=QUICK)
    first, second = Retriever.load(self_index), Retriever.load(again)
    assert first.manifest.model.fingerprint == second.manifest.model.fingerprint
    for question in QUESTIONS:
        assert [(h.passage, round(h.score, 6)) for h in first.search(question, k=10)] == [
            (h.passage, round(h.score, 6)) for h in second.search(question, k=10)
        ]


def test_another_seed_gives_another_model(tmp_path, seed_corpus, self_index):
    other = tmp_path / "other"
    build_index(seed_corpus, other, model="self", training=TrainSettings(seconds=2, seed=8))
    fingerprints = {Retriever.load(path).manifest.model.fingerprint for path in (self_index, other)}
    assert len(fingerprints) == 2


def test_hybrid_interpolates_scores_over_both_candidate_lists(self_index):
    retriever = Retriever.load(self_index)
    question = QUESTIONS[1]
    vector = retriever.encoder.encode_queries([question])[0]
    lexical = retriever.lexical.scores_for(question, np.arange(len(retriever.passages)))
    lexical_rows = np.argsort(-lexical, kind="stable")[:100]
    cosines = retriever.dense.scores_for(vector, np.arange(len(retriever.passages)))
    dense_rows = np.argsort(-cosines, kind="stable")[:100]
    rows = np.concatenate([lexical_rows, dense_rows[~np.isin(dense_rows, lexical_rows)]])
    expected_rows, expected = interpolate_scores(rows, lexical[rows], cosines[rows], 0.65)
    got_rows, got = retriever.rank_many([question], 5, mode="hybrid")[0]
    assert got_rows.tolist() == expected_rows[:5].tolist()
    assert got == pytest.approx(expected[:5], abs=1e-5)


def test_the_index_is_self_contained(tmp_path, self_index):
    moved = tmp_path / "elsewhere" / "index"
    shutil.copytree(self_index, moved)
    before = Retriever.load(self_index).search(QUESTIONS[2], k=5)
    after = Retriever.load(moved).search(QUESTIONS[2], k=5)
    assert [(h.passage, round(h.score, 6)) for h in after] == [(h.passage, round(h.score, 6)) for h in before]


def test_an_altered_model_file_is_named(tmp_path, self_index):
    broken = tmp_path / "broken"
    shutil.copytree(self_index, broken)
    weights = broken / "model" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(IndexMismatchError, match=r"model/model\.safetensors"):
        Retriever.load(broken)


def test_no_model_and_a_small_corpus_stays_lexical_and_says_why(tmp_path, seed_corpus):
    report = build_index(seed_corpus, tmp_path / "index", model="no-such-org/no-such-model")
    assert report.manifest.mode == "lexical"
    assert "helps from about 100,000 words; this corpus has" in report.manifest.semantic_off_reason


def test_no_model_and_a_large_enough_corpus_trains_one(tmp_path, seed_corpus, monkeypatch):
    monkeypatch.setattr(embedding, "SELF_MIN_WORDS", 1_000)  # the shipped corpus has ~2,900 words
    report = build_index(seed_corpus, tmp_path / "index", model="no-such-org/no-such-model", training=QUICK)
    assert report.manifest.mode == "hybrid" and report.manifest.model.self_trained.seed == 7
    assert report.manifest.semantic_off_reason is None and "train" in report.seconds
    assert Retriever.load(tmp_path / "index").search(QUESTIONS[0], k=1)[0].passage.paragraph == 2


def test_model_none_never_trains(tmp_path, seed_corpus, monkeypatch):
    monkeypatch.setattr(embedding, "SELF_MIN_WORDS", 1)
    report = build_index(seed_corpus, tmp_path / "index", model="none")
    assert report.manifest.mode == "lexical" and "train" not in report.seconds


def test_a_corpus_too_small_to_train_on_falls_back_to_keywords(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one.txt").write_text("A single headline\n\nOne paragraph with one sentence only.\n", encoding="utf-8")
    report = build_index(corpus, tmp_path / "index", model="self", training=QUICK)
    assert report.manifest.mode == "lexical" and "too small to train" in report.manifest.semantic_off_reason


def test_qa_eval_with_a_corpus_trained_model(tmp_path, capsys):
    import json

    from qa.serve.cli import main
    from tests.support.eval_fixtures import write_beir

    dataset = write_beir(tmp_path / "beir")
    assert main(["eval", str(dataset), "--mode", "hybrid", "--model", "self", "--train-seconds", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "trained on this corpus" in report["semantic_layer"]
    assert 0 <= report["modes"]["hybrid"]["ndcg@10"] <= 1 and report["modes"]["hybrid"]["recall@100"] == 1.0


@pytest.mark.parametrize("seconds", ["0", "-5", "1e9"])
def test_a_nonsense_training_budget_is_refused_in_words(tmp_path, seed_corpus, capsys, seconds):
    from qa.serve.cli import main

    index = str(tmp_path / "i")
    code = main(
        ["build", "--corpus", str(seed_corpus), "--index", index, "--model", "self", "--train-seconds", seconds]
    )
    assert code != 0 and "--train-seconds must be" in capsys.readouterr().err
    assert not (tmp_path / "i").exists()


def test_the_page_names_the_corpus_trained_model(self_index):
    from qa.serve.service import Service

    service = Service(Retriever.load(self_index))
    assert "a model trained on these articles" in service.status_html()
    assert "Keyword search" not in service.status_html()
    assert "a model trained on these articles" in service.about_html()
    assert "a model trained on this corpus" in service.about_html()  # the technical fold names it


def test_qa_info_names_the_corpus_trained_model(self_index, capsys):
    from qa.serve.cli import main

    assert main(["info", "--index", str(self_index)]) == 0
    shown = capsys.readouterr().out
    assert "a model trained on this corpus" in shown and "score interpolation, lexical weight 0.65" in shown


def test_training_cut_short_by_a_busy_machine_falls_back_to_keywords(tmp_path, seed_corpus, monkeypatch):
    from qa.models import selftrain

    monkeypatch.setattr(selftrain, "MIN_STEPS", 10**6)  # as if the deadline came after very few steps
    monkeypatch.setattr(selftrain, "HARD_STOP_SLACK", 0.0)
    monkeypatch.setattr(selftrain, "SECONDS_PER_FULL_BATCH", 1e-9)
    monkeypatch.setattr(selftrain, "SECONDS_PER_TOKEN", 1e-12)
    budget = TrainSettings(seconds=0.5, seed=7, max_epochs=10**9)
    report = build_index(seed_corpus, tmp_path / "index", model="self", training=budget)
    assert report.manifest.mode == "lexical" and "cut short after" in report.manifest.semantic_off_reason
    assert not list(tmp_path.glob("index.building-*")), "the training folder is cleaned up"


def test_a_named_model_that_cannot_load_is_never_replaced_by_a_trained_one(tmp_path, seed_corpus, monkeypatch, capsys):
    from qa.serve.cli import main

    monkeypatch.setattr(embedding, "SELF_MIN_WORDS", 1_000)
    index = tmp_path / "index"
    assert main(["build", "--corpus", str(seed_corpus), "--index", str(index), "--model", "no-such/model"]) == 0
    manifest = Retriever.load(index).manifest
    assert manifest.mode == "lexical" and "no-such/model" in manifest.semantic_off_reason


def test_a_training_folder_left_by_a_killed_build_is_swept_away(tmp_path, seed_corpus):
    from qa.index.store import OWNER_FILE

    stale = tmp_path / "index.building-model-999999999"  # no such process
    stale.mkdir()
    (stale / OWNER_FILE).write_text("999999999\n")  # qa's marker: every folder a build makes starts with it
    (stale / "model.safetensors").write_bytes(b"half-written")
    build_index(seed_corpus, tmp_path / "index", model="self", training=QUICK)
    assert not stale.exists() and not list(tmp_path.glob("index.building-*"))


@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_a_bad_seed_is_refused_in_words(tmp_path, seed_corpus, capsys, seed):
    from qa.serve.cli import main

    index = str(tmp_path / "i")
    code = main(["build", "--corpus", str(seed_corpus), "--index", index, "--model", "self", "--seed", seed])
    assert code != 0 and "seed" in capsys.readouterr().err and not (tmp_path / "i").exists()
