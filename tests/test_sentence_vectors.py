"""Sentence vectors (qa/index/sentences.py): built with the index when the model's fusion weighs the best
sentence, recorded in the manifest, reused by a rebuild, and blended into dense scores as the fusion says."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.errors import IndexFormatError
from qa.index import build as build_module
from qa.index.build import build_index
from qa.index.qdrant import QdrantSettings
from qa.index.sentences import (
    SENTENCE_KEYS_FILE,
    SENTENCE_OFFSETS_FILE,
    SENTENCE_VECTORS_FILE,
    SentenceVectors,
    passage_sentences,
)
from qa.search.retriever import Retriever
from qa.settings import FusionSettings

QUESTION = "Why are Pakistani women trafficked to China?"


@pytest.fixture
def sentence_fusion(monkeypatch, static_model_dir):
    """The tiny model fused by z-score interpolation (no coverage gate, so a test can recompute the fused
    scores), half of each dense score from the passage's best sentence."""
    fusion = FusionSettings("interpolation", lexical_weight=0.65, normalise="zscore", sentence_weight=0.5)
    monkeypatch.setitem(build_module.MODEL_FUSION, str(static_model_dir), fusion)
    return fusion


@pytest.fixture
def sentence_index(tmp_path, seed_corpus, static_model_dir, sentence_fusion):
    index = tmp_path / "index"
    return index, build_index(seed_corpus, index, model=str(static_model_dir))


def _best_sentence_cosines(retriever: Retriever, hits, vector: np.ndarray) -> list[float]:
    """Each hit's best sentence cosine, its sentences embedded here as the build embeds them."""
    return [
        float((retriever.encoder.encode_passages(passage_sentences(h.passage.text, h.article.title)) @ vector).max())
        for h in hits
    ]


def test_best_sentence_cosine_per_row():
    vectors = np.array([[1, 0], [0, 1], [0.6, 0.8], [-1, 0]], dtype=np.float32)
    sentences = SentenceVectors(vectors, np.array([0, 2, 3, 4]))  # row 0: two sentences, rows 1 and 2: one
    best = sentences.best(np.array([1.0, 0.0], dtype=np.float32), np.array([2, 0, 1, 0]))
    assert best.tolist() == pytest.approx([-1.0, 1.0, 0.6, 1.0])
    assert sentences.best(np.array([1.0, 0.0], dtype=np.float32), np.array([], dtype=np.int64)).shape == (0,)


def test_a_passage_without_sentence_breaks_is_one_sentence_and_titles_give_context():
    assert passage_sentences("No full stop here", "Title") == ["Title\nNo full stop here"]
    assert passage_sentences("One. Two.", None) == ["One.", "Two."]


def test_the_sentence_weight_round_trips_through_the_manifest_form_and_is_checked():
    fusion = FusionSettings("interpolation", lexical_weight=0.65, normalise="zscore", sentence_weight=0.6)
    assert fusion.to_dict()["sentence_weight"] == 0.6
    assert FusionSettings.from_dict(fusion.to_dict()) == fusion
    assert "sentence_weight" not in FusionSettings("rrf").to_dict()  # older indexes read the same
    with pytest.raises(ValueError, match="sentence weight"):
        FusionSettings.from_dict({"method": "rrf", "sentence_weight": 1.5})


def test_no_sentence_vectors_unless_the_fusion_weighs_them(tmp_path, seed_corpus, static_model_dir):
    report = build_index(seed_corpus, tmp_path / "index", model=str(static_model_dir))
    assert report.manifest.sentences is None and report.manifest.fusion.sentence_weight == 0
    assert not (tmp_path / "index" / SENTENCE_VECTORS_FILE).exists()


def test_sentence_vectors_are_built_and_recorded(sentence_index, sentence_fusion):
    index, report = sentence_index
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["fusion"]["sentence_weight"] == 0.5 and report.manifest.fusion == sentence_fusion
    offsets = np.load(index / SENTENCE_OFFSETS_FILE)
    count = manifest["sentences"]["count"]
    assert len(offsets) == report.manifest.passages + 1 and offsets[-1] == count > report.manifest.passages
    assert manifest["sentences"] == {"count": count, "embedded": count, "reused": 0}
    assert np.load(index / SENTENCE_VECTORS_FILE).shape == (count, report.manifest.model.dimension)
    for name in (SENTENCE_VECTORS_FILE, SENTENCE_KEYS_FILE, SENTENCE_OFFSETS_FILE):
        assert name in manifest["files"]  # checksummed like every index file
    assert report.seconds["sentences"] > 0


def test_dense_scores_blend_the_passage_and_its_best_sentence(sentence_index):
    retriever = Retriever.load(sentence_index[0])
    vector = retriever.encoder.encode_queries([QUESTION])[0]
    hits = retriever.search(QUESTION, k=8, mode="dense")
    best = _best_sentence_cosines(retriever, hits, vector)
    # hit.scores["dense"] stays the passage's own cosine (the confidence evidence); the ranking score blends.
    assert [h.score for h in hits] == pytest.approx([0.5 * h.scores["dense"] + 0.5 * b for h, b in zip(hits, best)])
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert any(b > h.scores["dense"] + 1e-3 for h, b in zip(hits, best))  # sentences do add evidence here


def test_hybrid_interpolates_bm25_with_the_blended_dense_scores(sentence_index):
    from qa.search.fusion import interpolate_scores

    retriever = Retriever.load(sentence_index[0])
    question = "Which brokers arranged the marriages?"
    hits = retriever.search(question, k=500, mode="hybrid")  # every candidate, in fused order
    vector = retriever.encoder.encode_queries([question])[0]
    lexical = np.array([h.scores["lexical"] for h in hits])
    cosines = np.array([h.scores["dense"] for h in hits])
    blended = 0.5 * cosines + 0.5 * np.array(_best_sentence_cosines(retriever, hits, vector))
    rows = np.arange(len(hits))
    scores = [h.score for h in hits]
    assert interpolate_scores(rows, lexical, blended, 0.65, "zscore")[1] == pytest.approx(scores, abs=1e-5)
    assert interpolate_scores(rows, lexical, cosines, 0.65, "zscore")[1] != pytest.approx(scores, abs=1e-5)


def test_a_rebuild_reuses_unchanged_sentence_vectors(tmp_path, seed_corpus, static_model_dir, sentence_fusion):
    index = tmp_path / "index"
    build_index(seed_corpus, index, model=str(static_model_dir))
    before = np.load(index / SENTENCE_VECTORS_FILE)
    report = build_index(seed_corpus, index, model=str(static_model_dir))
    assert report.manifest.sentences.reused == len(before) and report.manifest.sentences.embedded == 0
    assert np.array_equal(np.load(index / SENTENCE_VECTORS_FILE), before)


def test_sentence_offsets_that_do_not_fit_are_refused_by_name(sentence_index):
    index, report = sentence_index
    with pytest.raises(IndexFormatError, match="sentence vectors"):
        SentenceVectors.load(index, report.manifest.passages + 1, report.manifest.model.dimension)
    np.save(index / SENTENCE_OFFSETS_FILE, np.zeros(report.manifest.passages + 1, dtype=np.int64))
    with pytest.raises(IndexFormatError, match="sentence vectors"):
        SentenceVectors.load(index, report.manifest.passages, report.manifest.model.dimension)


def test_a_qdrant_index_holds_no_sentence_vectors_and_scores_passages_alone(
    tmp_path, seed_corpus, static_model_dir, sentence_fusion
):
    index = tmp_path / "index"
    qdrant = QdrantSettings(path=str(tmp_path / "qdrant"), collection="sentences")
    report = build_index(seed_corpus, index, model=str(static_model_dir), qdrant=qdrant)
    assert report.manifest.sentences is None and not (index / SENTENCE_VECTORS_FILE).exists()
    retriever = Retriever.load(index)
    vector = retriever.encoder.encode_queries([QUESTION])[0]
    assert retriever.backend.dense.sentence_scores_for(vector, np.arange(3)) is None
    hits = retriever.search(QUESTION, k=5, mode="dense")
    assert [h.score for h in hits] == pytest.approx([h.scores["dense"] for h in hits])


def test_no_sentences_builds_without_them_and_the_manifest_says_so(
    tmp_path, seed_corpus, static_model_dir, sentence_fusion, capsys
):
    from qa.serve.cli import main

    index = tmp_path / "index"
    arguments = ["build", "--corpus", str(seed_corpus), "--index", str(index), "--model", str(static_model_dir)]
    assert main([*arguments, "--no-sentences"]) == 0
    assert "sentence vectors" not in capsys.readouterr().out
    retriever = Retriever.load(index)
    assert retriever.manifest.sentences is None and not (index / SENTENCE_VECTORS_FILE).exists()
    assert retriever.manifest.fusion.sentence_weight == 0  # what the index does, not what the model's default is
    hits = retriever.search(QUESTION, k=5, mode="dense")
    assert [h.score for h in hits] == pytest.approx([h.scores["dense"] for h in hits])
    assert main(arguments) == 0  # the same index rebuilt with them: the summary counts them
    count = Retriever.load(index).manifest.sentences.count
    assert f"; {count:,} sentence vectors" in capsys.readouterr().out


def test_the_highlight_reads_the_stored_sentence_vectors_instead_of_encoding(
    sentence_index, tmp_path, seed_corpus, static_model_dir, monkeypatch
):
    index, _ = sentence_index
    retriever = Retriever.load(index)
    encoded: list[str] = []
    encode = type(retriever.encoder).encode_sentences

    def counted(self, sentences, *args, **kwargs):
        encoded.extend(sentences)
        return encode(self, sentences, *args, **kwargs)

    monkeypatch.setattr(type(retriever.encoder), "encode_sentences", counted)
    # the last shares no word with any sentence: every sentence of every hit ties, the model decides
    questions = (QUESTION, "Who was arrested in Gujranwala?", "Xylophones quokkas zeppelins")
    with_stored = [[h.highlight for h in retriever.search(q, k=10, mode="hybrid")] for q in questions]
    assert encoded == [], "every candidate sentence's cosine came from the index"
    for question, highlights in zip(questions, with_stored):
        for hit, (start, end) in zip(retriever.search(question, k=10, mode="hybrid"), highlights):
            assert 0 <= start < end <= len(hit.passage.text) and hit.highlight == (start, end)

    plain = tmp_path / "plain"
    build_index(seed_corpus, plain, model=str(static_model_dir), sentences=False)
    Retriever.load(plain).search(questions[-1], k=10, mode="hybrid")
    assert encoded, "without stored sentence vectors the tied sentences are encoded at search time"


def test_known_cosines_decide_each_passage_on_its_own_even_for_the_same_text():
    """Wire copies: one text under two titles has two sets of stored sentence cosines."""
    from qa.search.highlight import best_sentences

    text = "Floods hit the valley. Rain fell for days."
    never = lambda sentences: pytest.fail(f"encoded {sentences}")  # noqa: E731
    spans = best_sentences(
        [text, text],
        set(),  # no shared word: every sentence ties and the cosines decide
        str.split,
        lambda term: 1.0,
        never,
        lexical_first=True,
        known_cosines=[np.array([0.9, 0.1]), np.array([0.2, 0.8])],
    )
    assert [text[a:b] for a, b in spans] == ["Floods hit the valley.", "Rain fell for days."]
