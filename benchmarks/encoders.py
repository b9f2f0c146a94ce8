"""The encoders the benchmark runs, all built here from SciFact text with no download.

* ``build_static_encoder`` — the stand-in for the real model in every build and search: a
  sentence-transformers ``StaticEmbedding`` (384 dimensions, like bge-small) over a WordPiece
  tokenizer trained on SciFact, its token vectors taken from an LSA of SciFact (TF-IDF, SVD).
  Passages that share informative words get nearby vectors, so approximate-search recall is
  measured on structured vectors rather than on random noise.
* ``build_bge_shaped_model`` — BAAI/bge-small-en-v1.5's architecture (BERT, 12 layers, hidden
  384, 12 heads, 1,536 FFN, 30,522 WordPiece vocabulary, CLS pooling, normalized) with random
  weights. Its speed is the real model's speed; its vectors mean nothing. It calibrates the
  real model's embedding cost and load time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.data import load_abstracts
from qa.models.selftrain import SPECIAL_TOKENS
from tests.support.tiny_models import BertShape, save_random_bert

BGE_QUERY_PROMPT = "Represent this sentence for searching relevant passages: "


BGE_SMALL = BertShape()


def scifact_texts() -> list[str]:
    return [abstract.title + "\n" + " ".join(abstract.sentences) for abstract in load_abstracts()]


def train_wordpiece(texts: list[str], vocab_size: int):  # -> tokenizers.Tokenizer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def lsa_token_vectors(token_ids: list[list[int]], vocab_size: int, dimension: int, seed: int = 0) -> np.ndarray:
    """Token vectors whose mean over a text is that text's LSA vector (TF-IDF projected by a truncated SVD).

    Folding IDF into each token's vector makes the plain mean that StaticEmbedding computes
    equal to the TF-IDF-weighted projection, up to length (vectors are normalized anyway).
    """
    from scipy.sparse import csr_matrix
    from sklearn.decomposition import TruncatedSVD

    rows = np.repeat(np.arange(len(token_ids)), [len(ids) for ids in token_ids])
    columns = np.concatenate([np.asarray(ids, dtype=np.int64) for ids in token_ids])
    counts = csr_matrix((np.ones(len(columns), dtype=np.float32), (rows, columns)), shape=(len(token_ids), vocab_size))
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=vocab_size)
    idf = np.log((1 + len(token_ids)) / (1 + df)) + 1.0
    tfidf = counts.multiply(idf[None, :]).tocsr()
    svd = TruncatedSVD(n_components=dimension, algorithm="randomized", n_iter=4, random_state=seed)
    svd.fit(tfidf)
    vectors = (svd.components_.T * idf[:, None]).astype(np.float32)
    unseen = df == 0  # special tokens and unused pieces: tiny random vectors, never exactly zero
    vectors[unseen] = np.random.default_rng(seed).standard_normal((int(unseen.sum()), dimension)) * 1e-3
    return vectors


def build_static_encoder(folder: Path, dimension: int = 384, vocab_size: int = 20000) -> Path:
    """Train the stand-in encoder and save it as a sentence-transformers folder (kept if already there)."""
    if (folder / "modules.json").is_file():
        return folder
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    texts = scifact_texts()
    tokenizer = train_wordpiece(texts, vocab_size)
    token_ids = [encoding.ids for encoding in tokenizer.encode_batch(texts, add_special_tokens=False)]
    weights = lsa_token_vectors(token_ids, tokenizer.get_vocab_size(), dimension)
    static = StaticEmbedding(tokenizer, embedding_weights=weights)
    SentenceTransformer(modules=[static]).save(str(folder))
    return folder


def build_bge_shaped_model(folder: Path, shape: BertShape = BGE_SMALL, seed: int = 0) -> Path:
    """A random-weight sentence-transformers model with ``shape`` (bge-small's by default; kept if already there)."""
    if (folder / "modules.json").is_file():
        return folder
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    torch.manual_seed(seed)
    tokenizer = train_wordpiece(scifact_texts(), shape.vocab_size)
    raw = folder.parent / f"{folder.name}-raw"
    save_random_bert(raw, tokenizer, shape, model_max_length=shape.max_positions)
    transformer = Transformer(str(raw), max_seq_length=shape.max_positions)
    pooling = Pooling(transformer.get_word_embedding_dimension(), "cls")
    SentenceTransformer(
        modules=[transformer, pooling, Normalize()], prompts={"query": BGE_QUERY_PROMPT, "document": ""}
    ).save(str(folder))
    return folder
