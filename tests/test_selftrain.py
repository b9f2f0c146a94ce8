"""The corpus-trained semantic model: a real sentence-transformers model, reproducible from its seed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from qa.ingest.corpus import load_corpus
from qa.ingest.sentences import split_sentences
from qa.models.selftrain import TrainSettings, planned_steps, train_static_model

SETTINGS = TrainSettings(seconds=5, vocab_size=2000, dimension=32, batch_size=64, max_epochs=20)


@pytest.fixture(scope="module")
def seed_passages(seed_corpus) -> list[list[str]]:
    passages = []
    for article in load_corpus(seed_corpus).articles:
        for paragraph in article.text.split("\n\n"):
            passages.append([article.title or "", *split_sentences(paragraph)])
    return passages


def _weights(folder) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder)).encode(["trafficking brides China", "FIA arrests"], convert_to_numpy=True)


def test_trains_a_loadable_sentence_transformers_model(tmp_path, seed_passages):
    report = train_static_model(seed_passages, tmp_path / "model", SETTINGS)
    assert report.steps > 0 and report.pairs == report.steps * min(64, len(seed_passages))
    assert report.vocab_size <= 2000 and report.dimension == 32 and not report.stopped_early
    from qa.models.encoder import load_encoder

    encoder = load_encoder(tmp_path / "model")
    assert encoder.dimension == 32 and encoder.max_tokens is None
    vectors = encoder.encode_queries(["How many traffickers were arrested?"])
    assert vectors.shape == (1, 32) and abs(float(np.linalg.norm(vectors[0])) - 1) < 1e-5


def test_same_corpus_and_seed_give_the_same_model(tmp_path, seed_passages):
    train_static_model(seed_passages, tmp_path / "a", SETTINGS)
    train_static_model(seed_passages, tmp_path / "b", SETTINGS)
    train_static_model(seed_passages, tmp_path / "c", TrainSettings(**{**SETTINGS.__dict__, "seed": 1}))
    assert np.array_equal(_weights(tmp_path / "a"), _weights(tmp_path / "b"))
    assert not np.allclose(_weights(tmp_path / "a"), _weights(tmp_path / "c"))


def test_training_brings_a_sentence_closer_to_its_own_passage(tmp_path, seed_passages):
    from sentence_transformers import SentenceTransformer

    train_static_model(seed_passages, tmp_path / "model", TrainSettings(**{**SETTINGS.__dict__, "max_epochs": 60}))
    model = SentenceTransformer(str(tmp_path / "model"))
    usable = [p for p in seed_passages if len(p) >= 3]
    queries = [p[1] for p in usable]
    documents = [" ".join(p[2:]) for p in usable]
    scores = model.encode(queries, normalize_embeddings=True) @ model.encode(documents, normalize_embeddings=True).T
    top1 = float(np.mean(np.argmax(scores, axis=1) == np.arange(len(usable))))
    assert top1 > 0.5, top1  # chance is 1/len(usable)


@pytest.mark.parametrize(
    "seconds,expected_cap",
    [(0.0001, 1), (1e9, 20)],
)
def test_schedule_is_fixed_by_corpus_and_budget(seed_passages, seconds, expected_cap):
    from tokenizers import Tokenizer  # noqa: F401  (the tokenizer library is what counts tokens)

    encoded = [[[1] * len(s.split()) for s in p] for p in seed_passages]
    settings = TrainSettings(**{**SETTINGS.__dict__, "seconds": seconds})
    steps, batch = planned_steps(encoded, settings)
    usable = sum(1 for p in encoded if len(p) >= 2)
    assert batch == min(64, usable)
    assert steps == (1 if expected_cap == 1 else 20 * max(1, usable // batch))


def test_a_machine_too_busy_for_the_schedule_stops_at_the_deadline_and_says_so(tmp_path, seed_passages, monkeypatch):
    from qa.models import selftrain

    # As if steps cost ten thousand times less than measured: the plan is far more steps than the
    # budget allows, like a machine much slower than the one the cost was measured on.
    monkeypatch.setattr(selftrain, "SECONDS_PER_TOKEN", selftrain.SECONDS_PER_TOKEN / 10_000)
    monkeypatch.setattr(selftrain, "SECONDS_PER_FULL_BATCH", selftrain.SECONDS_PER_FULL_BATCH / 10_000)
    monkeypatch.setattr(selftrain, "HARD_STOP_SLACK", 0.0)
    budget = TrainSettings(**{**SETTINGS.__dict__, "seconds": 1.0, "max_epochs": 10**9})
    started = time.perf_counter()
    report = train_static_model(seed_passages, tmp_path / "model", budget)
    assert report.stopped_early and time.perf_counter() - started < 1.5 * 1.0 + 2  # deadline + saving
    assert report.steps > 0 and (tmp_path / "model" / "model.safetensors").is_file()


def test_a_large_corpus_trains_on_a_seeded_sample_of_its_passages(seed_passages):
    from qa.models.selftrain import training_sample

    settings = TrainSettings(**{**SETTINGS.__dict__, "max_passages": 10})
    sample = training_sample(seed_passages, settings)
    assert len(sample) == 10 and all(len(sentences) >= 2 for sentences in sample)
    assert sample == training_sample(seed_passages, settings)  # the same seed, the same sample
    other = training_sample(seed_passages, TrainSettings(**{**settings.__dict__, "seed": 1}))
    assert other != sample
    assert training_sample(seed_passages, SETTINGS) == seed_passages  # small corpora: every passage
