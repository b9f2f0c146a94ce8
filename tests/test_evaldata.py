"""Reading evaluation datasets: BEIR folders and SQuAD v1.1 files, and the errors for bad ones."""

from __future__ import annotations

import gzip
import json

import pytest

from qa.errors import DatasetError
from qa.evaluate.evaldata import load_eval_set, parse_article_numbers
from tests.support.eval_fixtures import write_beir, write_squad


@pytest.mark.parametrize("gzipped", [True, False])
def test_beir_folder_reads_corpus_queries_and_positive_judgements(tmp_path, gzipped):
    eval_set = load_eval_set(write_beir(tmp_path / "beir", gzipped=gzipped))
    assert (eval_set.kind, eval_set.split, eval_set.name) == ("beir", "test", "beir")
    assert [a.id for a in eval_set.articles] == ["d1", "d2", "d3", "d4", "d5", "d6"]
    assert eval_set.articles[0].title == "Vitamin D and bone density"
    assert eval_set.articles[4].title is None  # an empty title stays empty
    assert [q.id for q in eval_set.queries] == ["q1", "q2", "q3", "q4", "q5"]  # q9 is judged only in train
    assert eval_set.qrels["q4"] == {"d5": 1}  # the score-0 line is not a relevant passage
    assert eval_set.qrels["q5"] == {"d6": 2}


def test_beir_train_split(tmp_path):
    eval_set = load_eval_set(write_beir(tmp_path / "beir"), split="train")
    assert [(q.id, q.text) for q in eval_set.queries] == [("q9", "A query with judgements only in the train split.")]


def test_squad_paragraphs_are_passages_titled_by_their_article(tmp_path):
    eval_set = load_eval_set(write_squad(tmp_path / "dev.json"))
    assert (eval_set.kind, eval_set.split) == ("squad", "dev")
    assert [(a.id, a.title) for a in eval_set.articles] == [
        ("1-1", "Super Bowl 50"),
        ("1-2", "Super Bowl 50"),
        ("2-1", "Oxygen"),
        ("2-2", "Oxygen"),
        ("3-1", "Warsaw"),
    ]
    assert len(eval_set.queries) == 6
    assert eval_set.qrels["id2"] == {"1-1": 1} and eval_set.qrels["id6"] == {"3-1": 1}
    assert eval_set.gold_groups("id4") == {"2"}


def test_squad_article_subset_keeps_the_whole_corpus(tmp_path):
    eval_set = load_eval_set(write_squad(tmp_path / "dev.json"), articles="2-3")
    assert len(eval_set.articles) == 5
    assert [q.text for q in eval_set.queries] == [
        "What is the atomic number of oxygen?",
        "Who discovered oxygen?",
        "On which river does Warsaw stand?",
    ]
    assert eval_set.subset == "2-3"


@pytest.mark.parametrize(
    "spec,count,expected",
    [("1-24", 48, list(range(1, 25))), ("3,5,7-9", 10, [3, 5, 7, 8, 9]), (" 2 - 3 ,1", 3, [1, 2, 3]), ("4", 4, [4])],
)
def test_article_ranges(spec, count, expected):
    assert parse_article_numbers(spec, count) == expected


@pytest.mark.parametrize("spec", ["0-3", "3-2", "1-49", "a-b", "", "1,,2"])
def test_bad_article_ranges_are_refused(spec):
    with pytest.raises(DatasetError, match="Articles") as refused:
        parse_article_numbers(spec, 48)
    assert refused.value.option == "articles"


def _broken(tmp_path, what):
    folder = write_beir(tmp_path / "beir")
    if what == "no corpus":
        (folder / "corpus.jsonl.gz").unlink()
    elif what == "no queries":
        (folder / "queries.jsonl").unlink()
    elif what == "bad json":
        with gzip.open(folder / "corpus.jsonl.gz", "at", encoding="utf-8") as handle:
            handle.write("{not json\n")
    elif what == "no id":
        with gzip.open(folder / "corpus.jsonl.gz", "at", encoding="utf-8") as handle:
            handle.write(json.dumps({"title": "t", "text": "x"}) + "\n")
    elif what == "unknown doc":
        with (folder / "qrels" / "test.tsv").open("a") as handle:
            handle.write("q1\tnope\t1\n")
    elif what == "bad qrels":
        with (folder / "qrels" / "test.tsv").open("a") as handle:
            handle.write("q1 only-two-fields\n")
    return folder


@pytest.mark.parametrize(
    "what,message",
    [
        ("no corpus", r"corpus\.jsonl is missing; a BEIR folder holds"),
        ("no queries", r"queries\.jsonl is missing"),
        ("bad json", r"corpus\.jsonl\.gz:7 is not JSON"),
        ("no id", r"corpus\.jsonl\.gz:7 has no '_id' field"),
        ("unknown doc", r"judges 1 document\(s\) not in"),
        ("bad qrels", r"test\.tsv:8 should be 'query-id<TAB>corpus-id<TAB>score'"),
    ],
)
def test_broken_beir_folder_is_named_in_the_error(tmp_path, what, message):
    with pytest.raises(DatasetError, match=message):
        load_eval_set(_broken(tmp_path, what))


@pytest.mark.parametrize(
    "make,kwargs,message",
    [
        (lambda tmp: tmp / "missing", {}, "No dataset at"),
        (lambda tmp: write_beir(tmp / "beir"), {"split": "dev"}, r"dev\.tsv is missing.*Splits here: test, train"),
        (lambda tmp: write_beir(tmp / "beir"), {"articles": "1-2"}, "Articles pick SQuAD questions"),
        (lambda tmp: write_squad(tmp / "dev.json"), {"split": "train"}, "has no splits"),
        (lambda tmp: write_squad(tmp / "dev.json"), {"articles": "1-9"}, "this file has articles 1-3"),
        (lambda tmp: _write(tmp / "x.json", "[1, 2]"), {}, "is not a SQuAD v1.1 file"),
        (lambda tmp: _write(tmp / "x.json", '{"data": [{"title": "t"}]}'), {}, "missing or wrong field"),
        (lambda tmp: _write(tmp / "x.json", "not json"), {}, "Cannot read .* as a SQuAD JSON file"),
    ],
)
def test_bad_dataset_arguments_get_a_clear_message(tmp_path, make, kwargs, message):
    with pytest.raises(DatasetError, match=message):
        load_eval_set(make(tmp_path), **kwargs)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path
