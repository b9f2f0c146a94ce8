"""The `qa` command: exit codes, messages, and the JSON it prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.serve.cli import main

HIT_KEYS = {
    "rank",
    "score",
    "scores",
    "article",
    "paragraph",
    "page",
    "page_end",
    "ocr",
    "char_start",
    "char_end",
    "text",
    "highlight",
    "citation",
    "full_citation",
    "also_in",
}
ARTICLE_KEYS = {"id", "title", "outlet", "author", "date", "url", "path"}


def test_build_ask_info(tmp_path, seed_corpus, capsys):
    index = tmp_path / "index"
    assert main(["build", "--corpus", str(seed_corpus), "--index", str(index), "--model", "none"]) == 0
    out = capsys.readouterr().out
    assert "Indexed 5 articles as" in out and "(lexical search)" in out

    assert (
        main(["ask", "How many traffickers did the FIA arrest in Gujranwala?", "--index", str(index), "-k", "2"]) == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("Q: How many traffickers did the FIA arrest in Gujranwala?")
    assert (
        "1. Shafaqna Pakistan — Human trafficking glaring failure of the state (untitled), Arsal Mir, 2024-01-01, ¶2"
        in out
    )
    assert "**The Federal Investigation Agency’s (FIA) arrest of 109 traffickers" in out
    assert "\n2. " in out

    assert main(["info", "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "mode             lexical" in out and "passages" in out and "articles         5" in out


def test_ask_json_schema(lexical_index, capsys):
    assert main(["ask", "Chinese sex traffickers", "--index", str(lexical_index), "--json", "-k", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data.keys() == {"question", "confident", "mode", "undated_excluded", "hits"}
    assert data["mode"] == "lexical" and isinstance(data["confident"], bool)
    assert len(data["hits"]) == 3
    for rank, hit in enumerate(data["hits"], start=1):
        assert hit.keys() == HIT_KEYS
        assert hit["article"].keys() == ARTICLE_KEYS
        assert hit["rank"] == rank
        assert hit["highlight"].keys() == {"char_start", "char_end"}
        assert 0 <= hit["highlight"]["char_start"] < hit["highlight"]["char_end"] <= len(hit["text"])
        assert hit["char_end"] - hit["char_start"] == len(hit["text"])


def test_outlet_option_ignores_case(lexical_index, capsys):
    assert main(["ask", "Pakistani women", "--index", str(lexical_index), "--json", "--outlet", "national review"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits and {hit["article"]["outlet"] for hit in hits} == {"National Review"}


def test_ask_filters_from_the_command_line(lexical_index, capsys):
    args = ["ask", "Pakistani women", "--index", str(lexical_index), "--json", "--outlet", "National Review"]
    assert main(args) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits and {hit["article"]["outlet"] for hit in hits} == {"National Review"}


@pytest.mark.parametrize(
    "dates,message",
    [
        (["--date-from", "2019-13-01"], "error: --date-from '2019-13-01' is not a date; write it as YYYY-MM-DD.\n"),
        (["--date-to", "soon"], "error: --date-to 'soon' is not a date; write it as YYYY-MM-DD.\n"),
        (
            ["--date-from", "2020-01-01", "--date-to", "2019-01-01"],
            "error: --date-from 2020-01-01 is after --date-to 2019-01-01; swap them.\n",
        ),
    ],
)
def test_a_bad_date_is_named_by_its_flag(lexical_index, dates, message, capsys):
    assert main(["ask", "x y", "--index", str(lexical_index), *dates]) == 1
    assert capsys.readouterr().err == message


def test_batch_answers_in_input_order(lexical_index, tmp_path, capsys):
    questions = tmp_path / "questions.txt"
    questions.write_text("Who is Mirza Imran Baig?\n\nHow many traffickers did the FIA arrest?\n", encoding="utf-8")
    assert main(["ask", "--batch", str(questions), "--index", str(lexical_index), "--json", "-k", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["question"] for line in lines] == [
        "Who is Mirza Imran Baig?",
        "How many traffickers did the FIA arrest?",
    ]


def test_batch_jsonl_reports_bad_lines_in_place(lexical_index, tmp_path, capsys):
    batch = tmp_path / "questions.jsonl"
    batch.write_text('{"question": "Who is Mirza Imran Baig?"}\n{"q": "wrong field"}\n{"question": "   "}\n')
    assert main(["ask", "--batch", str(batch), "--index", str(lexical_index), "--json"]) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0]["hits"][0]["article"]["id"].startswith("2018-09-25")
    assert rows[1] == {"question": None, "error": f"{batch}:2 has no 'question' field"}
    assert rows[2]["error"].startswith("The question is empty")


@pytest.mark.parametrize(
    "args,code,message",
    [
        (
            ["ask", "anything", "--index", "{tmp}/missing"],
            1,
            "error: No index at {tmp}/missing: the folder does not exist. Build one with `qa build --index {tmp}/missing`.",
        ),
        (
            ["ask", "anything", "--index", "{tmp}"],
            1,
            "error: No index at {tmp}: the folder has no manifest.json. Build one with `qa build --index {tmp}`.",
        ),
        (
            ["info", "--index", "{corpus}"],
            1,
            "error: No index at {corpus}: it holds articles, not an index. Give the index folder, or build one from it "
            "with `qa build --corpus {corpus} --index index`.",
        ),
        (
            ["ask", "anything", "--index", "{corpus}/breaking-the-chains-of-human-trafficking-in-pakistan.txt"],
            1,
            "it is a file. Give the folder `qa build` wrote the index to.",
        ),
        (["ask", "   ", "--index", "{lexical}"], 1, "error: The question is empty."),
        (["ask", "x", "-k", "0", "--index", "{lexical}"], 1, "error: k must be at least 1 (got 0)."),
        (["build", "--corpus", "{tmp}/nowhere", "--index", "{tmp}/i"], 1, "error: No corpus folder at {tmp}/nowhere."),
        (
            ["build", "--corpus", "{tmp}", "--index", "{tmp}/i"],
            1,
            "error: No usable articles in {tmp}. Put news articles there as .txt",
        ),
        (
            ["ask", "--index", "{lexical}"],
            2,
            "qa ask: error: give a question, or --batch FILE. See `qa ask --help`.",
        ),
        (
            ["ask", "x", "-k", "many"],
            2,
            "qa ask: error: argument -k: invalid int value: 'many'. See `qa ask --help`.",
        ),
        (
            ["ask", "x", "--index", ""],
            2,
            "qa ask: error: argument --index: is empty; give the folder's name. See `qa ask --help`.",
        ),
        (
            ["build", "--corpus", " "],
            2,
            "qa build: error: argument --corpus: is empty; give the folder's name. See `qa build --help`.",
        ),
        (
            ["ask", "x", "--frobnicate", "-k", "3"],
            2,
            "qa ask: error: unrecognized arguments: --frobnicate. See `qa ask --help`.",
        ),
        (["frobnicate"], 2, "qa: error: argument COMMAND: invalid choice: 'frobnicate'"),
        (["serve", "--port", "70000"], 2, "qa serve: error: argument --port: 70000 is not a port number"),
    ],
)
def test_exit_codes_and_messages_are_one_line_with_the_fix(
    lexical_index, seed_corpus, tmp_path, capsys, args, code, message
):
    fill = {"tmp": str(tmp_path), "lexical": str(lexical_index), "corpus": str(seed_corpus)}
    args = [arg.format(**fill) for arg in args]
    try:
        assert main(args) == code
    except SystemExit as exited:  # argparse's own errors exit from inside parsing
        assert exited.code == code
    err = capsys.readouterr().err
    assert message.format(**fill) in err
    assert len(err.strip().splitlines()) == 1, err


def test_strict_build_fails_on_a_bad_file(tmp_path, corpus_copy, capsys):
    (corpus_copy / "notes.pdf").write_bytes(b"%PDF")
    assert (
        main(["build", "--corpus", str(corpus_copy), "--index", str(tmp_path / "i"), "--model", "none", "--strict"])
        == 1
    )
    err = capsys.readouterr().err
    assert "skipped notes.pdf: damaged PDF: not a readable PDF file" in err
    assert "error: 1 corpus file(s) could not be used (strict)" in err


def test_console_script_and_module_entry_points(lexical_index):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for command in ([sys.executable, "-m", "qa"], [str(Path(sys.executable).with_name("qa"))]):
        result = subprocess.run(
            [*command, "ask", "Gujranwala", "--index", str(lexical_index), "--json", "-k", "1"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["hits"][0]["paragraph"] == 2
