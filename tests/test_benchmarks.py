"""The benchmark harness runs end to end on a tiny corpus and reports consistent figures."""

from __future__ import annotations

import json

import pytest

from benchmarks.data import SCIFACT_DIR

pytestmark = pytest.mark.skipif(
    not (SCIFACT_DIR / "corpus.jsonl.gz").is_file(), reason="SciFact is not on this machine"
)


def test_synthetic_articles_are_reproducible_and_sized_by_paragraphs():
    from benchmarks.data import make_articles

    first, again = make_articles(500), make_articles(500)
    assert first == again
    paragraphs = sum(article.text.count("\n\n") + 1 for article in first)
    assert 500 <= paragraphs < 512 and len({a.id for a in first}) == len(first)
    texts = [p for article in first for p in article.text.split("\n\n")]
    assert len(set(texts)) == len(texts), "paragraphs are unique"


def test_bge_shape_matches_the_published_model_size():
    from benchmarks.encoders import BGE_SMALL

    assert 33_000_000 < BGE_SMALL.parameters() < 33_600_000  # bge-small-en-v1.5: 33.4M parameters
    assert BGE_SMALL.flops_per_token(128) == pytest.approx(2 * 21.2e6 + 12 * 4 * 128 * 384, rel=0.01)


@pytest.mark.slow
def test_harness_smoke_run_on_a_tiny_corpus(tmp_path):
    from benchmarks.__main__ import Plan, run
    from benchmarks.build import bge_model_dir, static_model_dir
    from benchmarks.encoders import BertShape, build_bge_shaped_model, build_static_encoder
    from benchmarks.report import format_report

    work = tmp_path / "work"
    build_static_encoder(static_model_dir(work), dimension=32, vocab_size=3000)
    tiny = BertShape(vocab_size=3000, hidden=32, layers=1, heads=2, intermediate=64, max_positions=128)
    build_bge_shaped_model(bge_model_dir(work), tiny)
    # txtai is left to `make bench`; OCR to tests/test_formats.py
    plan = Plan((1200,), (1200,), 20, (), 1200, (1200,), 16, startup_runs=1, pdf_pages=6, ocr_pages=0)
    results = run(plan, work, lambda line: None)
    json.dumps(results)  # everything is plain JSON
    entry = results["sizes"]["1200"]

    build = entry["build"]
    assert build["passages"] >= 1200 and set(build["seconds"]) == {
        "load",
        "split",
        "embed",
        "lexical",
        "duplicates",
        "dense",
        "write",
    }
    assert build["dense"]["index"] == "Flat" and build["disk_bytes"]["total"] > 0

    query = entry["query"]
    for mode in ("lexical", "dense", "hybrid"):
        assert 0 < query["modes"][mode]["search"]["p50_ms"] <= query["modes"][mode]["search"]["p95_ms"]
    assert query["dense_index"]["recall_at_10_vs_exact"] == 1.0  # exact search below the threshold
    assert query["memory"]["peak_rss"] > 0 and query["rss_bytes_per_passage"] > 0

    assert entry["plain_bm25s"]["queries_per_second"] > 0 and entry["rank_bm25"]["queries_per_second"] > 0

    runs = entry["rebuild"]["runs"]
    assert 0 < runs["add_one_article"]["vectors_embedded"] < 20
    assert runs["add_one_article"]["vectors_reused"] == build["passages"]
    assert runs["full_rebuild"]["vectors_reused"] == 0

    copies = entry["duplicates"]
    assert copies["planted_copies"] > 0 and copies["recall"] == 1.0 and copies["cpu_seconds"] > 0

    assert entry["startup"]["breakdown_seconds"]["hits"] == 5
    assert results["import_qa"]["import_seconds_median"] < 1.0
    assert results["model_cost"]["passages_per_second"] > 0

    text = results["documents"]["text_pdf"]
    assert text["pages"] == 6 and text["pages_per_second"] > 0 and text["paragraphs_found"] > 0.9
    assert text["running_lines_left"] == 0

    report = format_report(results)
    headings = ("Build", "Search latency", "Peers", "Approximate dense index", "Memory", "Start-up", "rebuild", "Wire")
    headings += ("Reading documents", "text PDF pages read per second")
    for heading in headings:
        assert heading in report


@pytest.mark.slow
def test_load_test_smoke_run_against_the_real_app(tmp_path, seed_corpus):
    from benchmarks.load import format_result, run

    result = run(2, 3, 3, tmp_path / "work", seed_corpus, model="none", log=lambda line: None)
    json.dumps(result)
    assert result["index"]["mode"] == "lexical" and result["index"]["passages"] > 0
    assert result["requests"] >= 2 and result["errors"] == 0, result["error_examples"]
    assert 0 < result["latency"]["p50_ms"] <= result["latency"]["max_ms"]
    assert len(result["requests_per_caller"]) == 2 and min(result["requests_per_caller"]) >= 1
    assert "errors 0" in format_result(result)


@pytest.mark.slow
def test_real_model_harness_times_the_default_model(tmp_path):
    """benchmarks.real_model: question encoding, build throughput and an end-to-end search on corpus/ built
    with the default model, each figure from the real model (a few questions, so the figures are only sane)."""
    from benchmarks.real_model import build, encoding, format_report, search, summary

    encoded = encoding(questions=6)
    assert encoded["model"] == "sentence-transformers/all-MiniLM-L6-v2" and encoded["question_tokens_mean"] > 5
    for clocks in encoded["by_torch_threads"].values():
        assert clocks["wall"]["n"] == 6 and 0 < clocks["cpu"]["p50_ms"] <= clocks["cpu"]["p95_ms"]
    built = build(passages=8)
    assert built["passages"] == 8 and built["passages_per_second"] > 0 and built["passages_per_cpu_second"] > 0
    searched = search(str(tmp_path), 0, questions=4)
    assert searched["model"] == "sentence-transformers/all-MiniLM-L6-v2" and searched["passages"] > 40
    for part in searched["by_torch_threads"].values():
        # the question is encoded inside the timed search, by the real model
        assert part["wall"]["n"] == 4 and part["of_which_question_encoding"]["p50_ms"] > 0
        assert part["of_which_question_encoding"]["p50_ms"] < part["wall"]["p95_ms"]
    runs = {"encoding": encoded, "build": built, "search": searched}
    measurements = {
        task: summary(task, [{"load_average_before": [1.0, 1.0, 1.0], **run}]) for task, run in runs.items()
    }
    report = format_report({"measurements": measurements})
    assert "question encoding p50 ms, cpu, 1 thread" in report and "passages/s, PyTorch fp32" in report
    json.dumps(measurements)
