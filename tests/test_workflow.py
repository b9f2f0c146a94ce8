"""The investigation workflow end to end through the CLI and the Python API: wire copies grouped at
build time and collapsed in answers, undated articles counted (never dropped silently) under a
date filter, search syntax, the audit log, and the dates a timeline draws."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from qa.index.duplicates import GROUPS_FILE
from qa.index.manifest import Manifest
from qa.search.retriever import Retriever
from qa.serve.audit import read_audit
from qa.serve.cli import main

ROOFTOPS = "Who rescued families from rooftops?"
WIRE = {"wire-original", "ledger-copy", "metro-copy", "harbour-copy"}


@pytest.fixture(scope="module")
def newsroom(newsroom_index):
    return Retriever.load(newsroom_index)


def _ask_json(capsys, index, *args: str) -> dict:
    assert main(["ask", *args, "--index", str(index), "--json", "--no-audit"]) == 0
    return json.loads(capsys.readouterr().out)


# -- wire copies ------------------------------------------------------------------------------


def test_the_build_groups_each_wire_paragraph_across_the_four_outlets(newsroom_index, newsroom):
    manifest = Manifest.read(newsroom_index)
    assert manifest.duplicates is not None
    assert manifest.duplicates.method == "minhash-lsh" and manifest.duplicates.threshold == 0.8
    assert manifest.duplicates.groups == 4 and manifest.duplicates.grouped_passages == 16
    assert GROUPS_FILE in manifest.files and (newsroom_index / GROUPS_FILE).is_file()
    groups = np.load(newsroom_index / GROUPS_FILE)
    for row, passage in enumerate(newsroom.passages):
        assert (groups[row] >= 0) == (passage.article_id in WIRE), passage  # the other stories are unique


def test_an_answer_shows_one_card_per_wire_story_and_lists_where_else_it_ran(newsroom_index, capsys):
    data = _ask_json(capsys, newsroom_index, ROOFTOPS, "-k", "5")
    wire_hits = [hit for hit in data["hits"] if hit["article"]["id"] in WIRE]
    assert len(wire_hits) == 1  # the rescue paragraph, once
    top = wire_hits[0]
    assert top["paragraph"] == 4
    copies = top["also_in"]
    assert {copy["article_id"] for copy in copies} | {top["article"]["id"]} == WIRE
    assert set(copies[0]) == {"article_id", "outlet", "title", "date", "paragraph"}
    dated = [copy["date"] for copy in copies if copy["date"]]
    assert dated == sorted(dated) and all(copy["paragraph"] == 4 for copy in copies)
    if top["article"]["id"] != "harbour-copy":  # the undated copy comes last
        assert copies[-1]["article_id"] == "harbour-copy" and copies[-1]["date"] is None


def test_no_collapse_shows_every_copy_each_listing_the_others(newsroom_index, capsys):
    data = _ask_json(capsys, newsroom_index, ROOFTOPS, "-k", "5", "--no-collapse")
    wire_hits = [hit for hit in data["hits"] if hit["article"]["id"] in WIRE]
    assert {hit["article"]["id"] for hit in wire_hits} == WIRE
    for hit in wire_hits:
        assert {copy["article_id"] for copy in hit["also_in"]} == WIRE - {hit["article"]["id"]}


def test_the_earliest_copy_is_the_dated_original(newsroom):
    (hit,) = [hit for hit in newsroom.search(ROOFTOPS, k=5) if hit.article.id in WIRE]
    earliest = hit.earliest
    assert earliest is not None and (earliest.article_id, earliest.outlet, earliest.date) == (
        "wire-original",
        "Associated Wire",
        "2024-03-05",
    )


def test_collapsing_still_fills_k_with_other_passages(newsroom):
    collapsed = newsroom.search("flood barriers emergency levy rooftops", k=6)
    assert len(collapsed) == 6
    groups = [int(newsroom.copies.groups[_row(newsroom, hit)]) for hit in collapsed]
    grouped = [group for group in groups if group >= 0]
    assert len(grouped) == len(set(grouped))  # never two copies of one story


def _row(retriever, hit) -> int:
    return next(
        row
        for row, passage in enumerate(retriever.passages)
        if passage.article_id == hit.article.id and passage.char_start == hit.passage.char_start
    )


# -- undated articles under a date filter ---------------------------------------------------


def test_a_date_filter_counts_the_undated_passages_it_leaves_out(newsroom_index, capsys):
    data = _ask_json(capsys, newsroom_index, "flood insurance brokers premiums", "--date-from", "2023-01-01")
    assert data["undated_excluded"] >= 3  # the undated analysis' three paragraphs at least
    assert all(hit["article"]["date"] for hit in data["hits"])
    included = _ask_json(
        capsys, newsroom_index, "flood insurance brokers premiums", "--date-from", "2023-01-01", "--include-undated"
    )
    assert included["undated_excluded"] == 0
    assert included["hits"][0]["article"]["id"] == "undated-analysis-of-flood-insurance"
    plain = _ask_json(capsys, newsroom_index, "flood insurance brokers premiums")
    assert plain["undated_excluded"] == 0


def test_the_shipped_national_review_story_is_no_longer_dropped_silently(lexical):
    question = "Why did Pakistan decline to pursue the case against Chinese sex traffickers?"
    answer = lexical.ask(question, k=3, outlets=["National Review"], date_from="2019-01-01")
    assert answer.hits == [] and answer.undated_excluded > 0
    answer = lexical.ask(question, k=3, outlets=["National Review"], date_from="2019-01-01", include_undated=True)
    assert answer.hits[0].article.outlet == "National Review" and answer.hits[0].passage.paragraph == 1


# -- search syntax --------------------------------------------------------------------------


def test_a_quoted_phrase_is_in_every_hit_and_an_excluded_word_in_none(newsroom_index, capsys):
    data = _ask_json(capsys, newsroom_index, '"emergency levy" -Beijing', "-k", "10")
    assert data["hits"]
    for hit in data["hits"]:
        assert "emergency levy" in " ".join(hit["text"].lower().split())
        assert "beijing" not in hit["text"].lower()
    ids = {hit["article"]["id"] for hit in data["hits"]}
    assert "levy-vote" in ids and "beijing-trade" not in ids  # it holds the phrase, and Beijing


def test_not_beijing_no_longer_returns_beijing_first(lexical):
    """The first-use test: "… NOT Beijing" returned a Beijing paragraph as #1."""
    hits = lexical.search("Pakistan trafficking case economic ties NOT Beijing", k=10)
    assert hits and all("beijing" not in hit.passage.text.lower() for hit in hits)


def test_a_phrase_search_goes_deeper_than_the_first_candidates(newsroom):
    # Every passage matches "the"; only the ones holding the phrase may come back, however deep they rank.
    hits = newsroom.search('the "town sports hall"', k=5, collapse=False)
    assert [hit.article.id for hit in hits] == ["harbour-copy"]


def test_syntax_in_the_csv_export_and_a_question_of_only_exclusions(newsroom_index, capsys):
    assert main(["ask", "levy -Beijing", "--index", str(newsroom_index), "--format", "csv", "--no-audit"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and all("beijing" not in row["quote"].lower() for row in rows)
    assert main(["ask", "--index", str(newsroom_index), "--no-audit", "--", "-Beijing"]) == 1
    assert "error: Nothing to search for" in capsys.readouterr().err


# -- audit log and timeline --------------------------------------------------------------------


def test_the_cli_writes_one_audit_line_per_question_unless_told_not_to(newsroom_index, tmp_path, monkeypatch, capsys):
    log = tmp_path / "audit.jsonl"
    monkeypatch.setenv("QA_AUDIT_LOG", str(log))
    batch = tmp_path / "q.txt"
    batch.write_text(f"{ROOFTOPS}\nlevy\n   \n")
    assert main(["ask", "--batch", str(batch), "--index", str(newsroom_index), "--outlet", "daily ledger"]) == 0
    lines = read_audit(log)
    assert [line["question"] for line in lines] == [ROOFTOPS, "levy"]
    assert {line["source"] for line in lines} == {"cli"}
    assert lines[0]["filters"] == {"outlets": ["daily ledger"], "include_undated": False, "collapse": True}
    assert lines[1]["citations"] and all(c["citation"].startswith("Daily Ledger — ") for c in lines[1]["citations"])
    main(["ask", "levy", "--index", str(newsroom_index), "--no-audit"])
    assert len(read_audit(log)) == 2
    capsys.readouterr()


def test_match_dates_are_every_copy_s_date_for_the_timeline(newsroom):
    dates = newsroom.match_dates(ROOFTOPS, depth=100)
    as_text = sorted(str(day) for day in dates if day is not None)
    assert {"2024-03-05", "2024-03-06", "2024-03-08"} <= set(as_text)  # each outlet's copy, uncollapsed
    assert dates.count(None) >= 1  # the undated Harbour Times copy, counted, not dropped


def test_evaluation_rankings_read_questions_as_written_not_as_search_syntax(lexical):
    # SQuAD asks 'What does "Normans" mean?': quotation marks in a dataset are not a phrase search
    question = 'How many "traffickers Gujranwala" did the FIA arrest?'
    assert lexical.search(question, k=5) == [], "as search syntax, no passage holds that phrase"
    (rows, _), *_ = lexical.rank_many([question], k=5)
    top = lexical.passages[int(rows[0])]
    assert "Gujranwala" in top.text and top.paragraph == 2
    (rows, _), *_ = lexical.rank_many([question], k=5, syntax=True)
    assert len(rows) == 0
