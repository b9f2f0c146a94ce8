"""The real bundled model (all-MiniLM-L6-v2), end to end: paraphrased questions answered at rank 1 on the
shipped corpus, and a copy of the model with one byte changed refused by name. Loaded once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.errors import ModelVerificationError
from qa.models import bundled, hub
from qa.models.encoder import DEFAULT_MODEL, load_encoder
from qa.search.retriever import Retriever

pytestmark = pytest.mark.slow

XINJIANG = "2018-09-25-pakistanis-lobby-to-free-wives-trapped-in-xinjiang"
COOPERATION = "2019-05-11-pakistan-china-working-closely-on-women-trafficking"
CHAINS = "breaking-the-chains-of-human-trafficking-in-pakistan"
REVIEW = "national-review-pakistan-backs-off-prosecuting-chinese-traffickers"
SHAFAQNA = "shafaqna-2024-01-01-human-trafficking-glaring-failure-of-the-state"

# Questions a reader might ask, worded so that none of their informative words (stemmed, stopwords
# aside) occurs in the paragraph that answers them: only meaning can find it.
PARAPHRASES = [
    ("Why did Islamabad abandon legal action against gangs selling brides, out of concern for trade?", REVIEW, 1),
    ("How many females were taken abroad to be married off, according to the detectives' tally?", REVIEW, 3),
    ("Were the thirty-one foreigners charged in the autumn convicted?", REVIEW, 7),
    ("What are prisoners of the political indoctrination programme compelled to do?", XINJIANG, 14),
    ("Whose identity documents were withheld by officials, keeping a mother and toddler stuck?", XINJIANG, 4),
    ("How have Islamic countries responded to the crackdown on Uighurs?", XINJIANG, 8),
    ("How many people smugglers did national police catch in one Punjab city within thirty days?", SHAFAQNA, 2),
    ("How few offenders were sentenced out of the many inquiries opened?", SHAFAQNA, 1),
    ("Which statute lets convicted offenders pay money rather than go to jail?", SHAFAQNA, 3),
    ("How are bogus employment ads on the web used to snare people?", CHAINS, 9),
    ("Why do boastful online pictures by expatriates tempt poor youngsters to leave?", CHAINS, 3),
    ("What care should rescued people get, like housing and counselling?", CHAINS, 11),
    ("What did Beijing's police inquiry conclude about claims of body parts being sold?", COOPERATION, 7),
    ("What were young women told to lure them overseas?", COOPERATION, 6),
]


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
    assert default_model.manifest.fusion.method == "interpolation"


@pytest.mark.skip(reason="fusion for the default model is being tuned (issue 11); enabled with the tuned fusion")
@pytest.mark.parametrize("question,article,paragraph", PARAPHRASES, ids=[q for q, _, _ in PARAPHRASES])
def test_paraphrased_question_finds_its_paragraph_first(default_model, question, article, paragraph):
    analyzer = default_model.lexical.analyzer
    answer = next(p for p in default_model.passages if (p.article_id, p.paragraph) == (article, paragraph))
    shared = set(analyzer.terms(question)) & set(analyzer.terms(answer.text))
    assert not shared, f"the question shares {shared} with its answer: not a paraphrase"
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
