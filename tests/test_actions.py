"""The page's actions on an answer, without a server: downloads of picked hits, marks, pasted batches."""

from __future__ import annotations

import csv
import io

import pytest

from qa.errors import InvalidRequestError
from qa.evaluate.marks import read_marks
from qa.search.retriever import Retriever
from qa.serve.actions import ask_pasted, download_answer, download_batch, mark_hit

LEVY = "What did the council approve for embankment repairs?"


@pytest.fixture(scope="module")
def newsroom(newsroom_index):
    return Retriever.load(newsroom_index)


def test_download_of_picked_hits_is_csv_or_markdown_named_after_the_question(newsroom):
    answer = newsroom.ask(LEVY, k=4)
    picked = download_answer(answer, [2, 4], "csv")
    assert picked.name.startswith("news-qa-what-did-the-council-approve-for-embankment-") and picked.name.endswith(
        ".csv"
    )
    assert picked.media_type == "text/csv" and picked.text.startswith("\ufeffid,question,confident,rank,")
    assert [row["rank"] for row in csv.DictReader(io.StringIO(picked.text.removeprefix("\ufeff")))] == ["2", "4"]
    everything = download_answer(answer, [], "markdown")
    assert everything.name.endswith(".md") and all(f"\n{rank}. " in everything.text for rank in (1, 2, 3, 4))
    with pytest.raises(InvalidRequestError, match="None of the picked passages"):
        download_answer(answer, [9], "csv")
    with pytest.raises(InvalidRequestError, match="Unknown download format"):
        download_answer(answer, None, "docx")


def test_marking_a_hit_appends_its_passage_hash(newsroom, tmp_path):
    answer = newsroom.ask(LEVY, k=3)
    path = tmp_path / "marks.jsonl"
    mark_hit(path, answer, 1, True)
    mark_hit(path, answer, 2, False)
    mark_hit(path, answer, 1, False)  # changed my mind
    marks, problems = read_marks(path)
    assert problems == []
    hit1, hit2 = answer.hits[0], answer.hits[1]
    assert [(m.article_id, m.paragraph, m.passage_sha256, m.relevant) for m in marks] == [
        (hit2.article.id, hit2.passage.paragraph, hit2.passage.sha256, False),
        (hit1.article.id, hit1.passage.paragraph, hit1.passage.sha256, False),
    ]
    with pytest.raises(InvalidRequestError, match="no passage 7"):
        mark_hit(path, answer, 7, True)


def test_pasted_questions_skip_comments_and_report_failures(newsroom):
    results = ask_pasted(newsroom, f"# monthly\n{LEVY}\n\n-Beijing\nWho rescued families?\n", 2)
    assert [r.question for r in results] == [LEVY, "-Beijing", "Who rescued families?"]
    assert results[0].answer and results[1].error and "Add words" in results[1].error
    rows = list(csv.DictReader(io.StringIO(download_batch(results).text.removeprefix("\ufeff"))))
    assert list(dict.fromkeys(row["question"] for row in rows)) == [LEVY, "-Beijing", "Who rescued families?"]
    assert [row["rank"] for row in rows if row["question"] == LEVY] == ["1", "2"]
    assert [row["error"] != "" for row in rows if row["question"] == "-Beijing"] == [True]
    with pytest.raises(InvalidRequestError, match="Paste one question"):
        ask_pasted(newsroom, "\n# only a comment\n", 2)
    with pytest.raises(InvalidRequestError, match="at most 200"):
        ask_pasted(newsroom, "question\n" * 201, 1)


def test_the_desk_marks_hits_says_where_and_remembers_them(newsroom, tmp_path):
    from qa.errors import QAError
    from qa.serve.actions import Desk

    desk = Desk(None, tmp_path / "marks.jsonl")
    assert desk.audit_option() == (False, "turned off for this server (QA_AUDIT_LOG=off)")
    answer = newsroom.ask(LEVY, k=3)
    assert desk.marks_for(answer) == {}  # no marks file yet
    line = desk.mark(answer, {"rank": 2, "relevant": False})
    assert line.startswith(f"Marked ¶{answer.hits[1].passage.paragraph} of “") and "not relevant" in line
    assert str(tmp_path / "marks.jsonl") in line
    assert desk.marks_for(answer) == {2: False}
    assert desk.marks_for(newsroom.ask("levy repairs", k=3)) == {}  # marks belong to their question
    for answer_on_screen, request, message in (
        (None, {"rank": 1, "relevant": True}, "Ask a question first"),
        (answer, {"rank": "first"}, "could not be read"),
        (answer, {"rank": 9, "relevant": True}, "no passage 9"),
    ):
        with pytest.raises(QAError, match=message):
            desk.mark(answer_on_screen, request)
    blocked = Desk(None, tmp_path / "marks.jsonl" / "inside-a-file.jsonl")
    with pytest.raises(QAError, match="could not be saved in"):
        blocked.mark(answer, {"rank": 1, "relevant": True})
