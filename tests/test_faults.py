"""Faults: killed builds, read-only and full disks, damaged index files, a rebuild under a live app.

Nothing may be lost: after every fault the previous index still loads and answers as before.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.errors import IndexFormatError, IndexMismatchError, IndexWriteError
from qa.index.build import build_index
from qa.search.retriever import Retriever
from qa.serve.cli import main
from tests.support.report import note
from tests.support.servers import ask_concurrently, lexical_app

QUESTION = "How many traffickers did the FIA arrest in Gujranwala?"
FAULTS = "fault injections"  # the end-of-run report's section (tests/support/report.py)
BUILD = "import sys\nfrom qa.index.build import build_index\nbuild_index(sys.argv[1], sys.argv[2], model=sys.argv[3])\n"


def _answers(index: Path) -> list[tuple[str, int, float]]:
    return [
        (h.passage.article_id, h.passage.paragraph, round(h.score, 5)) for h in Retriever.load(index).search(QUESTION)
    ]


def write_big_corpus(folder: Path, articles: int) -> Path:
    """Distinct synthetic articles: 8 paragraphs of 40 words drawn from a small news vocabulary."""
    import random

    folder.mkdir(parents=True)
    words = (
        "rain flood river police court election trade border market school hospital minister city "
        "village farmers prices workers strike bridge road power water health report week"
    ).split()
    generator = random.Random(7)
    for n in range(articles):
        body = "\n\n".join(" ".join(generator.choice(words) for _ in range(40)).capitalize() + "." for _ in range(8))
        (folder / f"story-{n:05d}.txt").write_text(f"Story {n}\n\n{body}\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory) -> Path:
    return write_big_corpus(tmp_path_factory.mktemp("big") / "corpus", 1500)


@pytest.mark.slow
def test_builds_killed_at_many_moments_never_damage_the_index(tmp_path, seed_corpus, static_model_dir, big_corpus):
    index = tmp_path / "index"
    model = str(static_model_dir)
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", BUILD, str(big_corpus), str(index), model], check=True)
    duration = time.monotonic() - started
    complete = _answers(index)
    build_index(seed_corpus, index, model=model)
    before = _answers(index)
    killed = 0
    for fraction in (0.2, 0.35, 0.5, 0.6, 0.7, 0.8, 0.88, 0.94, 0.98):
        process = subprocess.Popen([sys.executable, "-c", BUILD, str(big_corpus), str(index), model])
        time.sleep(duration * fraction)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            killed += 1
            note(FAULTS, f"SIGKILL at {fraction:.0%} of a {duration:.1f} s build")
        process.wait()
        after = _answers(index)
        assert after in (before, complete)  # the old index, or the new one whole — never a mix
        if after == complete:
            build_index(seed_corpus, index, model=model)
    assert killed >= 6
    build_index(seed_corpus, index, model="none")
    assert not list(tmp_path.glob("index.building-*")), "the next build removes dead builds' staging folders"


@pytest.fixture()
def tmpfs(tmp_path):
    """A small RAM disk we can fill or make read-only (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()

    def mount_with(options: str) -> None:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")

    yield mount, mount_with
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_read_only_index_folder_gives_a_clear_error_and_keeps_the_index(tmpfs, seed_corpus, capsys):
    mount, mount_with = tmpfs
    mount_with("size=16m")
    build_index(seed_corpus, mount / "index", model="none")
    before = _answers(mount / "index")
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    with pytest.raises(IndexWriteError, match=r"Cannot write the index at .*: it is not writable\. The previous index"):
        build_index(seed_corpus, mount / "index", model="none")
    assert main(["build", "--corpus", str(seed_corpus), "--index", str(mount / "index"), "--model", "none"]) == 1
    assert "error: Cannot write the index" in capsys.readouterr().err
    assert _answers(mount / "index") == before
    note(FAULTS, "build into a read-only folder")


def test_full_disk_gives_a_clear_error_and_keeps_the_index(tmpfs, seed_corpus, tmp_path, static_model_dir):
    mount, mount_with = tmpfs
    mount_with("size=3m")
    build_index(seed_corpus, mount / "index", model=str(static_model_dir))
    before = _answers(mount / "index")
    bigger = write_big_corpus(tmp_path / "bigger", 400)
    with pytest.raises(IndexWriteError, match="the disk is full. The previous index, if any, is unchanged"):
        build_index(bigger, mount / "index", model=str(static_model_dir))
    assert _answers(mount / "index") == before
    assert sorted(p.name for p in mount.iterdir()) == ["index"], "the failed build cleans up after itself"
    note(FAULTS, "build onto a full disk")


@pytest.fixture(scope="module")
def hybrid_copy_source(hybrid_index) -> Path:
    return hybrid_index


def _index_files(index: Path) -> list[str]:
    return sorted(p.relative_to(index).as_posix() for p in index.rglob("*") if p.is_file())


@pytest.mark.parametrize("damage", ["truncate", "alter one byte"])
def test_every_damaged_index_file_is_named_on_load_and_by_verify(tmp_path, hybrid_index, damage, capsys):
    names = _index_files(hybrid_index)
    assert {"manifest.json", "passages.jsonl", "articles.jsonl", "dense.faiss"} <= set(names)
    for name in names:
        index = tmp_path / f"{damage.replace(' ', '-')}-{name.replace('/', '_')}"
        shutil.copytree(hybrid_index, index)
        path = index / name
        data = bytearray(path.read_bytes())
        if damage == "truncate":
            data = data[: len(data) // 2]
        else:  # one letter or digit past the middle becomes another (JSON stays JSON)
            spot = next((i for i in range(len(data) // 2, len(data)) if chr(data[i]).isalnum()), len(data) // 2)
            data[spot] = ord("7") if data[spot] != ord("7") else ord("8")
        path.write_bytes(bytes(data))
        with pytest.raises((IndexMismatchError, IndexFormatError)) as raised:
            Retriever.load(index)
        assert name.split("/")[-1] in str(raised.value), (name, str(raised.value))
        assert main(["info", "--verify", "--index", str(index)]) == 1
        assert name.split("/")[-1] in capsys.readouterr().err
        note(FAULTS, f"{damage}: {name}")


def test_verify_passes_on_an_intact_index(hybrid_index, capsys):
    assert main(["info", "--verify", "--index", str(hybrid_index)]) == 0
    assert "verified: all" in capsys.readouterr().out  # success is output, not an error


def test_app_keeps_answering_during_a_rebuild_then_serves_the_new_index(tmp_path, corpus_copy, big_corpus):
    from gradio_client import Client

    index = tmp_path / "index"
    with lexical_app(corpus_copy, tmp_path) as server:
        client = Client(server.url, verbose=False)
        new_fact = "The new floodgate on the Ravi river was opened by engineers in Lahore on Tuesday."
        shutil.copytree(big_corpus, corpus_copy / "big")
        (corpus_copy / "floodgate.txt").write_text(f"Floodgate opens\n\n{new_fact}\n", encoding="utf-8")
        rebuild = subprocess.Popen([sys.executable, "-c", BUILD, str(corpus_copy), str(index), "none"])
        answered, errors = 0, []
        while rebuild.poll() is None:
            try:
                data = json.loads(client.predict(QUESTION, 3, api_name="/ask"))
                assert data["hits"][0]["paragraph"] == 2
                answered += 1
            except Exception as error:  # any failure during the rebuild is a defect
                errors.append(repr(error))
        assert rebuild.returncode == 0 and errors == [] and answered > 0
        data = json.loads(client.predict("When was the floodgate on the Ravi river opened?", 1, api_name="/ask"))
        assert data["hits"][0]["text"] == new_fact
        note(FAULTS, f"rebuild under a live app ({answered} answers during it, 0 errors)")


@pytest.mark.slow
def test_sixteen_concurrent_callers_get_answers_without_errors(tmp_path, seed_corpus):
    """The load benchmark's callers (`make load`: 16 callers x 60 s), for 12 s."""
    seconds, callers = 12.0, 16
    with lexical_app(seed_corpus, tmp_path) as server:
        calls = ask_concurrently(server.url, callers, seconds, 5, [QUESTION])
    answered = sorted(value for mine in calls.latencies for value in mine)
    print(
        f"\nload: {callers} callers × {seconds:.0f} s: {len(answered)} answers, {len(calls.errors)} errors, "
        f"median {statistics.median(answered) * 1e3:.0f} ms"
        if answered
        else "\nload: no answers"
    )
    assert calls.errors == [], sorted(set(calls.errors))[:5]
    assert len(answered) > callers


# -- permissions, and two builds at once ----------------------------------------------------------------------

GOOD = "Floods hit Lahore\n\nHeavy rain flooded large parts of Lahore on Saturday, officials said.\n"


def test_an_unreadable_folder_is_reported_and_fails_a_strict_build(tmp_path, corpus_copy):
    from tests.support.unprivileged import qa_unprivileged

    locked = corpus_copy / "locked"
    locked.mkdir()
    (locked / "story.txt").write_text(GOOD, encoding="utf-8")
    locked.chmod(0)
    try:
        build = ["build", "--corpus", corpus_copy, "--index", tmp_path / "index", "--model", "none"]
        result = qa_unprivileged(*build)
        assert result.returncode == 0, result.stderr
        assert "skipped locked/: cannot read this folder (Permission denied)" in result.stderr.splitlines()
        strict = qa_unprivileged(*build, "--strict")
        assert strict.returncode == 1
        assert "could not be used (strict): locked/: cannot read this folder (Permission denied)" in strict.stderr
        corpus_copy.chmod(0)
        unreadable = qa_unprivileged(*build)
        assert unreadable.returncode == 1
        assert unreadable.stderr.startswith(f"error: Cannot read the corpus folder {corpus_copy} (Permission denied)")
    finally:
        corpus_copy.chmod(0o755)
        locked.chmod(0o755)
    note(FAULTS, "unreadable corpus subfolder and corpus folder")


def test_a_read_only_index_folder_is_refused_and_left_as_it_was(tmp_path, seed_corpus):
    from tests.support.unprivileged import qa_unprivileged

    index = tmp_path / "index"
    build_index(seed_corpus, index, model="none")
    before = _answers(index)
    index.chmod(0o555)
    try:
        result = qa_unprivileged("build", "--corpus", seed_corpus, "--index", index, "--model", "none")
    finally:
        index.chmod(0o755)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: Cannot write the index at {index}: it is not writable.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"], "no copy of the old index is left behind"
    assert _answers(index) == before
    note(FAULTS, "build into a read-only index folder (writable parent)")


def test_unreadable_index_files_give_one_clear_line(tmp_path, seed_corpus):
    from tests.support.unprivileged import qa_unprivileged

    index = tmp_path / "index"
    build_index(seed_corpus, index, model="none")
    for locked in (index / "passages.jsonl", index / "lexical", index):
        locked.chmod(0)
        try:
            for command in (["ask", QUESTION, "--index", index], ["info", "--index", index]):
                result = qa_unprivileged(*command)
                assert result.returncode == 1, (locked, command, result.stderr)
                assert "Traceback" not in result.stderr
                assert result.stderr.startswith("error: ") and "Permission denied" in result.stderr, result.stderr
                assert len(result.stderr.strip().splitlines()) == 1
        finally:
            locked.chmod(0o755 if locked.is_dir() else 0o644)
    note(FAULTS, "unreadable index file, subfolder and folder")


@pytest.mark.slow
def test_a_second_build_of_one_index_fails_at_once_naming_the_first(tmp_path, corpus_copy):
    index = tmp_path / "index"
    build_index(corpus_copy, index, model="none")
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    build = [sys.executable, "-m", "qa", "build", "--corpus", str(corpus_copy), "--index", str(index)]
    first = subprocess.Popen(
        [*build, "--model", "self", "--train-seconds", "8"],
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    training = tmp_path / f"index.building-model-{first.pid}"  # exists while the first build trains its model
    deadline = time.monotonic() + 120
    while not training.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert training.exists(), "the first build never reached its training step"
    second = subprocess.run(
        [*build, "--model", "none"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert first.poll() is None, "the second build must not wait for the first"
    assert second.returncode == 1
    assert second.stderr.startswith(f"error: Another qa build (process {first.pid}) is writing the index at {index}.")
    first.communicate(timeout=300)
    assert first.returncode == 0
    assert Retriever.load(index).manifest.model.self_trained, "the first build's index is the one in place"
    note(FAULTS, "two builds of one index at once")


# -- standard streams closed or full ---------------------------------------------------------------------------


def _qa_with(redirect: str, *args: object) -> subprocess.CompletedProcess[str]:
    """`python -m qa ARGS` run by the shell with ``redirect`` applied (e.g. `>&-`, `> /dev/full`)."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    script = f'exec "$0" -m qa "$@" {redirect}'
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "HF_HUB_OFFLINE": "1"}
    command = ["sh", "-c", script, sys.executable, *map(str, args)]
    return subprocess.run(command, stderr=subprocess.PIPE, text=True, env=environment, timeout=300)


@pytest.mark.parametrize(
    "redirect,why", [(">&-", "it is closed"), ("> /dev/full", "No space left on device")], ids=["closed", "full"]
)
def test_answers_that_cannot_be_written_are_one_error_line(lexical_index, redirect, why):
    result = _qa_with(redirect, "ask", QUESTION, "--index", lexical_index, "-k", "20")
    assert result.returncode == 1
    assert result.stderr == f"error: cannot write to standard output: {why}.\n"


@pytest.mark.parametrize(
    "redirect,why", [(">&-", "it is closed"), ("> /dev/full", "No space left on device")], ids=["closed", "full"]
)
def test_a_build_whose_summary_cannot_be_printed_still_succeeds(tmp_path, seed_corpus, redirect, why):
    index = tmp_path / "index"
    result = _qa_with(redirect, "build", "--corpus", seed_corpus, "--index", index, "--model", "none")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"warning: the index at {index} was built; its summary was not printed "
        f"(cannot write to standard output: {why}).\n"
    )
    assert Retriever.load(index).manifest.articles == 5
    note(FAULTS, f"qa build with standard output {'closed' if '&-' in redirect else 'full'}")


@pytest.mark.parametrize("redirect", ["2>&-", "2> /dev/full"], ids=["closed", "full"])
def test_commands_run_with_standard_error_closed_or_full(tmp_path, seed_corpus, redirect):
    index = tmp_path / "index"
    built = _qa_with(redirect, "build", "--corpus", seed_corpus, "--index", index, "--model", "none")
    assert built.returncode == 0 and Retriever.load(index).manifest.articles == 5
    failed = _qa_with(redirect, "ask", QUESTION, "--index", tmp_path / "missing")
    assert failed.returncode == 1  # the error line had nowhere to go, and no traceback was attempted either
    note(FAULTS, f"qa build and ask with standard error {'closed' if '&-' in redirect else 'full'}")


# -- readers racing a rebuild: one consistent snapshot, never a mix -------------------------------------------

MONSOON = "Monsoon rain flooded the old city of Lahore on Tuesday."
WHEAT = "Wheat prices rose in the grain markets of Multan today."  # as long as MONSOON


def _two_articles(corpus: Path, first: str, second: str) -> None:
    corpus.mkdir(exist_ok=True)
    (corpus / "a.txt").write_text(f"Report one\n\n{first}\n", encoding="utf-8")
    (corpus / "b.txt").write_text(f"Report two\n\n{second}\n", encoding="utf-8")


def test_a_retriever_opened_before_a_rebuild_answers_from_its_own_index(tmp_path):
    """The rebuild writes files of the same length with the rows swapped: a reader that opened
    passages.jsonl only later would read the wheat row at the monsoon row's offsets."""
    assert len(MONSOON) == len(WHEAT)
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _two_articles(corpus, MONSOON, WHEAT)
    build_index(corpus, index, model="none")
    before = Retriever.load(index)
    _two_articles(corpus, WHEAT, MONSOON)
    build_index(corpus, index, model="none")
    hit = before.search("Where did monsoon rain flood?", k=1)[0]
    assert hit.passage.text == MONSOON and hit.article.path == "a.txt"
    assert hit.article.text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text
    assert sorted(before.articles) == ["a", "b"] and before.article("a").text.endswith(MONSOON)
    after = Retriever.load(index).search("Where did monsoon rain flood?", k=1)[0]
    assert after.passage.text == MONSOON and after.article.path == "b.txt"
    note(FAULTS, "retriever opened before a rebuild of equal-length files")


def test_a_load_that_a_rebuild_overtakes_opens_one_whole_index(tmp_path, monkeypatch):
    """The swap lands between reading the manifest and checking the files it lists."""
    import qa.index.store as store

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _two_articles(corpus, MONSOON, WHEAT)
    build_index(corpus, index, model="none")
    other = tmp_path / "other"
    _two_articles(other, WHEAT, MONSOON)
    (other / "c.txt").write_text("Report three\n\nCotton exports from Sindh doubled this season.\n")
    real_check, swaps = store.check_files, []

    def check_after_a_rebuild(*args, **kwargs):
        if not swaps:
            swaps.append(build_index(other, index, model="none"))
        return real_check(*args, **kwargs)

    monkeypatch.setattr(store, "check_files", check_after_a_rebuild)
    retriever = Retriever.load(index)
    assert swaps and retriever.manifest.articles == 3 == len(retriever.articles)
    hit = retriever.search("Cotton exports doubled", k=1)[0]
    assert hit.article.path == "c.txt" and hit.article.text.endswith(hit.passage.text)
    note(FAULTS, "load overtaken by a rebuild between manifest and files")


@pytest.mark.slow
def test_loads_in_a_loop_during_rebuilds_never_fail_or_mix(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_big_corpus(corpus, 800)
    build_index(corpus, index, model="none")
    rebuilds = 6
    script = (
        "import sys, pathlib\nfrom qa.index.build import build_index\n"
        "corpus = pathlib.Path(sys.argv[1])\n"
        f"for n in range({rebuilds}):\n"
        "    (corpus / f'extra-{n}.txt').write_text(f'Extra {n}\\n\\nA new story number {n} about the river.\\n')\n"
        "    build_index(corpus, sys.argv[2], model='none')\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    builder = subprocess.Popen([sys.executable, "-c", script, str(corpus), str(index)], env=environment)
    loads, errors, generations = 0, [], set()
    while builder.poll() is None:
        try:
            retriever = Retriever.load(index)
            hit = retriever.search("new story about the river", k=1)[0]
            assert hit.article.text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text
            assert len(retriever.articles) == retriever.manifest.articles
            generations.add(retriever.manifest.articles)
            loads += 1
        except Exception as error:  # any failure is a defect: the index was never broken
            errors.append(repr(error))
    assert builder.returncode == 0
    print(f"\n{loads} loads during {rebuilds} rebuilds: {len(errors)} errors, {len(generations)} generations seen")
    assert errors == [] and loads > 20 and len(generations) > 1
    note(FAULTS, f"{loads} loads during {rebuilds} rebuilds")
