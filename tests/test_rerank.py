"""Cross-encoder reranking: found like the embedding model, loaded on first use, off with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from qa.errors import RerankerUnavailableError
from qa.index.build import passage_document
from qa.models.reranker import DEFAULT_RERANKER, locate_reranker, rerank_order
from qa.search.retriever import Retriever
from qa.serve.cli import main

QUESTION = "How many traffickers did the FIA arrest in Gujranwala?"


@pytest.fixture()
def reranking(lexical_index, cross_encoder_dir) -> Retriever:
    return Retriever.load(lexical_index, reranker=str(cross_encoder_dir), rerank_depth=6)


def _independent_scores(cross_encoder_dir, retriever, question, hits):
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(str(cross_encoder_dir), local_files_only=True)
    pairs = [(question, passage_document(retriever.articles[h.passage.article_id], h.passage)) for h in hits]
    return model.predict(pairs, show_progress_bar=False)


def test_reranker_is_located_at_load_but_loaded_on_first_use(reranking, cross_encoder_dir):
    status = reranking.reranker_status()
    assert status.available and not status.loaded and str(cross_encoder_dir) in status.detail
    reranking.search(QUESTION, k=3, rerank=True)
    assert reranking.reranker_status().loaded


def test_reranked_hits_are_the_first_stage_candidates_in_cross_encoder_order(reranking, cross_encoder_dir):
    first_stage = reranking.search(QUESTION, k=6)
    answer = reranking.ask(QUESTION, k=4, rerank=True)
    assert answer.label == "lexical+rerank" and answer.to_dict()["mode"] == "lexical+rerank" and len(answer.hits) == 4
    candidates = {(h.passage.article_id, h.passage.paragraph) for h in first_stage}
    assert {(h.passage.article_id, h.passage.paragraph) for h in answer.hits} <= candidates
    scores = [h.score for h in answer.hits]
    assert scores == sorted(scores, reverse=True)
    for hit in answer.hits:
        assert hit.scores.keys() == {"lexical", "rerank"} and hit.score == hit.scores["rerank"]
    # the best 4 of the 6 candidates by an independent CrossEncoder call, in the same order
    expected = _independent_scores(cross_encoder_dir, reranking, QUESTION, first_stage)
    best = [first_stage[i] for i in np.argsort(-expected, kind="stable")[:4]]
    assert [(h.passage.article_id, h.passage.paragraph) for h in answer.hits] == [
        (h.passage.article_id, h.passage.paragraph) for h in best
    ]
    assert scores == pytest.approx(sorted(expected.tolist(), reverse=True)[:4], abs=1e-5)


def test_k_above_the_depth_reranks_k_candidates(reranking):
    hits = reranking.search(QUESTION, k=9, rerank=True)
    assert len(hits) == 9 and all("rerank" in h.scores for h in hits)


def test_rank_many_reranks_like_ask(reranking):
    (rows, scores), *_ = reranking.rank_many([QUESTION, "Uyghur wives in Xinjiang"], k=5, rerank=True)
    hits = reranking.search(QUESTION, k=5, rerank=True)
    assert [reranking.passages[row] for row in rows.tolist()] == [h.passage for h in hits]
    assert scores.tolist() == pytest.approx([h.score for h in hits])


def test_ask_many_without_rerank_never_loads_the_cross_encoder(reranking):
    reranking.ask_many([QUESTION, "Xinjiang camps"], k=2)
    assert not reranking.reranker_status().loaded


def test_default_reranker_offline_is_off_with_the_reason(lexical_index, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    retriever = Retriever.load(lexical_index)
    status = retriever.reranker_status()
    assert not status.available and status.model == DEFAULT_RERANKER
    assert "HF_HUB_OFFLINE" in status.detail
    with pytest.raises(RerankerUnavailableError, match="Reranking is off: .*not in the Hugging Face cache"):
        retriever.search(QUESTION, rerank=True)
    assert retriever.search(QUESTION, k=1)  # plain search is unaffected


def test_unreachable_hub_is_reported_quickly(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    status = locate_reranker("someone/some-cross-encoder")
    assert not status.available and "cannot be reached" in status.detail


def test_broken_model_folder_turns_reranking_off_on_first_use(lexical_index, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text("{not json")
    retriever = Retriever.load(lexical_index, reranker=str(folder))
    assert retriever.reranker_status().available  # found, not yet loaded
    with pytest.raises(RerankerUnavailableError, match="not a loadable CrossEncoder folder"):
        retriever.search(QUESTION, rerank=True)
    status = retriever.reranker_status()
    assert not status.available and "not a loadable CrossEncoder folder" in status.detail


def test_missing_model_folder_is_unavailable(tmp_path):
    status = locate_reranker(str(tmp_path / "nowhere"))
    assert not status.available and "no cross-encoder folder" in status.detail


@pytest.mark.parametrize("scores,order", [([0.1, 0.9, 0.5], [1, 2, 0]), ([1.0, 1.0, 2.0], [2, 0, 1]), ([], [])])
def test_rerank_order_is_best_first_and_stable(scores, order):
    assert rerank_order(np.array(scores)).tolist() == order


def test_cli_ask_rerank(lexical_index, cross_encoder_dir, capsys):
    args = ["ask", QUESTION, "--index", str(lexical_index), "--json", "-k", "2", "--rerank"]
    assert main([*args, "--reranker", str(cross_encoder_dir)]) == 0
    out = capsys.readouterr().out
    assert '"mode": "lexical+rerank"' in out and '"rerank":' in out


def test_cli_ask_rerank_without_a_model_is_one_error_line(lexical_index, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["ask", QUESTION, "--index", str(lexical_index), "--rerank"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: Reranking is off:")
