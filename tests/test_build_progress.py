"""What `qa build` tells a person while it works: a bar for every long stage, and messages that agree."""

from __future__ import annotations

import pytest

from qa.index import embedding
from qa.index.build import build_index
from qa.models.selftrain import TrainSettings
from qa.progress import STAGES
from qa.serve.cli import main

QUICK = TrainSettings(seconds=2, seed=7)


def test_every_long_stage_shows_a_progress_bar(tmp_path, seed_corpus, static_model_dir, capsys, monkeypatch):
    from qa.index import build
    from qa.settings import FusionSettings

    # fused as the default model is, so the build embeds sentences too
    monkeypatch.setitem(build.MODEL_FUSION, str(static_model_dir), FusionSettings(sentence_weight=0.6))
    report = build_index(seed_corpus, tmp_path / "index", model=str(static_model_dir), progress=True)
    err = capsys.readouterr().err
    assert report.manifest.mode == "hybrid"
    local = [label for name, (label, _) in STAGES.items() if name != "qdrant"]  # a local build's stages
    shown = [label for label in local if f"{label}: 100%" in err]
    assert shown == local  # reading, cleaning, … writing: all of them


def test_no_bars_when_not_asked(tmp_path, seed_corpus, capsys):
    build_index(seed_corpus, tmp_path / "index", model="none")
    assert "100%" not in capsys.readouterr().err


def test_a_model_that_cannot_load_is_reported_once_and_the_summary_agrees(tmp_path, seed_corpus, capsys):
    index = tmp_path / "index"
    assert main(["build", "--corpus", str(seed_corpus), "--index", str(index), "--model", "no-such/model"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("semantic search is off") == 1
    assert "(lexical search" in captured.out and "hybrid" not in captured.out + captured.err


@pytest.mark.slow
def test_a_corpus_model_trained_instead_is_never_called_off(tmp_path, seed_corpus, monkeypatch, capsys):
    """The default model unavailable and a corpus big enough: one line says a model is trained instead,
    and nothing says semantic search is off (the first-use test saw both, then "hybrid search")."""
    from qa.models import encoder

    monkeypatch.setattr(embedding, "SELF_MIN_WORDS", 1_000)  # the shipped corpus has ~2,900 words
    monkeypatch.setattr(encoder, "DEFAULT_MODEL", str(tmp_path / "no-model-here"))  # the CLI's default
    index = tmp_path / "index"
    assert main(["build", "--corpus", str(seed_corpus), "--index", str(index), "--train-seconds", "2"]) == 0
    captured = capsys.readouterr()
    assert "semantic search is off" not in captured.err
    assert "so a semantic model is trained on this corpus instead" in captured.err
    assert "(hybrid search" in captured.out
