"""Relevance marks: a user's judgements survive rebuilds and become `qa eval --marks` figures."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from qa.errors import DatasetError
from qa.evaluate.marks import Mark, append_mark, default_marks_path, evaluate_marks, read_marks
from qa.index.build import build_index
from qa.search.retriever import Retriever
from qa.serve.cli import main

ROOFTOPS = "Who rescued families from rooftops?"
LEVY = "What did the council approve for embankment repairs?"


def _mark_hit(path, retriever, question, rank, relevant):
    hit = retriever.ask(question, k=5).hits[rank - 1]
    return append_mark(
        path,
        Mark(question, hit.article.id, hit.passage.paragraph, hit.passage.sha256, relevant),
    )


def test_marks_file_location_is_documented_and_overridable(user_data_dir, monkeypatch, tmp_path):
    assert default_marks_path() == user_data_dir / "marks.jsonl"
    monkeypatch.setenv("QA_MARKS", str(tmp_path / "mine.jsonl"))
    assert default_marks_path() == tmp_path / "mine.jsonl"


def test_a_later_mark_replaces_an_earlier_one_and_bad_lines_are_named(tmp_path):
    path = tmp_path / "marks.jsonl"
    first = Mark("q", "a", 1, "ab" * 32, True)
    append_mark(path, first)
    stamped = append_mark(path, Mark("q", "a", 1, "ab" * 32, False))
    assert stamped.at and stamped.at.endswith("+00:00")
    with path.open("a") as handle:
        handle.write('{"question": "q", "article_id": "a", "paragraph": 0, "passage_sha256": "x", "relevant": 1}\n')
        handle.write("{oops\n")
    marks, problems = read_marks(path)
    assert marks == [stamped]
    assert problems == [
        f"{path}:3: 'paragraph' must be a whole number from 1",
        f"{path}:4 is not valid JSON (Expecting property name enclosed in double quotes)",
    ]
    line = json.loads(path.read_text().splitlines()[0])
    assert set(line) == {"question", "article_id", "paragraph", "passage_sha256", "relevant", "at"}


def test_eval_marks_scores_the_index_and_survives_a_rebuild(newsroom_corpus, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    shutil.copytree(newsroom_corpus, corpus)
    index = tmp_path / "index"
    build_index(corpus, index, model="none")
    retriever = Retriever.load(index)
    marks = tmp_path / "marks.jsonl"
    levy = retriever.ask(LEVY, k=5)
    levy_rank = next(hit.rank for hit in levy.hits if hit.article.id == "levy-vote" and hit.passage.paragraph == 1)
    _mark_hit(marks, retriever, LEVY, levy_rank, True)
    _mark_hit(marks, retriever, LEVY, 1 if levy_rank != 1 else 2, False)
    roof = retriever.ask(ROOFTOPS, k=5, collapse=False)  # every wire copy, to mark one of them
    metro = next(hit for hit in roof.hits if hit.article.id == "metro-copy")  # "lifted from rooftops"
    append_mark(marks, Mark(ROOFTOPS, "metro-copy", metro.passage.paragraph, metro.passage.sha256, True))
    with marks.open("a") as handle:  # written by hand, without "at"
        handle.write(
            json.dumps(
                {
                    "question": "Who lost flood cover?",
                    "article_id": "undated-analysis-of-flood-insurance",
                    "paragraph": 1,
                    "passage_sha256": hashlib.sha256(  # as a user computes it: the passage text as UTF-8
                        retriever.catalog.passages[
                            _row(retriever, "undated-analysis-of-flood-insurance", 1)
                        ].text.encode("utf-8")
                    ).hexdigest(),
                    "relevant": True,
                }
            )
            + "\n"
        )

    assert main(["eval", "--marks", str(marks), "--index", str(index), "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert before["split"] == "marks" and before["queries"] == 3 and before["index"] == str(index)
    assert set(before["modes"]) == {"lexical"}
    assert set(before["modes"]["lexical"]) == {
        "ndcg@10",
        "recall@1",
        "recall@5",
        "recall@10",
        "recall@100",
        "mrr@10",
        "qps",
    }
    assert before["modes"]["lexical"]["recall@10"] == 1.0
    assert "stale_marks" not in before

    # The user edits the metro story and adds a paragraph at the top of the analysis: the
    # analysis mark still finds its (moved) passage; the metro mark is stale, not reused.
    metro_file = corpus / "metro-copy.md"
    metro_file.write_text(metro_file.read_text().replace("lifted from rooftops", "winched from rooftops"))
    analysis = corpus / "undated-analysis-of-flood-insurance.md"
    analysis.write_text(
        "A new opening paragraph that the editor added later, long enough to stand alone.\n\n" + analysis.read_text()
    )
    build_index(corpus, index, model="none")

    assert main(["eval", "--marks", str(marks), "--index", str(index)]) == 0
    text = capsys.readouterr().out
    assert "(marks): 2 queries" in text
    assert "1 stale mark(s), not used:" in text
    assert (
        f"metro-copy ¶{metro.passage.paragraph} for '{ROOFTOPS}': the passage text has changed since it was marked"
        in text
    )
    assert f"1 marked question(s) have no usable relevant passage, not evaluated:\n  '{ROOFTOPS}'" in text
    after = evaluate_marks(marks, index)
    assert after.queries == 2 and after.modes["lexical"].metrics["recall@100"] == 1.0


def _row(retriever, article_id, paragraph):
    return next(
        row
        for row, passage in enumerate(retriever.passages)
        if passage.article_id == article_id and passage.paragraph == paragraph
    )


def test_eval_marks_explains_an_empty_or_missing_file(newsroom_index, tmp_path, capsys):
    assert main(["eval", "--marks", str(tmp_path / "none.jsonl"), "--index", str(newsroom_index)]) == 1
    assert "error: No marks file at" in capsys.readouterr().err
    assert main(["eval", "--marks", "--index", str(newsroom_index)]) == 1  # the default file, not there yet
    assert f"error: No marks file at {default_marks_path()}." in capsys.readouterr().err
    only_no = tmp_path / "no.jsonl"
    append_mark(only_no, Mark("q", "levy-vote", 1, "ab" * 32, False))
    with pytest.raises(DatasetError, match="has a passage marked relevant"):
        evaluate_marks(only_no, newsroom_index)
    assert main(["eval", "--marks", str(only_no), "--index", str(newsroom_index), "--split", "dev"]) == 2
    assert "--split applies to a dataset" in capsys.readouterr().err
    assert main(["eval"]) == 2
    assert "give a DATASET, or --marks" in capsys.readouterr().err
