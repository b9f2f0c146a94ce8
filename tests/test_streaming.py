"""Writing an index a chunk at a time: BM25 fields, .npy row files, the catalog, the vector index from disk."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import bm25s
import numpy as np
import pytest

from qa.index.arrays import NpyReader, NpyWriter
from qa.index.catalog import Catalog, CatalogWriter, write_catalog
from qa.index.dense import DenseIndex, DenseSettings
from qa.index.postings import FieldWriter
from qa.index.terms import Analyzer
from qa.records import Article, Passage

SCIFACT = Path("/work/shared/eval/beir-scifact")


@pytest.fixture(scope="module")
def scifact_terms() -> tuple[list[list[str]], list[list[str]]]:
    """1,500 SciFact abstracts and 150 claims as analysed terms (one empty document on purpose)."""
    analyzer = Analyzer()
    documents = []
    with gzip.open(SCIFACT / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            documents.append(analyzer.terms(record["title"] + "\n" + record["text"]))
            if len(documents) == 1500:
                break
    documents[7] = []
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as handle:
        questions = [analyzer.terms(json.loads(line)["text"]) for line in handle][:150]
    return documents, questions


def _write_field(documents: list[list[str]], folder: Path, chunk: int, method: str = "lucene") -> Path:
    writer = FieldWriter(folder / "scratch", method, k1=0.9, b=0.75)
    for start in range(0, len(documents), chunk):
        writer.add(documents[start : start + chunk])
    writer.finish(folder / "field")
    return folder / "field"


@pytest.mark.parametrize("method", ["lucene", "robertson", "atire", "bm25l", "bm25+"])
def test_field_written_in_chunks_scores_bit_for_bit_like_bm25s(scifact_terms, tmp_path, method):
    documents, questions = scifact_terms
    reference = bm25s.BM25(method=method, k1=0.9, b=0.75)
    reference.index(documents, show_progress=False)
    written = bm25s.BM25.load(_write_field(documents, tmp_path, chunk=333, method=method), mmap=True)
    assert written.scores["num_docs"] == len(documents)
    for question in questions:
        assert np.array_equal(written.get_scores(question), reference.get_scores(question))
    assert not (tmp_path / "scratch").exists(), "the scratch files are removed"


def test_same_documents_give_identical_files_whatever_the_chunks(scifact_terms, tmp_path):
    documents, _ = scifact_terms
    one = _write_field(documents, tmp_path / "one", chunk=len(documents))
    many = _write_field(documents, tmp_path / "many", chunk=97)
    for path in sorted(one.iterdir()):
        if path.name != "params.index.json":  # holds the bm25s version only
            assert path.read_bytes() == (many / path.name).read_bytes(), path.name


def test_npy_rows_written_in_blocks_read_back_by_numpy_and_by_reader(tmp_path):
    rows = np.random.default_rng(0).standard_normal((1003, 7)).astype(np.float32)
    with NpyWriter(tmp_path / "v.npy", np.float32, (7,)) as writer:
        for start in range(0, len(rows), 100):
            writer.add(rows[start : start + 100])
    assert np.array_equal(np.load(tmp_path / "v.npy"), rows)
    assert np.array_equal(np.load(tmp_path / "v.npy", mmap_mode="r"), rows)
    reader = NpyReader(tmp_path / "v.npy")
    assert reader.shape == (1003, 7) and len(reader) == 1003
    assert np.array_equal(reader[5:17], rows[5:17]) and np.array_equal(reader[990:2000], rows[990:])
    assert np.array_equal(reader[np.array([3, 900, 1])], rows[[3, 900, 1]])
    assert np.array_equal(np.concatenate([block for _, block in reader.blocks(64)]), rows)
    with NpyWriter(tmp_path / "empty.npy", np.uint8, (16,)):
        pass
    assert np.load(tmp_path / "empty.npy").shape == (0, 16)
    with pytest.raises(ValueError, match="shape"), NpyWriter(tmp_path / "bad.npy", np.float32, (7,)) as writer:
        writer.add(np.zeros((2, 3), dtype=np.float32))


def _articles(count: int) -> tuple[list[Article], list[Passage]]:
    outlets = ["Wire", None, "Courier", "Wire"]
    articles, passages = [], []
    for number in range(count):
        text = f"First paragraph {number}.\n\nSecond paragraph about item {number}."
        date = None if number % 5 == 0 else f"2020-01-{number % 28 + 1:02d}"
        article = Article(f"a{number}", f"a{number}.txt", text, f"Title {number}", outlets[number % 4], date=date)
        articles.append(article)
        passages.extend(
            Passage(article.id, paragraph, start, end, text[start:end])
            for paragraph, (start, end) in enumerate(article.paragraph_spans(), 1)
        )
    return articles, passages


def test_catalog_written_in_chunks_equals_catalog_written_at_once(tmp_path):
    articles, passages = _articles(37)
    (tmp_path / "once").mkdir()
    (tmp_path / "chunks").mkdir()
    write_catalog(tmp_path / "once", articles, passages)
    writer = CatalogWriter(tmp_path / "chunks")
    for start in range(0, len(articles), 10):
        chunk = articles[start : start + 10]
        ids = {article.id for article in chunk}
        writer.add(chunk, [passage for passage in passages if passage.article_id in ids])
    writer.finish()
    for path in sorted((tmp_path / "once").rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (tmp_path / "chunks" / path.relative_to(tmp_path / "once")).read_bytes()
    catalog = Catalog.load(tmp_path / "chunks", len(passages), len(articles))
    assert list(catalog.passages) == passages and catalog.article_of(len(passages) - 1) == articles[-1]


@pytest.mark.parametrize("approximate_above", [5_000, 50_000])
def test_vector_index_built_from_a_file_equals_one_built_from_memory(tmp_path, approximate_above):
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((6_000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[:40] + 0.1 * rng.standard_normal((40, 32)).astype(np.float32)
    with NpyWriter(tmp_path / "vectors.npy", np.float32, (32,)) as writer:
        writer.add(vectors)
    settings = DenseSettings(approximate_above=approximate_above)
    from_memory = DenseIndex.build(vectors, settings, queries)
    from_file = DenseIndex.build(NpyReader(tmp_path / "vectors.npy"), settings, queries)
    assert from_file.describe() == from_memory.describe()
    for left, right in zip(from_file.search(queries, 10), from_memory.search(queries, 10)):
        assert np.array_equal(left, right)
