"""Tiny sentence-transformers models built from scratch, so tests never download weights.

All are saved to a folder and loaded back with ``SentenceTransformer(path)`` or ``CrossEncoder(path)``,
the same call a user's model folder goes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.models.selftrain import SPECIAL_TOKENS


def _texts(corpus_dir: Path) -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(corpus_dir.rglob("*.txt"))]


def train_wordpiece(texts: list[str], vocab_size: int = 3000):
    """A WordPiece tokenizer whose vocabulary is the corpus's characters and most frequent words.

    Built by counting rather than with ``WordPieceTrainer``, whose result varies from run to run
    (ties between merges); a fixed vocabulary keeps the random tiny models, and so the tests, repeatable.
    """
    from collections import Counter

    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(word for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    characters = sorted({character for word in counts for character in word})
    vocabulary = [*SPECIAL_TOKENS, *characters, *(f"##{character}" for character in characters)]
    frequent = sorted((word for word in counts if len(word) > 1), key=lambda word: (-counts[word], word))
    vocabulary += frequent[: max(0, vocab_size - len(vocabulary))]
    tokenizer = Tokenizer(models.WordPiece({token: i for i, token in enumerate(vocabulary)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    return tokenizer


def build_static_model(folder: Path, corpus_dir: Path, dimension: int = 64, seed: int = 0) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    torch.manual_seed(seed)
    static = StaticEmbedding(train_wordpiece(_texts(corpus_dir)), embedding_dim=dimension)
    SentenceTransformer(modules=[static]).save(str(folder))
    return folder


def build_bert_model(folder: Path, corpus_dir: Path, max_seq_length: int = 64, seed: int = 0) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    torch.manual_seed(seed)
    tokenizer = train_wordpiece(_texts(corpus_dir))
    raw = folder.parent / f"{folder.name}-raw"
    shape = BertShape(
        tokenizer.get_vocab_size(), hidden=32, layers=1, heads=2, intermediate=64, max_positions=max_seq_length
    )
    save_random_bert(raw, tokenizer, shape)
    transformer = Transformer(str(raw), max_seq_length=max_seq_length)
    pooling = Pooling(transformer.get_word_embedding_dimension(), "mean")
    SentenceTransformer(modules=[transformer, pooling], prompts={"query": "query: ", "document": ""}).save(str(folder))
    return folder


def build_cross_encoder(folder: Path, corpus_dir: Path, max_length: int = 128, seed: int = 0) -> Path:
    """A one-layer random BERT with one output (a relevance score), loadable with ``CrossEncoder(path)``."""
    import torch
    from tokenizers import processors
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    tokenizer = train_wordpiece(_texts(corpus_dir))
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    config = BertConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_length,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    save_bert_tokenizer(tokenizer, folder, max_length)
    return folder


@dataclass(frozen=True)
class BertShape:
    """The size of a BERT encoder; the defaults are BAAI/bge-small-en-v1.5's config.json."""

    vocab_size: int = 30522
    hidden: int = 384
    layers: int = 12
    heads: int = 12
    intermediate: int = 1536
    max_positions: int = 512

    def parameters(self) -> int:
        embeddings = (self.vocab_size + self.max_positions + 2) * self.hidden + 2 * self.hidden
        per_layer = 4 * (self.hidden * self.hidden + self.hidden) + 2 * self.hidden * self.intermediate
        per_layer += self.intermediate + self.hidden + 4 * self.hidden
        pooler = self.hidden * self.hidden + self.hidden
        return embeddings + self.layers * per_layer + pooler

    def flops_per_token(self, sequence: int) -> float:
        """Multiply-adds ×2 for one token in a sequence of ``sequence`` tokens (forward pass).

        Dense layers: 2·(4·h² + 2·h·ffn) per layer; attention scores and their weighted sum add
        2·2·sequence·h per layer. Embedding lookups and layer norms are negligible.
        """
        dense = 2 * (4 * self.hidden**2 + 2 * self.hidden * self.intermediate)
        attention = 4 * sequence * self.hidden
        return float(self.layers * (dense + attention))


def save_random_bert(raw: Path, tokenizer: Any, shape: BertShape, model_max_length: int | None = None) -> None:
    """A randomly initialised ``BertModel`` of ``shape`` with ``tokenizer`` (given BERT's [CLS] … [SEP]
    framing), saved in ``raw`` as a transformers folder for sentence-transformers' ``Transformer``."""
    from tokenizers import processors
    from transformers import BertConfig, BertModel

    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    config = BertConfig(
        vocab_size=shape.vocab_size,
        hidden_size=shape.hidden,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        intermediate_size=shape.intermediate,
        max_position_embeddings=shape.max_positions,
    )
    BertModel(config).save_pretrained(raw)
    save_bert_tokenizer(tokenizer, raw, model_max_length)


def save_bert_tokenizer(tokenizer: Any, folder: Path, model_max_length: int | None = None) -> None:
    """``tokenizer`` as a transformers tokenizer folder with BERT's special tokens."""
    from transformers import PreTrainedTokenizerFast

    limit = {"model_max_length": model_max_length} if model_max_length is not None else {}
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        **limit,
    ).save_pretrained(folder)
