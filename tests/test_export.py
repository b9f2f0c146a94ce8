"""Citations fit to paste, `qa ask --format csv|markdown|json`, and batches from CSV, JSON lines and text."""

from __future__ import annotations

import csv
import io
import json

import pytest

from qa.records import Article, readable_name
from qa.search.retriever import Retriever
from qa.serve.cli import main
from qa.serve.export import CSV_COLUMNS, Asked, to_csv, to_markdown

LEVY = "What did the council approve for embankment repairs?"


@pytest.mark.parametrize(
    "article_id,outlet,name",
    [
        ("shafaqna-2024-01-01-human-trafficking-glaring-failure-of-the-state", "Shafaqna Pakistan", None),
        ("undated-analysis-of-flood-insurance", None, "Undated analysis of flood insurance"),
        ("2019-05-11-pakistan-china-working-closely", None, "Pakistan china working closely"),
        ("wires/feed/3", None, "Feed, item 3"),
        ("20190511-report", None, "Report"),
        ("109-traffickers", None, "109 traffickers"),
    ],
)
def test_untitled_articles_get_a_readable_name_not_a_slug(article_id, outlet, name):
    expected = name or "Human trafficking glaring failure of the state"
    assert readable_name(article_id, outlet) == expected
    article = Article(article_id, "x.txt", "text", outlet=outlet)
    assert article.cite(3) == (f"{outlet} — " if outlet else "") + f"{expected} (untitled), ¶3"


def test_citation_has_every_known_part_and_the_page_when_there_is_one():
    article = Article(
        "a", "a.md", "t", title="A " + "very long title " * 8, outlet="Dawn", author="Jane Roe", date="2020-01-02"
    )
    assert article.cite(4) == f'Dawn — "{article.title}", Jane Roe, 2020-01-02, ¶4'
    assert article.cite(4, page=12) == f'Dawn — "{article.title}", Jane Roe, 2020-01-02, p. 12, ¶4'


def test_full_citation_carries_url_and_quoted_sentence(newsroom_index):
    hit = Retriever.load(newsroom_index).search("Beijing flood insurance terms container terminal", k=1)[0]
    assert hit.full_citation == (
        'Harbour Times — "Port talks with Beijing stall over flood insurance", 2023-11-20, ¶1, '
        "https://harbour.example/port-talks: “Negotiators from Beijing and the Riverton port authority failed to "
        "agree on flood insurance terms for the new container terminal on Monday.”"
    )


def test_ask_csv_has_the_documented_columns_and_paste_ready_citations(newsroom_index, capsys):
    assert main(["ask", LEVY, "--index", str(newsroom_index), "--format", "csv", "-k", "3"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 3
    assert set(rows[0]) == set(CSV_COLUMNS)
    top = rows[0]
    assert top["rank"] == "1" and top["question"] == LEVY and top["id"] == ""
    assert top["title"] == "Council approves emergency levy for embankment repairs" and top["author"] == "Ana Ruiz"
    assert top["article_id"] == "levy-vote" and top["paragraph"] == "1" and top["path"] == "levy-vote.md"
    assert top["highlight"] in top["quote"]
    assert top["citation"] == (
        'Daily Ledger — "Council approves emergency levy for embankment repairs", Ana Ruiz, 2023-06-14, ¶1: '
        f"“{top['highlight']}”"
    )
    assert int(top["char_end"]) - int(top["char_start"]) == len(top["quote"])
    assert float(top["score"]) > 0 and top["error"] == ""


def test_ask_markdown_is_a_report_with_citations_and_quotes(newsroom_index, capsys):
    assert main(["ask", LEVY, "--index", str(newsroom_index), "--format", "markdown", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"## {LEVY}\n")
    assert '1. Daily Ledger — "Council approves emergency levy for embankment repairs", Ana Ruiz' in out
    assert "> The city council approved **" in out or "> **The city council approved" in out
    assert "\n2. " in out


def test_json_and_format_json_print_the_same(newsroom_index, capsys):
    main(["ask", LEVY, "--index", str(newsroom_index), "--json"])
    first = capsys.readouterr().out
    main(["ask", LEVY, "--index", str(newsroom_index), "--format", "json"])
    assert capsys.readouterr().out == first and json.loads(first)["question"] == LEVY
    assert main(["ask", LEVY, "--index", str(newsroom_index), "--json", "--format", "csv"]) == 2
    assert "--json and --format csv disagree" in capsys.readouterr().err


def test_markdown_escapes_what_would_change_the_report():
    text = "Costs *rose* to #1 <b>high</b> [see] levels_today."
    article = Article("a", "a.md", text, title="T_1 *x*")
    from qa.records import Answer, Hit, Passage

    hit = Hit(1, 1.0, {"lexical": 1.0}, Passage("a", 1, 0, len(text), text), article, (0, len(text)))
    report = to_markdown([Asked("q *", Answer("q *", "lexical", [hit], True))])
    assert r"Costs \*rose\* to \#1 \<b\>high\</b\> \[see\] levels\_today." in report
    assert r'"T\_1 \*x\*"' in report and report.startswith(r"## q \*")


def test_csv_batch_echoes_ids_and_reports_failures(newsroom_index, tmp_path, capsys):
    batch = tmp_path / "questions.csv"
    batch.write_text(
        "Question,ID,notes\n"
        f'"{LEVY}",q-levy,first\n'
        '"Who rescued families from rooftops?",q-roof,\n'
        "   ,q-blank,\n"
        '"-Beijing",q-only-minus,\n',
        encoding="utf-8",
    )
    code = main(["ask", "--batch", str(batch), "--index", str(newsroom_index), "--format", "csv", "-k", "2"])
    captured = capsys.readouterr()
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert list(dict.fromkeys(row["id"] for row in rows)) == ["q-levy", "q-roof", "q-blank", "q-only-minus"]
    assert [row["rank"] for row in rows if row["id"] == "q-levy"] == ["1", "2"]
    assert rows[-2]["error"].startswith("The question is empty") and rows[-2]["rank"] == ""
    assert "Add words or a phrase" in rows[-1]["error"]
    assert captured.err.startswith("error: 2 of 4 questions failed — ")
    assert f"{batch}:4: The question is empty" in captured.err and f"{batch}:5: Nothing to search for" in captured.err


def test_csv_batch_says_on_every_row_whether_the_corpus_seems_to_answer(newsroom_index, tmp_path, capsys):
    batch = tmp_path / "questions.txt"
    batch.write_text(f"{LEVY}\nWho won the river cup final?\nWho won the 2022 FIFA World Cup?\n")
    assert main(["ask", "--batch", str(batch), "--index", str(newsroom_index), "--format", "csv", "-k", "2"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(row["question"], row["rank"], row["confident"]) for row in rows] == [
        (LEVY, "1", "yes"),
        (LEVY, "2", "yes"),
        ("Who won the river cup final?", "1", "no"),
        ("Who won the river cup final?", "2", "no"),
        ("Who won the 2022 FIFA World Cup?", "", "no"),  # no passage shares its words: still a row
    ]


@pytest.mark.parametrize("output", ["text", "markdown"])
def test_text_and_markdown_say_how_many_undated_passages_a_date_filter_left_out(newsroom_index, output, capsys):
    ask = ["ask", "flood insurance brokers premiums", "--index", str(newsroom_index)]
    assert main([*ask, "--date-from", "2023-01-01", "--format", output]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "date filter" in line).strip("_")
    assert line.startswith("The date filter left out ") and "whose article has no date" in line
    assert "--include-undated" in line
    left_out = int(line.split()[5])
    assert main([*ask, "--date-from", "2023-01-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["undated_excluded"] == left_out > 0
    assert main([*ask, "--format", output]) == 0  # no date filter: nothing left out, nothing said
    assert "date filter" not in capsys.readouterr().out


def test_text_markdown_and_csv_name_the_other_outlets_that_ran_a_wire_story(newsroom_index, capsys):
    ask = ["ask", "Who rescued families from rooftops?", "--index", str(newsroom_index), "-k", "1"]
    copies = [
        'Associated Wire — "Flood barriers fail in Riverton after record rain", 2024-03-05, ¶4',
        'Daily Ledger — "Flood barriers fail in Riverton after record rain", 2024-03-06, ¶4',
        'Metro Post — "Flood barriers fail in Riverton after record rain", 2024-03-08, ¶4',
    ]
    assert main(ask) == 0
    text = capsys.readouterr().out
    assert text.startswith("Q: Who rescued families from rooftops?\n\n1. Harbour Times — ")
    assert "\n   Also ran in:\n" + "".join(f"   – {copy}\n" for copy in copies) in text
    assert main([*ask, "--format", "markdown"]) == 0
    assert "\nAlso ran in:\n\n" + "".join(f"- {copy}\n" for copy in copies) in capsys.readouterr().out
    assert main([*ask, "--format", "csv"]) == 0
    (row,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert row["outlet"] == "Harbour Times" and row["also_in"] == "; ".join(copies)


def test_text_batch_skips_comments_and_jsonl_batch_echoes_ids(newsroom_index, tmp_path, capsys):
    text = tmp_path / "questions.txt"
    text.write_text(f"# asked every month\n{LEVY}\n\n  # indented comment\nWho rescued families?\n")
    assert main(["ask", "--batch", str(text), "--index", str(newsroom_index), "--json", "-k", "1"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["question"] for row in rows] == [LEVY, "Who rescued families?"]
    assert "id" not in rows[0]

    jsonl = tmp_path / "questions.jsonl"
    jsonl.write_text(json.dumps({"id": 7, "question": LEVY}) + "\nnot json\n")
    assert main(["ask", "--batch", str(jsonl), "--index", str(newsroom_index), "--json", "-k", "1"]) == 1
    out = capsys.readouterr()
    rows = [json.loads(line) for line in out.out.splitlines()]
    assert rows[0]["id"] == "7" and rows[0]["hits"]
    assert rows[1] == {"question": None, "error": f"{jsonl}:2 is not valid JSON (Expecting value)"}
    assert "1 of 2 questions failed" in out.err


def test_text_output_names_batch_ids(newsroom_index, tmp_path, capsys):
    batch = tmp_path / "b.csv"
    batch.write_text(f"id,question\nA1,{LEVY}\n")
    assert main(["ask", "--batch", str(batch), "--index", str(newsroom_index), "-k", "1"]) == 0
    assert capsys.readouterr().out.startswith(f"Q [A1]: {LEVY}")


def test_a_csv_batch_without_a_question_column_is_one_clear_error(newsroom_index, tmp_path, capsys):
    batch = tmp_path / "b.csv"
    batch.write_text("id,text\n1,hello\n")
    assert main(["ask", "--batch", str(batch), "--index", str(newsroom_index)]) == 1
    assert capsys.readouterr().err == (
        f"error: {batch} has no 'question' column: its first line must name the columns, e.g. id,question.\n"
    )


def test_export_of_picked_hits_keeps_only_those(newsroom_index):
    answer = Retriever.load(newsroom_index).ask(LEVY, k=4)
    rows = list(csv.DictReader(io.StringIO(to_csv([Asked(LEVY, answer)], hits=[1, 3]))))
    assert [row["rank"] for row in rows] == ["1", "3"]
    report = to_markdown([Asked(LEVY, answer)], hits=[3])
    assert "\n3. " in report and "\n1. " not in report


def test_a_paged_passage_exports_its_pages_and_cites_them():
    from qa.records import Answer, Hit, Passage

    text = "The review found that the barriers were never tested at full height."
    article = Article("review", "review.pdf", text, title="Independent review", url="https://example.org/r.pdf")
    passage = Passage("review", 4, 0, len(text), text, page=12, page_end=13)
    hit = Hit(1, 2.0, {"lexical": 2.0}, passage, article, (0, len(text)))
    (row,) = csv.DictReader(io.StringIO(to_csv([Asked("q", Answer("q", "lexical", [hit], True))])))
    assert row["page"] == "12–13"
    assert row["citation"] == f'"Independent review", pp. 12–13, ¶4, https://example.org/r.pdf: “{text}”'
