"""Scale: the approximate vector index, its recall and filters, and the lexical fast paths."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from qa.index.build import index_articles
from qa.index.dense import VECTORS_FILE, DenseIndex, DenseSettings, cells_for, exact_top_k, recall_at
from qa.index.lexical import best_per_group
from qa.index.manifest import Manifest
from qa.records import Article
from qa.search.retriever import Retriever


def _clustered(rows: int, dimension: int = 48, clusters: int = 60, seed: int = 0) -> np.ndarray:
    """Normalized vectors around random centres: neighbourhoods like a real embedding space."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dimension))
    vectors = centres[rng.integers(clusters, size=rows)] + 0.6 * rng.standard_normal((rows, dimension))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


@pytest.fixture(scope="module")
def corpus_vectors() -> tuple[np.ndarray, np.ndarray]:
    data = _clustered(12_100)
    return data[:12_000], data[12_000:]  # passages, held-out queries


@pytest.fixture(scope="module")
def approximate(corpus_vectors) -> DenseIndex:
    vectors, _ = corpus_vectors
    return DenseIndex.build(vectors, DenseSettings(approximate_above=5_000))


def test_build_measures_recall_on_the_probes_it_is_given(corpus_vectors):
    vectors, queries = corpus_vectors
    settings = DenseSettings(approximate_above=5_000, probe_share=1 / 64, probe_recall=0.99)
    dense = DenseIndex.build(vectors, settings, queries[:50])
    truth, _ = exact_top_k(vectors, queries[:50], 10)
    found, _ = dense.search(queries[:50], 10)
    check = dense.describe().check
    assert check.probes == 50 and check.recall_at_10 == round(recall_at(found, truth), 4)
    tried = {int(nprobe): recall for nprobe, recall in check.by_nprobe.items()}
    assert min(tried) == 4 and max(tried) == dense.nprobe  # started at 1/64 of 256 cells, doubled until good
    assert tried[dense.nprobe] >= 0.99 or dense.nprobe == 256
    assert all(recall < 0.99 for nprobe, recall in tried.items() if nprobe < dense.nprobe)


def test_small_indexes_stay_exact_and_large_ones_become_ivf(corpus_vectors, approximate):
    vectors, _ = corpus_vectors
    exact = DenseIndex.build(vectors, DenseSettings(approximate_above=50_000))
    assert exact.describe().index == "Flat" and exact.describe().exact is True
    described = approximate.describe().to_dict()
    assert described["index"] == f"IVF{cells_for(12_000)},SQ8" and described["exact"] is False
    assert described["nlist"] == 256 and described["nprobe"] == 16  # 1/16 of the cells
    assert described["check"] is None  # no probes given


def test_cells_grow_with_the_square_root_of_the_rows():
    assert [cells_for(n) for n in (50_001, 100_000, 1_000_000)] == [512, 512, 2048]


def test_approximate_recall_against_exact_search_on_held_out_queries(corpus_vectors, approximate):
    vectors, queries = corpus_vectors
    truth, truth_rows = exact_top_k(vectors, queries, 10)
    found, rows = approximate.search(queries, 10)
    assert recall_at(found, truth) >= 0.98
    assert np.allclose(found, np.sum(vectors[rows] * queries[:, None, :], axis=2), atol=1e-5), "scores are exact"
    assert recall_at(truth, truth) == 1.0 and truth_rows.shape == (100, 10)


def test_batched_search_equals_one_query_at_a_time(corpus_vectors, approximate):
    _, queries = corpus_vectors
    scores, rows = approximate.search(queries[:8], 20)
    for number, query in enumerate(queries[:8]):
        one_scores, one_rows = approximate.search(query, 20)
        assert one_rows[0].tolist() == rows[number].tolist()
        assert np.allclose(one_scores[0], scores[number])


@pytest.mark.parametrize("share", [0.5, 0.05, 0.0005])
def test_filtered_approximate_search_returns_only_allowed_rows_and_finds_their_best(corpus_vectors, approximate, share):
    vectors, queries = corpus_vectors
    allowed = np.flatnonzero(np.random.default_rng(1).random(len(vectors)) < share)
    truth, _ = exact_top_k(vectors, queries, 10, allowed)
    found, rows = approximate.search(queries, 10, allowed)
    wanted = min(10, len(allowed))
    assert ((rows >= 0).sum(axis=1) == wanted).all()
    assert np.isin(rows[rows >= 0], allowed).all()
    assert recall_at(found[:, :wanted], truth) >= 0.98


def test_filter_that_allows_nothing_finds_nothing(approximate, corpus_vectors):
    _, queries = corpus_vectors
    scores, rows = approximate.search(queries[:2], 5, np.zeros(0, dtype=np.int64))
    assert (rows == -1).all() and np.isneginf(scores).all()


def test_saved_approximate_index_loads_memory_mapped_with_the_same_results(tmp_path, corpus_vectors, approximate):
    _, queries = corpus_vectors
    approximate.save(tmp_path)
    loaded = DenseIndex.load(tmp_path, approximate.describe())
    assert isinstance(loaded.vectors.base, np.memmap) and loaded.nprobe == approximate.nprobe
    assert loaded.search(queries, 10)[1].tolist() == approximate.search(queries, 10)[1].tolist()


def test_best_sentence_per_passage_equals_reduceat_over_all_sentences():
    rng = np.random.default_rng(3)
    counts = rng.integers(1, 6, size=500)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    values = np.where(rng.random(counts.sum()) < 0.2, rng.random(counts.sum()), 0).astype(np.float32)
    owner = np.repeat(np.arange(500, dtype=np.int32), counts)
    assert np.array_equal(best_per_group(values, owner, 500), np.maximum.reduceat(values, offsets))
    assert not best_per_group(np.zeros_like(values), owner, 500).any()


def test_lexical_scores_equal_bm25s_own_scoring(lexical_index):
    retriever = Retriever.load(lexical_index)
    lexical = retriever.lexical.index
    for field in (lexical._passage, lexical._sentence, lexical._bigram):
        for terms in (["traffick", "pakistan"], ["fia", "arrest", "gujranwala", "fia"], ["nosuchterm"]):
            ids = [field.vocab[t] for t in terms if t in field.vocab]
            expected = field.bm25.get_scores_from_ids(ids) if ids else np.zeros(field.num_docs)
            assert np.array_equal(field.scores(terms), np.asarray(expected, dtype=np.float32))


# -- through the builder and the retriever --------------------------------------------------

WORDS = (
    "flood river court police school market border trade hospital election harbour rail bridge "
    "budget strike drought vaccine factory tariff port"
).split()


def _articles(count: int) -> list[Article]:
    rng = np.random.default_rng(7)
    outlets = ["North Desk", "South Desk", "East Desk"]
    return [
        Article(
            id=f"n{n:04d}",
            path=f"n{n:04d}.txt",
            title=f"Report {n}",
            outlet=outlets[n % 3],
            date=f"2021-{1 + n % 12:02d}-{1 + n % 28:02d}",
            text="\n\n".join(
                " ".join(WORDS[i] for i in rng.integers(len(WORDS), size=14)).capitalize() + "." for _ in range(3)
            ),
        )
        for n in range(count)
    ]


@pytest.fixture(scope="module")
def approximate_retriever(tmp_path_factory, static_model_dir) -> Retriever:
    index = tmp_path_factory.mktemp("approximate") / "index"
    index_articles(_articles(1400), index, model=str(static_model_dir), dense=DenseSettings(approximate_above=1000))
    return Retriever.load(index)


def test_builder_records_the_approximate_index_in_the_manifest(approximate_retriever):
    manifest = json.loads((approximate_retriever.index_dir / "manifest.json").read_text())
    assert manifest["passages"] == 4200
    assert manifest["dense"]["index"] == "IVF128,SQ8" and manifest["dense"]["approximate_above"] == 1000
    assert manifest["dense"]["check"]["probes"] == 100 and 0 < manifest["dense"]["check"]["recall_at_10"] <= 1
    assert {"dense.faiss", VECTORS_FILE, "vector_keys.npy"} <= manifest["files"].keys()
    assert approximate_retriever.dense is not None and approximate_retriever.dense.index.approximate


def test_hybrid_search_with_filters_on_the_approximate_index(approximate_retriever):
    question = "flood river harbour"
    for mode in ("dense", "hybrid"):
        hits = approximate_retriever.search(question, k=10, outlets=["South Desk"], mode=mode)
        assert len(hits) == 10 and {hit.article.outlet for hit in hits} == {"South Desk"}
        dated = approximate_retriever.search(question, k=10, date_from="2021-03-01", date_to="2021-03-31", mode=mode)
        assert len(dated) == 10 and all(hit.article.date.startswith("2021-03") for hit in dated)


def test_approximate_dense_ranking_is_close_to_exact_search(approximate_retriever):
    """These articles are random word bags, the hardest case for cells (no topics); the build still probes enough."""
    dense = approximate_retriever.dense.index
    rng = np.random.default_rng(11)
    questions = [" ".join(rng.choice(WORDS, size=4, replace=False)) for _ in range(60)]
    vectors = approximate_retriever.encoder.encode_queries(questions)
    truth, _ = exact_top_k(dense.vectors, vectors, 10)
    found, _ = dense.search(vectors, 100)
    assert dense.check.recall_at_10 >= dense.settings.probe_recall or dense.nprobe == dense._ivf().nlist
    assert recall_at(found[:, :10], truth) >= 0.95


def test_index_without_a_vectors_file_still_searches(tmp_path, hybrid_index):
    """Indexes written before vectors.npy existed hold only dense.faiss (exact)."""
    old = tmp_path / "old"
    shutil.copytree(hybrid_index, old)
    for name in (VECTORS_FILE, "vector_keys.npy"):
        (old / name).unlink()
    manifest = Manifest.read(old)
    manifest.files = {k: v for k, v in manifest.files.items() if k not in (VECTORS_FILE, "vector_keys.npy")}
    manifest.dense = manifest.vectors = None
    manifest.write(old)  # a manifest as such an index had (with its own checksum)
    question = "How many traffickers did the FIA arrest in Gujranwala?"
    before = [(h.passage, round(h.score, 6)) for h in Retriever.load(hybrid_index).search(question, k=5)]
    assert [(h.passage, round(h.score, 6)) for h in Retriever.load(old).search(question, k=5)] == before


def test_many_questions_are_searched_with_one_faiss_call_and_answer_as_one_by_one(approximate_retriever, monkeypatch):
    questions = ["flood river harbour", "vaccine hospital strike", "tariff port trade border", "school budget rail"]
    one_by_one = [approximate_retriever.ask(q, k=5, outlets=["North Desk"]) for q in questions]
    calls = []
    search = approximate_retriever.dense.search
    monkeypatch.setattr(
        approximate_retriever.dense, "search", lambda *a, **kw: calls.append(a[0].shape) or search(*a, **kw)
    )
    together = approximate_retriever.ask_many(questions, k=5, outlets=["North Desk"])
    assert calls == [(4, approximate_retriever.dense.dimension)]
    assert [a.to_dict() for a in together] == [a.to_dict() for a in one_by_one]
    calls.clear()
    ranked = approximate_retriever.rank_many(questions, k=10, mode="dense")
    assert len(calls) == 1 and all(len(rows) == 10 for rows, _ in ranked)
