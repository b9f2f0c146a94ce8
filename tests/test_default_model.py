"""The real bundled model (all-MiniLM-L6-v2), end to end: paraphrased questions answered at rank 1 on the
shipped corpus, and a copy of the model with one byte changed refused by name. Loaded once per session."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from qa.errors import ModelVerificationError
from qa.models import bundled, hub
from qa.models.encoder import DEFAULT_MODEL, load_encoder
from qa.search.retriever import Retriever
from qa.settings import MODEL_FUSION

pytestmark = pytest.mark.slow

# Questions a reader might ask, each with the paragraph that answers it, worded so that none of its key
# words occurs there (tests/paraphrases.json says how; the ones pinned here are answered first).
PARAPHRASES = json.loads((Path(__file__).with_name("paraphrases.json")).read_text(encoding="utf-8"))["questions"]
PINNED = [(q["question"], q["article"], q["paragraph"], q["set"]) for q in PARAPHRASES if q["pinned"]]


@pytest.fixture(scope="session")
def default_model_index(tmp_path_factory: pytest.TempPathFactory, seed_corpus: Path) -> Path:
    """The shipped corpus indexed with the default model: what `make run` builds."""
    from qa.index.build import build_index

    index_dir = tmp_path_factory.mktemp("indexes") / "default-model"
    build_index(seed_corpus, index_dir)
    return index_dir


@pytest.fixture(scope="module")
def default_model(default_model_index: Path) -> Retriever:
    return Retriever.load(default_model_index)


def test_the_shipped_corpus_is_indexed_with_the_verified_default_model(default_model):
    model = default_model.manifest.model
    assert default_model.mode == "hybrid"
    assert (model.name, model.revision) == (DEFAULT_MODEL, bundled.REVISION)
    assert default_model.manifest.fusion == MODEL_FUSION[DEFAULT_MODEL]
    sentences = default_model.manifest.sentences  # the fusion weighs each passage's best sentence
    assert sentences is not None and sentences.count > len(default_model.passages)


def key_words_shared(retriever: Retriever, question: str, article: str, paragraph: int, kind: str) -> set[str]:
    """The question's informative words found in its answer paragraph that count as key words: any of them for
    the zero-overlap set; for the topical set, those in fewer than a sixth of the corpus's paragraphs."""
    terms = retriever.lexical.analyzer.terms
    texts = {(p.article_id, p.paragraph): p.text for p in retriever.passages}
    shared = set(terms(question)) & set(terms(texts[(article, paragraph)]))
    if kind == "zero overlap":
        return shared
    frequency = Counter(term for text in texts.values() for term in set(terms(text)))
    return {term for term in shared if frequency[term] < len(texts) / 6}


def test_the_paraphrase_set_keeps_its_promise(default_model):
    assert len(PINNED) >= 12
    for question in PARAPHRASES:
        shared = key_words_shared(
            default_model, question["question"], question["article"], question["paragraph"], question["set"]
        )
        assert not shared, f"{question['question']!r} shares {shared} with its answer: not a paraphrase"


@pytest.mark.parametrize("question,article,paragraph,kind", PINNED, ids=[q for q, *_ in PINNED])
def test_paraphrased_question_finds_its_paragraph_first(default_model, question, article, paragraph, kind):
    best = default_model.search(question, k=5)[0]
    assert (best.passage.article_id, best.passage.paragraph) == (article, paragraph)


def test_model_copy_with_one_byte_changed_is_refused_by_name(tmp_path, monkeypatch):
    copy = tmp_path / "model"
    shutil.copytree(bundled.bundled_folder(), copy)
    weights = copy / "model.safetensors"
    with weights.open("r+b") as handle:
        handle.seek(1 << 20)
        byte = handle.read(1)
        handle.seek(1 << 20)
        handle.write(bytes([byte[0] ^ 0x01]))
    monkeypatch.setattr(hub, "bundled_folder", lambda: copy)
    with pytest.raises(ModelVerificationError, match=r"model\.safetensors does not match its pinned sha256"):
        load_encoder(DEFAULT_MODEL)
