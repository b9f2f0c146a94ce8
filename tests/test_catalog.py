"""Passages and articles are read from disk by row, not held as objects; filters run on arrays."""

from __future__ import annotations

import datetime as dt
import gc
import json
import shutil
from collections.abc import Mapping, Sequence

import pytest

from qa.errors import IndexFormatError
from qa.index.build import index_articles
from qa.index.catalog import CATALOG_DIR, NO_DAY, day_number
from qa.index.integrity import file_record
from qa.index.manifest import FORMAT_VERSION, Manifest, is_qa_index
from qa.records import Article, Passage
from qa.search.local import CatalogRows
from qa.search.request import check_filters
from qa.search.retriever import Retriever
from qa.serve.hints import error_line

OUTLETS = ["Alpha Daily", "Beta Post", "Gamma Times", None]
WORDS = "river flood court police school market border trade hospital election harbour rail".split()


def _articles(count: int) -> list[Article]:
    articles = []
    for n in range(count):
        paragraphs = [
            " ".join(WORDS[(n * 7 + p * 3 + w) % len(WORDS)] for w in range(12)).capitalize() + f" story {n}."
            for p in range(4)
        ]
        date = None if n % 5 == 0 else (dt.date(2020, 1, 1) + dt.timedelta(days=n)).isoformat()
        articles.append(
            Article(
                id=f"a{n:05d}",
                path=f"a{n:05d}.txt",
                text="\n\n".join(paragraphs),
                title=f"Story {n}",
                outlet=OUTLETS[n % len(OUTLETS)],
                date=date,
            )
        )
    return articles


@pytest.fixture(scope="module")
def catalog_index(tmp_path_factory):
    index = tmp_path_factory.mktemp("catalog") / "index"
    index_articles(_articles(500), index, model=None)
    return index


def test_passages_are_a_lazy_sequence_with_list_behaviour(catalog_index):
    retriever = Retriever.load(catalog_index)
    passages = retriever.passages
    assert isinstance(passages, Sequence) and not isinstance(passages, list)
    everything = list(passages)
    assert len(passages) == len(everything) == 2000
    assert passages[0] == everything[0] and passages[-1] == everything[-1] and passages[1999] == everything[1999]
    assert passages[10:13] == everything[10:13]
    assert passages == everything and passages == Retriever.load(catalog_index).passages
    assert passages != everything[:-1]
    with pytest.raises(IndexError):
        passages[2000]
    lines = (catalog_index / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    assert [p.to_dict() for p in everything] == [json.loads(line) for line in lines]


def test_articles_map_ids_to_articles_read_on_demand(catalog_index):
    retriever = Retriever.load(catalog_index)
    articles = retriever.articles
    assert isinstance(articles, Mapping) and not isinstance(articles, dict)
    expected = {a.id: a for a in _articles(500)}
    assert len(articles) == 500 and list(articles) == list(expected)
    assert articles["a00042"] == expected["a00042"] and "a00042" in articles and "nope" not in articles
    assert dict(articles) == expected
    assert retriever.article("a00007") == expected["a00007"]


def test_loading_creates_no_passage_or_article_objects(catalog_index):
    """Opening the index parses no JSON line: rows become objects only when read."""

    def records() -> int:
        return sum(isinstance(thing, (Passage, Article)) for thing in gc.get_objects())

    gc.collect()
    before = records()
    retriever = Retriever.load(catalog_index)
    assert records() == before
    hits = retriever.search("river flood court", k=3)
    assert len(hits) == 3 and records() <= before + 2 * len(hits)
    del hits


@pytest.mark.parametrize(
    "filters",
    [
        {"outlets": ["Beta Post"]},
        {"outlets": ["Alpha Daily", "Gamma Times"]},
        {"date_from": "2020-03-01"},
        {"date_to": "2020-02-10"},
        {"outlets": ["Gamma Times"], "date_from": "2020-02-01", "date_to": "2020-06-30"},
    ],
)
def test_filters_on_arrays_match_filtering_article_by_article(catalog_index, filters):
    retriever = Retriever.load(catalog_index)
    articles = {a.id: a for a in _articles(500)}
    start = dt.date.fromisoformat(filters.get("date_from", "1900-01-01"))
    end = dt.date.fromisoformat(filters.get("date_to", "2999-12-31"))
    has_dates = "date_from" in filters or "date_to" in filters

    def passes(article: Article) -> bool:
        if "outlets" in filters and article.outlet not in filters["outlets"]:
            return False
        dated = article.date is not None and start <= dt.date.fromisoformat(article.date) <= end
        return dated or not has_dates

    expected = [row for row, p in enumerate(retriever.passages) if passes(articles[p.article_id])]
    checked = check_filters(
        filters.get("outlets"), filters.get("date_from"), filters.get("date_to"), retriever.outlets()
    )
    allowed = CatalogRows(retriever.catalog)(checked)
    assert allowed.tolist() == expected
    hits = retriever.search("river flood court police", k=20, **filters)
    assert hits and all(passes(hit.article) for hit in hits)


def test_day_number_reads_iso_dates_and_marks_the_rest():
    assert day_number("1970-01-02") == 1
    assert day_number(dt.date(1970, 1, 1)) == 0
    assert day_number("2019-05-11T10:00:00") == (dt.date(2019, 5, 11) - dt.date(1970, 1, 1)).days
    assert day_number(None) == day_number("May 2019") == NO_DAY


def test_an_index_of_format_1_is_refused_with_a_rebuild_hint_and_a_build_replaces_it(tmp_path, catalog_index):
    """Format 1 indexes could lack catalog/; format 2 always has it, so an old index is rebuilt, not scanned."""
    old = tmp_path / "old"
    shutil.copytree(catalog_index, old)
    shutil.rmtree(old / CATALOG_DIR)
    manifest = Manifest.read(old)
    manifest.files = {name: record for name, record in manifest.files.items() if not name.startswith("catalog/")}
    manifest.format_version = 1
    manifest.write(old)  # a manifest as such an index had (with its own checksum)
    assert is_qa_index(old)
    with pytest.raises(IndexFormatError, match=r"uses an old format \(1\)\. Rebuild the index\.") as refused:
        Retriever.load(old)
    assert error_line(refused.value, old).endswith(f"uses an old format (1). Rebuild it with `qa build --index {old}`.")
    index_articles(_articles(5), old, model=None)
    assert Retriever.load(old).manifest.format_version == FORMAT_VERSION


def test_catalog_that_disagrees_with_the_passages_file_is_refused(tmp_path, catalog_index):
    import numpy as np

    from qa.errors import IndexMismatchError

    broken = tmp_path / "broken"
    shutil.copytree(catalog_index, broken)
    offsets = np.load(broken / CATALOG_DIR / "passage_offsets.npy")
    offsets[-1] += 1
    np.save(broken / CATALOG_DIR / "passage_offsets.npy", offsets)
    manifest = Manifest.read(broken)  # re-record its checksum, so the catalog's own check is what fails
    manifest.files[f"{CATALOG_DIR}/passage_offsets.npy"] = file_record(broken / CATALOG_DIR / "passage_offsets.npy")
    manifest.write(broken)
    with pytest.raises(IndexMismatchError, match=r"passages.jsonl has \d+ bytes but its catalog expects"):
        Retriever.load(broken)
