"""Shared fixtures: the shipped corpus, tiny real sentence-transformers models, built indexes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from qa.search.retriever import Retriever
from tests.support import report

ROOT = Path(__file__).resolve().parents[1]
SEED_CORPUS = ROOT / "corpus"
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never download; the real hub path is tested explicitly
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session", autouse=True)
def user_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The audit log and relevance marks of every test (and every server a test starts) go here,
    never into the real home folder."""
    folder = tmp_path_factory.mktemp("user-data")
    os.environ["XDG_DATA_HOME"] = str(folder)
    for name in ("QA_AUDIT_LOG", "QA_MARKS"):
        os.environ.pop(name, None)
    return folder / "news-qa"


@pytest.fixture(scope="session")
def newsroom_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wire story four outlets ran on different days (one copy undated), and stories for phrase,
    exclusion and undated-article tests (tests/newsroom.py)."""
    from tests.support.newsroom import write_newsroom_corpus

    return write_newsroom_corpus(tmp_path_factory.mktemp("newsroom") / "corpus")


@pytest.fixture(scope="session")
def newsroom_index(tmp_path_factory: pytest.TempPathFactory, newsroom_corpus: Path) -> Path:
    from qa.index.build import build_index

    index_dir = tmp_path_factory.mktemp("indexes") / "newsroom"
    build_index(newsroom_corpus, index_dir, model="none")
    return index_dir


@pytest.fixture(scope="session")
def seed_corpus() -> Path:
    return SEED_CORPUS


@pytest.fixture(scope="session")
def static_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A StaticEmbedding model over a WordPiece tokenizer trained on the seed corpus, saved to disk."""
    from tests.support.tiny_models import build_static_model

    return build_static_model(tmp_path_factory.mktemp("models") / "static", SEED_CORPUS)


@pytest.fixture(scope="session")
def bert_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small random BERT with a 64-token window (so long paragraphs must be split), saved to disk."""
    from tests.support.tiny_models import build_bert_model

    return build_bert_model(tmp_path_factory.mktemp("models") / "bert", SEED_CORPUS, max_seq_length=64)


@pytest.fixture(scope="session")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random cross-encoder (one-layer BERT, one output) over a tokenizer trained on the seed corpus."""
    from tests.support.tiny_models import build_cross_encoder

    return build_cross_encoder(tmp_path_factory.mktemp("models") / "cross-encoder", SEED_CORPUS)


@pytest.fixture(scope="session")
def lexical_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from qa.index.build import build_index

    index_dir = tmp_path_factory.mktemp("indexes") / "lexical"
    build_index(SEED_CORPUS, index_dir, model="none")
    return index_dir


@pytest.fixture(scope="session")
def hybrid_index(tmp_path_factory: pytest.TempPathFactory, static_model_dir: Path) -> Path:
    from qa.index.build import build_index

    index_dir = tmp_path_factory.mktemp("indexes") / "hybrid"
    build_index(SEED_CORPUS, index_dir, model=str(static_model_dir))
    return index_dir


@pytest.fixture(scope="session")
def qdrant_hybrid_index(tmp_path_factory: pytest.TempPathFactory, static_model_dir: Path) -> Path:
    """The shipped corpus indexed like ``hybrid_index``, its passages in a collection of Qdrant's local mode."""
    from qa.index.build import build_index
    from qa.index.qdrant import QdrantSettings

    folder = tmp_path_factory.mktemp("indexes") / "qdrant"
    settings = QdrantSettings(path=str(folder / "collections"), collection="hybrid")
    build_index(SEED_CORPUS, folder / "index", model=str(static_model_dir), qdrant=settings)
    return folder / "index"


@pytest.fixture(scope="module")
def lexical(lexical_index: Path) -> Retriever:
    """A retriever on the keyword-only index of the seed corpus (one per test module)."""
    return Retriever.load(lexical_index)


@pytest.fixture(scope="module")
def hybrid(hybrid_index: Path) -> Retriever:
    """A retriever on the seed corpus indexed with the tiny static model (one per test module)."""
    return Retriever.load(hybrid_index)


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the seed corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, target)
    return target


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the run tried (faults injected, hostile inputs), once at its end."""
    lines = report.summary()
    if lines:
        terminalreporter.section("what this run tried")
        for line in lines:
            terminalreporter.write_line(line)
