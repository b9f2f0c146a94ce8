"""`qa eval`: a dataset indexed with the product's code, every query asked, the figures reported."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from qa.evaluate.evaldata import load_eval_set
from qa.evaluate.evaluation import evaluate, splice_reranked
from qa.evaluate.metrics import METRICS
from qa.serve.cli import main
from tests.support.eval_fixtures import write_beir, write_squad

METRIC_KEYS = {*METRICS, "qps"}
EVAL_DATA = Path(os.environ.get("QA_EVAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "eval"))


@pytest.fixture()
def beir(tmp_path) -> Path:
    return write_beir(tmp_path / "beir")


def _eval_json(capsys, *args) -> dict:
    assert main(["eval", *map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_json_reports_every_metric_per_mode(beir, capsys):
    report = _eval_json(capsys, beir)
    assert report.keys() == {"dataset", "split", "queries", "passages", "modes"}
    assert (report["dataset"], report["split"], report["queries"], report["passages"]) == ("beir", "test", 5, 6)
    lexical = report["modes"]["lexical"]
    assert lexical.keys() == METRIC_KEYS and lexical["qps"] > 0
    # each claim shares its key words with its own abstract only
    assert {name: lexical[name] for name in METRICS} == dict.fromkeys(METRICS, 1.0)


def test_eval_human_table(beir, capsys):
    assert main(["eval", str(beir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("beir (test): 5 queries, 6 passages")
    assert "mode       nDCG@10     R@1     R@5    R@10   R@100  MRR@10      q/s" in out
    assert "\nlexical     1.0000  1.0000" in out


def test_eval_squad_file_with_article_subset(tmp_path, capsys):
    report = _eval_json(capsys, write_squad(tmp_path / "dev.json"), "--articles", "2-3")
    assert (report["queries"], report["passages"], report["articles"]) == (3, 5, "2-3")
    assert report["modes"]["lexical"]["recall@5"] == 1.0


def test_every_mode_with_tiny_local_models(beir, capsys, static_model_dir, cross_encoder_dir):
    report = _eval_json(capsys, beir, "--mode", "all", "--model", static_model_dir, "--reranker", cross_encoder_dir)
    assert list(report["modes"]) == ["lexical", "dense", "hybrid", "rerank"]
    assert report["rerank_first_stage"] == "hybrid"
    for figures in report["modes"].values():
        assert figures.keys() == METRIC_KEYS
        assert all(0.0 <= figures[name] <= 1.0 for name in METRICS) and figures["qps"] > 0
    # rerank reorders the first stage's top candidates only; what lies below them is the first stage's
    assert report["modes"]["rerank"]["recall@100"] == report["modes"]["hybrid"]["recall@100"]


def test_mode_all_skips_what_cannot_run_and_says_why(beir, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    report = _eval_json(capsys, beir, "--mode", "all", "--model", "no-org/no-model")
    assert list(report["modes"]) == ["lexical"]
    assert set(report["skipped"]) == {"dense", "hybrid", "rerank"}
    assert "HF_HUB_OFFLINE" in report["skipped"]["rerank"]


def test_rerank_mode_alone_uses_lexical_first_stage(beir, cross_encoder_dir):
    eval_set = load_eval_set(beir)
    report = evaluate(eval_set, ["rerank"], reranker=str(cross_encoder_dir), rerank_depth=3)
    assert list(report.modes) == ["rerank"] and report.first_stage == "lexical"
    assert report.modes["rerank"].metrics["recall@100"] == 1.0


def test_lexical_overrides_change_the_run(beir, capsys):
    report = _eval_json(capsys, beir, "--lexical", "k1=1.2", "--lexical", "bigram_weight=0")
    assert report["modes"]["lexical"]["ndcg@10"] == 1.0


@pytest.mark.parametrize(
    "args,message",
    [
        (["nowhere"], "error: No dataset at nowhere"),
        (
            ["{beir}", "--mode", "dense", "--model", "no-org/no-model"],
            "error: Model no-org/no-model is not in the Hugging",
        ),
        (["{beir}", "--mode", "rerank"], "error: Reranking is off:"),
        (["{beir}", "--lexical", "k1=much"], "error: Cannot set k1 to 'much': it takes a float."),
        (["{beir}", "--lexical", "colour=blue"], "error: Cannot set 'colour=blue': write KEY=VALUE"),
        (["{beir}", "--split", "dev"], "error: .*dev.tsv is missing"),
    ],
)
def test_user_mistakes_are_one_error_line(beir, capsys, monkeypatch, args, message):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["eval", *(arg.format(beir=beir) for arg in args)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert re.match(message, err[0]), err[0]


@pytest.mark.parametrize(
    "reranked,first_stage,depth,expected",
    [
        ([3, 1], [1, 3, 5, 7], 4, [3, 1, 5, 7]),
        ([3, 1], [1, 3, 5, 7], 3, [3, 1, 5]),
        ([2], [2], 5, [2]),
        ([], [4, 5], 5, [4, 5]),
    ],
)
def test_splice_reranked_keeps_the_first_stage_below_the_depth(reranked, first_stage, depth, expected):
    assert splice_reranked(np.array(reranked, dtype=np.int64), np.array(first_stage), depth).tolist() == expected


@pytest.mark.slow
@pytest.mark.skipif(not (EVAL_DATA / "squad-v1.1" / "dev-v1.1.json").is_file(), reason="no SQuAD data here")
def test_real_squad_subset_smoke(capsys):
    """One SQuAD article's questions against all 2,067 paragraphs: the real data, end to end."""
    report = _eval_json(capsys, EVAL_DATA / "squad-v1.1" / "dev-v1.1.json", "--articles", "2")
    assert report["passages"] == 2067 and report["queries"] > 100
    assert report["modes"]["lexical"]["recall@5"] > 0.85


def test_a_kept_evaluation_index_lends_its_vectors_to_the_next_run(beir, tmp_path, static_model_dir, capsys):
    """With --keep-index the passages are embedded once: the next run (another split, calibration) reuses them."""
    from qa.index.manifest import Manifest

    keep = tmp_path / "kept"
    first = _eval_json(capsys, beir, "--mode", "hybrid", "--model", static_model_dir, "--keep-index", keep)
    assert Manifest.read(keep).vectors.reused == 0
    again = _eval_json(
        capsys, beir, "--mode", "hybrid", "--model", static_model_dir, "--keep-index", keep, "--confidence"
    )
    assert Manifest.read(keep).vectors.embedded == 0
    assert again["modes"] == first["modes"] | {
        "hybrid": {**first["modes"]["hybrid"], "qps": again["modes"]["hybrid"]["qps"]}
    }
    assert again["confidence"]["hybrid"]["rebuilds"] >= 1
