"""Incremental rebuild: unchanged passages keep their vectors; only new text is embedded."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from qa.errors import IndexFormatError
from qa.index.build import build_index
from qa.index.manifest import FORMAT_VERSION, Manifest, ModelInfo, VectorsInfo
from qa.index.vectorcache import KEYS_FILE, content_keys, model_key
from qa.models.encoder import Encoder, load_encoder
from qa.search.retriever import Retriever

NEW_ARTICLE = (
    "Flood update\n\nHeavy rain flooded large parts of Lahore on Saturday, officials said.\n\n"
    "Rescue teams moved two thousand families from low-lying districts near the river.\n"
)


@dataclasses.dataclass
class CountingEncoder(Encoder):
    """The real encoder, noting every passage it is asked to embed."""

    embedded: list[str] = dataclasses.field(default_factory=list)

    def encode_passages(self, texts: list[str], progress: bool = False, batch_size: int = 32) -> np.ndarray:
        self.embedded.extend(texts)
        return super().encode_passages(texts, progress, batch_size)


def _counting(model_dir) -> CountingEncoder:
    encoder = load_encoder(model_dir)
    return CountingEncoder(**{f.name: getattr(encoder, f.name) for f in dataclasses.fields(Encoder)})


def _vectors(index) -> np.ndarray:
    return np.load(index / "vectors.npy")


@pytest.fixture()
def built(tmp_path, corpus_copy, static_model_dir):
    index = tmp_path / "index"
    encoder = _counting(static_model_dir)
    first = build_index(corpus_copy, index, model=encoder)
    assert first.vectors_reused == 0 and len(encoder.embedded) == first.manifest.passages
    return corpus_copy, index


def test_adding_an_article_embeds_only_its_passages(built, static_model_dir, tmp_path):
    corpus, index = built
    before = first_passages = Retriever.load(index).manifest.passages
    (corpus / "flood.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    encoder = _counting(static_model_dir)
    report = build_index(corpus, index, model=encoder)
    assert report.vectors_reused == first_passages
    assert sorted(encoder.embedded) == sorted("Flood update\n" + p.strip() for p in NEW_ARTICLE.split("\n\n")[1:])
    assert report.manifest.passages - before == 2
    assert report.manifest.vectors == VectorsInfo(model_key(ModelInfo.from_dict(encoder.describe())), 2, first_passages)
    full = build_index(corpus, tmp_path / "full", model=str(static_model_dir), reuse_vectors=False)
    assert full.vectors_reused == 0
    assert np.allclose(_vectors(index), _vectors(tmp_path / "full"), atol=1e-6)
    question = "How many traffickers did the FIA arrest in Gujranwala?"
    assert [h.to_dict() for h in Retriever.load(index).search(question, k=5)] == [
        h.to_dict() for h in Retriever.load(tmp_path / "full").search(question, k=5)
    ]


def test_removing_an_article_embeds_nothing_and_drops_its_vectors(built, static_model_dir):
    corpus, index = built
    removed = sorted(corpus.glob("*.txt"))[0]
    kept_before = {
        key.tobytes(): vector for key, vector in zip(np.load(index / KEYS_FILE), _vectors(index), strict=True)
    }
    removed.unlink()
    encoder = _counting(static_model_dir)
    report = build_index(corpus, index, model=encoder)
    assert encoder.embedded == [] and report.vectors_reused == report.manifest.passages
    keys = np.load(index / KEYS_FILE)
    assert len(keys) == report.manifest.passages < len(kept_before)
    for key, vector in zip(keys, _vectors(index), strict=True):
        assert np.array_equal(kept_before[key.tobytes()], vector)


def test_editing_a_paragraph_embeds_only_that_passage(built, static_model_dir):
    corpus, index = built
    path = sorted(corpus.glob("*.txt"))[1]
    text = path.read_text(encoding="utf-8")
    paragraphs = Retriever.load(index).passages
    target = next(p for p in paragraphs if p.paragraph == 3 and p.article_id == path.stem)
    path.write_text(text.replace(target.text, target.text + " An added sentence closes it.", 1), encoding="utf-8")
    encoder = _counting(static_model_dir)
    report = build_index(corpus, index, model=encoder)
    assert len(encoder.embedded) == 1 and encoder.embedded[0].endswith("An added sentence closes it.")
    assert report.vectors_reused == report.manifest.passages - 1


def test_rebuilding_an_index_of_the_previous_format_reuses_its_vectors(built, static_model_dir):
    corpus, index = built
    manifest = Manifest.read(index)
    manifest.format_version = FORMAT_VERSION - 1
    manifest.write(index)
    with pytest.raises(IndexFormatError, match="old format"):
        Retriever.load(index)
    encoder = _counting(static_model_dir)
    report = build_index(corpus, index, model=encoder)
    assert encoder.embedded == [] and report.vectors_reused == report.manifest.passages
    assert Retriever.load(index).manifest.format_version == FORMAT_VERSION


def test_another_model_reuses_nothing(built, tmp_path, seed_corpus):
    from tests.support.tiny_models import build_static_model

    corpus, index = built
    other = build_static_model(tmp_path / "other-model", seed_corpus, seed=5)
    report = build_index(corpus, index, model=str(other))
    assert report.vectors_reused == 0


def test_full_flag_embeds_everything_again(built, static_model_dir):
    corpus, index = built
    encoder = _counting(static_model_dir)
    report = build_index(corpus, index, model=encoder, reuse_vectors=False)
    assert report.vectors_reused == 0 and len(encoder.embedded) == report.manifest.passages


def test_content_keys_depend_on_model_and_exact_text():
    keys = content_keys("model-a", ["Title\nSome text.", "Title\nSome text. ", "Title\nSome text."])
    assert keys.shape == (3, 16) and keys.dtype == np.uint8
    assert np.array_equal(keys[0], keys[2]) and not np.array_equal(keys[0], keys[1])
    assert not np.array_equal(content_keys("model-b", ["Title\nSome text."])[0], keys[0])
    described = ModelInfo("m", 8, fingerprint="f" * 64)
    assert model_key(described) == model_key(dataclasses.replace(described, name="moved/elsewhere", query_prompt="q: "))
    assert model_key(described) != model_key(dataclasses.replace(described, document_prompt="passage: "))


def test_cli_build_reports_reused_vectors(built, static_model_dir, capsys):
    from qa.serve.cli import main

    corpus, index = built
    (corpus / "flood.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    assert main(["build", "--corpus", str(corpus), "--index", str(index), "--model", str(static_model_dir)]) == 0
    out = capsys.readouterr().out
    assert "reused" in out and "embedded 2" in out
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["vectors"]["embedded"] == 2


def test_damaged_vectors_of_the_old_index_are_never_carried_forward(built, static_model_dir):
    corpus, index = built
    vectors = index / "vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-5] ^= 0xFF  # one byte of the last vector
    vectors.write_bytes(bytes(data))
    encoder = _counting(static_model_dir)
    report = build_index(corpus, index, model=encoder)
    assert report.vectors_reused == 0 and len(encoder.embedded) == report.manifest.passages
    assert Retriever.load(index).search("FIA traffickers Gujranwala", k=1)  # the new index is whole
