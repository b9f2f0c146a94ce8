"""Hostile input: any question, any k, any filter, any corpus text — a clear message or a sensible answer."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.errors import CorpusError, EmptyQuestionError, InvalidRequestError, QAError
from qa.index.build import build_index
from qa.ingest.chunking import split_passages
from qa.ingest.corpus import load_corpus
from qa.search.retriever import MAX_QUESTION_CHARS, Retriever
from qa.serve.service import Service
from tests.support.report import count
from tests.support.servers import ROOT


def _count(kind: str) -> None:
    count("hostile inputs tried", kind)  # reported at the end of the run (tests/support/report.py)


def _check_answer(retriever: Retriever, question: object, **kwargs) -> None:
    try:
        answer = retriever.ask(question, **kwargs)  # type: ignore[arg-type]
    except (EmptyQuestionError, InvalidRequestError):
        return
    assert isinstance(answer.confident, bool)
    assert len(answer.question) <= MAX_QUESTION_CHARS
    for rank, hit in enumerate(answer.hits, start=1):
        assert hit.rank == rank
        assert hit.article.text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text
        start, end = hit.highlight
        assert 0 <= start < end <= len(hit.passage.text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_any_unicode_question_in_lexical_mode(lexical, question):
    _count("random questions (lexical)")
    _check_answer(lexical, question, k=5)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_unicode_question_in_hybrid_mode(hybrid, question):
    _count("random questions (hybrid)")
    _check_answer(hybrid, question, k=3)


QUESTIONS = [
    "ما هو عدد المتاجرين الذين تم القبض عليهم؟",  # Arabic, right to left
    "\u202eHow many traffickers\u202c were arrested?",  # bidi override characters
    "🚨🚨 trafficking 🇵🇰 brides 👰‍♀️?",
    "Z̴̡̢̛a̵͎͛l̸̰̈g̷̱̈́o̶͙͊ trafficking",  # stacked combining marks
    "trafficking\x00in\x01Pakistan\x1b[31m red\x7f",
    "\x00\x00\x00",
    "?!?!... ;;; --- ***",
    "what is the of and to in it they were",
    "Gujranwala " * 10_000,  # 110,000 characters
    "a" * 100_000,
    "\n\n\t  \r\n",
    "%s %d {0} ${7*7} {{constructor}} <script>alert(1)</script>",
    "' OR 1=1 --",
    "../../../../etc/passwd",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_hand_written_hostile_questions(lexical, hybrid, question):
    for retriever in (lexical, hybrid):
        _count("hand-written questions")
        _check_answer(retriever, question, k=5)


@pytest.mark.parametrize(
    "k,outcome",
    [
        (0, "k must be at least 1"),
        (-1, "k must be at least 1"),
        (2.5, "whole number"),
        (True, "whole number"),
        ("5", "whole number"),
        (None, "whole number"),
        (10**12, None),
        (1, None),
    ],
)
def test_k_values(lexical, k, outcome):
    _count("k values")
    if outcome is None:
        assert len(lexical.search("trafficking", k=k)) >= 1
    else:
        with pytest.raises(InvalidRequestError, match=outcome):
            lexical.search("trafficking", k=k)


@pytest.mark.parametrize(
    "filters,outcome",
    [
        ({"date_from": "2021-02-30"}, "not a date"),
        ({"date_from": "2019-13-01"}, "not a date"),
        ({"date_to": "yesterday"}, "not a date"),
        ({"date_from": "\x00"}, "not a date"),
        ({"date_from": "2020-01-01", "date_to": "2019-01-01"}, "is after"),
        ({"date_from": 10**30}, "not a date"),
        ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, "hits"),
        ({"date_from": "9999-12-31"}, "no hits"),
        ({"date_from": "2019-05-11", "date_to": "2019-05-11"}, "hits"),
        ({"outlets": ["No Such Outlet"]}, "No articles from outlet"),
        ({"outlets": "National Review"}, "hits"),
        ({"outlets": ["", None]}, "hits"),
        ({"outlets": ["National Review"], "date_from": "2030-01-01"}, "no hits"),
    ],
)
def test_filter_values(lexical, filters, outcome):
    _count("filter values")
    if outcome in ("hits", "no hits"):
        hits = lexical.search("Pakistani women China trafficking", k=3, **filters)
        assert bool(hits) is (outcome == "hits")
    else:
        with pytest.raises(InvalidRequestError, match=outcome):
            lexical.search("trafficking", k=3, **filters)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
def test_the_page_never_raises(lexical, question, k, date):
    _count("page requests")
    html_text = Service(lexical).ask_html(question, k if k == k and abs(k) < 1e6 else 5, None, date, None)
    assert html_text.startswith("<div")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=2000))
def test_span_invariant_holds_through_the_whole_corpus_pipeline(text):
    _count("random article texts")
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "article.txt").write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            articles = load_corpus(folder).articles
        except CorpusError:
            return  # nothing usable: said, not crashed
        for article in articles:
            for passage in split_passages(article, max_tokens=40):
                assert article.text[passage.char_start : passage.char_end] == passage.text


def test_deeply_nested_folders_and_odd_names(tmp_path):
    folder = tmp_path
    for depth in range(40):
        folder = folder / f"level {depth} ünï"
    folder.mkdir(parents=True)
    body = "Heavy rain flooded large parts of Lahore on Saturday, officials said."
    for name in ("with space.txt", "ünïcödé.txt", "نص عربي.txt", "emoji 🚨.md", "-dash-.txt"):
        (folder / name).write_text(f"Headline\n\nIn {name}: {body}\n", encoding="utf-8")
    articles = load_corpus(tmp_path).articles
    assert len(articles) == 5
    assert len({a.id for a in articles}) == 5
    _count("corpus pathologies")


# -- hostile corpus files: each is skipped (or cut down) with one line, and the build goes on ---------------

RAIN = "Heavy rain flooded large parts of Lahore on Saturday, officials said."


def _reasons(load) -> dict[str, str]:
    return {skip.path: skip.reason for skip in load.skipped}


def _write_clashing_articles(corpus: Path) -> None:
    (corpus / "feed").mkdir(parents=True)
    stories = {
        "a-b.txt": "Ravi river\n\nThe Ravi river rose three metres after heavy monsoon rain, officials said.\n",
        "a_b.txt": "Wheat prices rise\n\nWheat prices rose sharply in Lahore markets this week, traders said.\n",
        "Report.txt": "Dam report\n\nThe first report said the Tarbela dam was safe after an inspection.\n",
        "report.txt": "Bridge report\n\nThe second report said the Attock bridge needs repair before the rains.\n",
        "feed/1.txt": "Cotton\n\nCotton exports from Multan doubled this season, the trade body said.\n",
    }
    for name, text in stories.items():
        (corpus / name).write_text(text, encoding="utf-8")
    lines = [
        {"text": "Mango exports from Multan reached a record this summer, growers said."},
        {"id": "x", "title": "Rice", "text": "The rice harvest in Sindh province was the largest in a decade."},
        {"id": "x", "title": "Sugar", "text": "Sugar cane prices in Punjab fell for the third year running."},
    ]
    (corpus / "feed.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def test_clashing_article_ids_are_made_unique_and_each_hit_cites_its_own_file(tmp_path, caplog):
    corpus = tmp_path / "corpus"
    _write_clashing_articles(corpus)
    with caplog.at_level(logging.WARNING, logger="qa"):
        load = load_corpus(corpus)
    ids = [article.id for article in load.articles]
    assert len(ids) == len(set(ids)) == 8
    assert {i.rsplit("-", 1)[0] for i in ids if i.startswith(("a-b", "report", "feed/1", "feed/x"))} == {
        "a-b",
        "report",
        "feed/1",
        "feed/x",
    }
    assert any("another article also has the id 'a-b'" in message for message in caplog.messages)
    assert [a.id for a in load_corpus(corpus).articles] == ids, "ids are deterministic"

    retriever = Retriever.build(corpus, tmp_path / "index", model="none")
    for question, path, title in [
        ("Ravi river rose three metres", "a-b.txt", "Ravi river"),
        ("Wheat prices rose sharply", "a_b.txt", "Wheat prices rise"),
        ("Tarbela dam safe inspection", "Report.txt", "Dam report"),
        ("Attock bridge repair", "report.txt", "Bridge report"),
        ("Cotton exports doubled", "feed/1.txt", "Cotton"),
        ("Mango exports record", "feed.jsonl:1", None),
        ("rice harvest Sindh", "feed.jsonl:2", "Rice"),
        ("Sugar cane prices", "feed.jsonl:3", "Sugar"),
    ]:
        hit = retriever.search(question, k=1)[0]
        assert (hit.article.path, hit.article.title) == (path, title), question
        assert hit.article.text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text


def test_indexing_two_articles_under_one_id_is_refused(tmp_path):
    from qa.errors import CorpusError
    from qa.index.build import index_articles
    from qa.records import Article

    twins = [Article("same", "a.txt", RAIN), Article("same", "b.txt", "Wheat prices rose in Lahore this week.")]
    with pytest.raises(CorpusError, match="Two articles have the id 'same'"):
        index_articles(twins, tmp_path / "index", model="none")
    assert not (tmp_path / "index").exists()


def _laughs(levels: int) -> str:
    """YAML front matter whose aliases expand to 9**(levels + 1) items ("billion laughs") in ~60 bytes a level."""
    names = "abcdefghij"
    lines = [f"a: &a [{','.join(['lol'] * 9)}]"]
    lines += [f"{names[n + 1]}: &{names[n + 1]} [{','.join([f'*{names[n]}'] * 9)}]" for n in range(levels)]
    return "---\n" + "\n".join(lines) + f"\ntitle: *{names[levels]}\nauthor: *{names[levels]}\n---\n"


def _hostile_corpus(corpus: Path, levels: int = 8) -> None:
    """The red team's memory bombs, next to one good article: YAML aliases expanding to 9**9 items in
    a 400-byte front matter, a 1 MB title over 300 paragraphs, a 4 GB sparse file."""
    corpus.mkdir()
    (corpus / "good.txt").write_text(f"Floods in Lahore\n\n{RAIN}\n", encoding="utf-8")
    (corpus / "laughs.md").write_text(_laughs(levels) + "The dam on the Indus held after the storm, engineers said.\n")
    paragraphs = "\n\n".join(f"Paragraph {n} says the canal in Sialkot was dredged again." for n in range(300))
    (corpus / "title.jsonl").write_text(json.dumps({"title": "T" * 1_000_000, "text": paragraphs}) + "\n")
    with (corpus / "sparse.txt").open("wb") as handle:
        handle.truncate(4 << 30)


def test_memory_bombs_in_corpus_files_are_cut_down_or_skipped_with_a_line_each(tmp_path, caplog):
    _hostile_corpus(tmp_path / "corpus", levels=2)  # small here: the full-size bombs run under a cap below
    with caplog.at_level(logging.WARNING, logger="qa"):
        load = load_corpus(tmp_path / "corpus")
    assert _reasons(load) == {"sparse.txt": "larger than 64 MB, the limit for one file (4,096 MB)"}
    by_path = {article.path: article for article in load.articles}
    assert by_path["laughs.md"].title is None and "Indus" in by_path["laughs.md"].text
    assert "laughs.md: front matter uses an alias (*name) (line 2), which may expand without limit; ignored it" in (
        caplog.messages
    )
    assert len(by_path["title.jsonl:1"].title) == 300
    assert "title.jsonl:1: its title is 1,000,000 characters long; kept the first 300" in caplog.messages


MEMORY_CAP_GB = 2
CAPPED_BUILD = """
import resource, sys
limit = int(sys.argv[3]) << 30
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # ulimit -v: every allocation counts
from qa.index.build import build_index
from qa.search.retriever import Retriever
build_index(sys.argv[1], sys.argv[2], model="none")
hit = Retriever.load(sys.argv[2]).search("Heavy rain flooded Lahore", k=1)[0]
peak = [line for line in open("/proc/self/status") if line.startswith("VmPeak")][0].split()[1]
print(hit.article.path, int(peak) // 1024)
"""


def test_a_build_of_the_memory_bombs_fits_in_a_few_gigabytes_of_address_space(tmp_path):
    """Under `ulimit -v` (RLIMIT_AS) of 2 GB the whole build and a search succeed; the old code
    needed more than 8 GB for these files and died with MemoryError."""
    _hostile_corpus(tmp_path / "corpus")
    result, path, peak_mb = _build_under_cap(tmp_path / "corpus", tmp_path / "index", MEMORY_CAP_GB)
    print(f"\nbuild of the memory bombs under ulimit -v {MEMORY_CAP_GB} GB: peak address space {peak_mb} MB")
    assert path == "good.txt"
    assert "skipped sparse.txt: larger than 64 MB" in result.stderr


def _build_under_cap(corpus: Path, index: Path, gigabytes: int) -> tuple[subprocess.CompletedProcess[str], str, str]:
    """Build ``corpus`` and search it in a process limited to ``gigabytes`` of address space; (the run, the
    first hit's path, the peak address space in MB)."""
    result = subprocess.run(
        [sys.executable, "-c", CAPPED_BUILD, str(corpus), str(index), str(gigabytes)],
        capture_output=True,
        text=True,
        timeout=3000,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    path, peak_mb = result.stdout.split()
    return result, path, peak_mb


def _long_article(characters: int) -> str:
    import random

    generator = random.Random(1)
    words = [f"w{n}" for n in range(5000)] + "the flood river court minister said on".split()
    paragraphs, size = [], 0
    while size < characters:
        paragraph = " ".join(generator.choice(words) for _ in range(90)).capitalize() + "."
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    return ("A very long report\n\n" + "\n\n".join(paragraphs))[:characters]


@pytest.mark.slow
def test_an_article_at_the_size_limit_and_the_memory_bombs_build_in_3_gb_of_address_space(tmp_path):
    """The proof of bounded memory per file: under `ulimit -v` 3 GB, a corpus with the memory bombs, an
    article just under the text limit (10 M characters: indexed) and a 50 MB one (skipped) builds and answers."""
    from qa.ingest.limits import MAX_ARTICLE_CHARS

    corpus = tmp_path / "corpus"
    _hostile_corpus(corpus)
    (corpus / "huge.txt").write_text(_long_article(MAX_ARTICLE_CHARS - 1000), encoding="utf-8")
    (corpus / "too-long.txt").write_text(_long_article(50_000_000), encoding="utf-8")
    started = time.monotonic()
    result, path, peak_mb = _build_under_cap(corpus, tmp_path / "index", 3)
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    print(
        f"\nunder ulimit -v 3 GB: {manifest['passages']:,} passages (a {MAX_ARTICLE_CHARS:,}-character article "
        f"among them) built in {time.monotonic() - started:.0f} s, peak address space {peak_mb} MB"
    )
    assert path == "good.txt" and manifest["articles"] == 4
    assert "skipped too-long.txt: its text is 50,000,000 characters long, more than the 10,000,000" in result.stderr
    _count("corpus pathologies")


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("surrogate.jsonl", b'{"text": "The river \\ud800 rose in Multan after the rain."}\n', "feed"),
        ("surrogate.md", b'---\ntitle: "Floods \\ud800"\n---\nThe river rose in Multan after the rain.\n', "md"),
    ],
)
def test_lone_surrogates_are_skipped_with_a_line(tmp_path, name, content, reason, caplog):
    (tmp_path / "good.txt").write_text(f"Floods\n\n{RAIN}\n", encoding="utf-8")
    (tmp_path / name).write_bytes(content)
    report = build_index(tmp_path, tmp_path.parent / f"index-{reason}", model="none")
    where = "surrogate.jsonl:1" if reason == "feed" else name
    assert [(s.path, s.reason) for s in report.skipped] == [
        (where, "holds text that is not valid Unicode (a lone surrogate such as \\ud800)")
    ]
    assert report.manifest.articles == 1


def test_unusable_names_and_paths_are_skipped_with_a_line_each(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(f"Floods\n\n{RAIN}\n", encoding="utf-8")
    with open(os.fsencode(corpus) + b"/caf\xe9.txt", "wb") as handle:  # a Latin-1 file name
        handle.write(b"Cafe\n\nTea prices rose in Quetta this week.\n")
    os.symlink("loop-b.txt", corpus / "loop-a.txt")
    os.symlink("loop-a.txt", corpus / "loop-b.txt")
    os.symlink("self", corpus / "self")
    fd = os.open(corpus, os.O_RDONLY)  # folders nested past PATH_MAX (4096 on Linux), made relative to each other
    for _ in range(22):
        os.mkdir("d" * 200, dir_fd=fd)
        fd, parent = os.open("d" * 200, os.O_RDONLY, dir_fd=fd), fd
        os.close(parent)
    with open(os.open("story.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as handle:
        handle.write("Deep\n\nThe river rose in Multan after the rain.\n")
    os.close(fd)
    report = build_index(corpus, tmp_path / "index", model="none")
    reasons = {skip.path: skip.reason for skip in report.skipped}
    assert reasons["caf\\xe9.txt"] == "its name is not valid UTF-8 (rename it)"
    assert reasons["loop-a.txt"] == reasons["loop-b.txt"] == reasons["self"] == "symlink loop"
    too_long = [path for path, reason in reasons.items() if reason == "its path is longer than the system allows"]
    assert len(too_long) == 1 and too_long[0].endswith("/")
    assert report.manifest.articles == 1


def test_the_app_starts_on_a_corpus_with_a_symlink_loop(tmp_path, corpus_copy):
    os.symlink("loop", corpus_copy / "loop")
    service = Service.open(tmp_path / "index", corpus_copy, model="none")
    assert service.retriever.manifest.articles == 5


def test_a_fifo_swapped_in_after_the_folder_walk_is_skipped_not_waited_on(tmp_path, monkeypatch):
    import threading

    from qa.ingest import corpus as corpus_module

    (tmp_path / "good.txt").write_text(f"Floods\n\n{RAIN}\n", encoding="utf-8")
    (tmp_path / "late.txt").write_text("Late\n\nThe river rose in Multan after the rain.\n", encoding="utf-8")
    walk = corpus_module._walk

    def walk_then_swap(*args, **kwargs):
        found = walk(*args, **kwargs)
        (tmp_path / "late.txt").unlink()
        os.mkfifo(tmp_path / "late.txt")
        return found

    monkeypatch.setattr(corpus_module, "_walk", walk_then_swap)
    outcome: dict[str, object] = {}
    reader = threading.Thread(target=lambda: outcome.update(load=load_corpus(tmp_path)), daemon=True)
    reader.start()
    reader.join(30)
    if reader.is_alive():  # the old code blocks in open() until a writer appears: give it one, then fail
        os.close(os.open(tmp_path / "late.txt", os.O_WRONLY | os.O_NONBLOCK))
        reader.join(10)
        pytest.fail("reading a FIFO blocked the build")
    assert _reasons(outcome["load"]) == {"late.txt": "not a regular file"}


def test_a_binary_batch_file_is_refused_in_one_line_and_nothing_is_echoed(tmp_path, lexical_index):
    from qa.serve.cli import main

    binary = tmp_path / "questions.txt"
    binary.write_bytes(b"\x00" * 5_000_000)
    result = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "--batch", str(binary), "--index", str(lexical_index)],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert result.returncode == 1 and result.stdout == b""
    assert result.stderr.decode() == (
        f"error: {binary} is a binary file, not questions (one per line, or a .csv or .jsonl file).\n"
    )
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(200 << 20)  # 200 MB (sparse): refused by its size before it is read
    assert main(["ask", "--batch", str(huge), "--index", str(lexical_index)]) == 1
    _count("batch files")


def test_a_failed_question_is_echoed_only_in_part(tmp_path, lexical_index, capsys):
    from qa.serve.cli import main

    batch = tmp_path / "questions.txt"
    batch.write_text("What did the FIA do in Gujranwala?\n" + "\x1b" * 50_000 + "\n", encoding="utf-8")
    assert main(["ask", "--batch", str(batch), "--index", str(lexical_index)]) == 1  # one of two failed
    out = capsys.readouterr().out
    assert "Gujranwala" in out and len(out) < 20_000
    assert "\x1b" not in out, "no terminal escape from the file reaches the terminal"
    assert "Q: \\x1b\\x1b" in out and "(50,000 characters)" in out


def test_every_error_class_is_in_the_documented_tree():
    """qa/errors.py's docstring is the error tree API users read: every QAError subclass is in it."""
    import qa.errors

    classes = {
        name for name, value in vars(qa.errors).items() if isinstance(value, type) and issubclass(value, QAError)
    }
    documented = set(re.findall(r"(\w+Error)\b", qa.errors.__doc__ or ""))
    assert classes == documented, f"undocumented: {classes - documented}; stale: {documented - classes}"
