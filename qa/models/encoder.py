"""Sentence-transformers embedding models: loading one (found by qa/models/hub.py) and encoding text."""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.models.bundled import BUNDLED_MODEL
from qa.models.hub import Wording, find_model, load_model

DEFAULT_MODEL = BUNDLED_MODEL  # all-MiniLM-L6-v2, installed with qa and verified before use
# Instructions that model families expect and do not ship in their configuration.
KNOWN_PROMPTS: dict[str, tuple[str, str]] = {  # name prefix -> (query prompt, document prompt)
    "BAAI/bge-small-en-v1.5": ("Represent this sentence for searching relevant passages: ", ""),
    "BAAI/bge-base-en-v1.5": ("Represent this sentence for searching relevant passages: ", ""),
    "BAAI/bge-large-en-v1.5": ("Represent this sentence for searching relevant passages: ", ""),
    "intfloat/e5-": ("query: ", "passage: "),
    "intfloat/multilingual-e5-": ("query: ", "passage: "),
}
ENABLE_HINT = (
    f"To turn semantic search on, reinstall qa with its default model ({DEFAULT_MODEL}, `make setup`), "
    'name a local sentence-transformers folder as the model, or train one on the corpus (model "self").'
)
ENCODER = Wording("Model", "model", "sentence-transformers model folder")
log = logging.getLogger("qa")


@dataclass
class Encoder:
    """A loaded sentence-transformers model with the prompts and token budget we use it with."""

    model: Any
    name: str
    revision: str | None
    fingerprint: str | None
    query_prompt: str
    document_prompt: str
    dimension: int
    max_tokens: int | None  # content tokens per passage; None when the model has no limit
    # A StaticEmbedding is a table lookup and a mean: done in numpy it is exact and needs no torch
    # threads (through torch a second thread only waited: hybrid search at 10k 10.9 -> 4.2 ms p50).
    static: StaticTable | None = None

    def encode_passages(self, texts: list[str], progress: bool = False, batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, self.document_prompt, progress, batch_size)

    def encode_queries(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return self._encode(texts, self.query_prompt, False, batch_size)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        """Passage sentences for highlighting: encoded like passages."""
        return self._encode(texts, self.document_prompt, False, 64)

    def _encode(self, texts: list[str], prompt: str, progress: bool, batch_size: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.static is not None:
            return self.static.encode([prompt + text for text in texts] if prompt else texts, progress)
        vectors = self.model.encode(
            texts,
            prompt=prompt or None,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Content tokens of ``text`` under the model's own tokenizer (no special tokens)."""
        tokenizer = self.model.tokenizer
        if hasattr(tokenizer, "encode_batch"):  # a bare `tokenizers.Tokenizer` (StaticEmbedding)
            return len(tokenizer.encode(text, add_special_tokens=False).ids)
        return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "revision": self.revision,
            "fingerprint": self.fingerprint,
            "dimension": self.dimension,
            "query_prompt": self.query_prompt,
            "document_prompt": self.document_prompt,
            "max_tokens": self.max_tokens,
        }


@dataclass
class StaticTable:
    """What a sentence-transformers StaticEmbedding computes — the mean of its texts' token vectors
    (an EmbeddingBag), then L2-normalised — in numpy, a chunk of texts at a time."""

    tokenizer: Any  # tokenizers.Tokenizer
    weights: np.ndarray  # (vocabulary, dimension) float32
    chunk: int = 4096

    @classmethod
    def of(cls, model: Any) -> StaticTable | None:
        """The table of ``model`` when it is a StaticEmbedding (optionally followed by Normalize), else None."""
        modules = list(model)
        if not modules or type(modules[0]).__name__ != "StaticEmbedding":
            return None
        if any(type(module).__name__ != "Normalize" for module in modules[1:]):
            return None
        embedding = modules[0].embedding
        if getattr(embedding, "mode", "mean") != "mean":
            return None
        weights = embedding.weight.detach().cpu().numpy().astype(np.float32, copy=False)
        return cls(modules[0].tokenizer, np.ascontiguousarray(weights))

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.weights.shape[1]), dtype=np.float32)
        starts = range(0, len(texts), self.chunk)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Embedding", unit="chunk")
        for start in starts:
            ids = [
                e.ids for e in self.tokenizer.encode_batch(texts[start : start + self.chunk], add_special_tokens=False)
            ]
            lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
            filled = np.flatnonzero(lengths)  # an empty text stays a zero vector, as in an EmbeddingBag
            if len(filled) == 0:
                continue
            flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
            offsets = np.concatenate(([0], np.cumsum(lengths[filled])[:-1]))
            sums = np.add.reduceat(self.weights[flat], offsets, axis=0)
            out[start + filled] = sums / lengths[filled, None].astype(np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def load_encoder(name_or_path: str | Path, allow_download: bool = True) -> Encoder:
    """Load a sentence-transformers model: a local folder, the bundled default (verified), the Hugging Face
    cache, or — with ``allow_download`` — the hub (qa/models/hub.py).

    Raises ModelUnavailableError with the reason when it cannot be loaded (ModelVerificationError, naming
    the file, when the bundled model's files do not match their pinned hashes).
    """
    source = find_model(name_or_path, ENCODER, allow_download=allow_download)
    from sentence_transformers import SentenceTransformer

    model, source = load_model(source, ENCODER, SentenceTransformer)
    return _wrap(model, source.name, source.revision, source.fingerprint)


def _wrap(model: Any, name: str, revision: str | None, fingerprint: str | None) -> Encoder:
    prompts = model.prompts or {}
    known = next((pair for prefix, pair in KNOWN_PROMPTS.items() if name.startswith(prefix)), ("", ""))
    query_prompt = prompts.get("query") or known[0]
    document_prompt = prompts.get("document") or prompts.get("passage") or known[1]
    limit = model.max_seq_length
    max_tokens = None
    if limit is not None and math.isfinite(limit):
        tokenizer = model.tokenizer
        specials = 0 if hasattr(tokenizer, "encode_batch") else len(tokenizer("")["input_ids"])
        max_tokens = int(limit) - specials
    dimension = model.get_embedding_dimension()
    if dimension is None:
        dimension = int(model.encode(["probe"], convert_to_numpy=True).shape[1])
    return Encoder(
        model,
        name,
        revision,
        fingerprint,
        query_prompt,
        document_prompt,
        int(dimension),
        max_tokens,
        static=StaticTable.of(model),
    )
