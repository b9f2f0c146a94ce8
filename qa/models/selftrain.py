"""A semantic model trained on the corpus being indexed, for machines that cannot download one.

A sentence-transformers StaticEmbedding (one vector per WordPiece token, averaged) over a
tokenizer trained on the corpus, trained with MultipleNegativesRankingLoss on inverse-cloze
pairs mined from the corpus itself: a sentence is the query, its passage without that sentence
the positive, the other passages of the batch the negatives.

The schedule is fixed by the corpus and the settings alone (so the same corpus and seed give
the same model): the number of steps comes from the time budget through a fixed cost per
token measured on a 2-core machine; the wall clock only stops training that runs far over.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qa.errors import ModelUnavailableError, Remedy
from qa.settings import TRAIN_SECONDS

log = logging.getLogger("qa")
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# The cost of one step, on one core of the 2-core reference machine, dimension 256: a part set by
# the batch (its 4,096 x 4,096 similarities and the update of the whole embedding table: 0.55 s)
# and a part per token read (0.25 us). Measured with the other core busy: SciFact (4,096 pairs of
# ~300 tokens) took 0.83 s a step, 5,000 news-like passages (~85 tokens) 0.65 s.
SECONDS_PER_FULL_BATCH = 0.55
FULL_BATCH = 4096
SECONDS_PER_TOKEN = 0.25e-6
# Building the vocabulary and the token ids before the first step: ~0.33 ms a passage (9.8 s for 30,000).
PREPARE_SECONDS_PER_PASSAGE = 0.33e-3
# The schedule is fixed (reproducible), so a busy machine makes training run over its budget;
# past 1.5 x the budget (at least budget + 10 s) it stops, says so, and records `stopped_early`.
HARD_STOP_FACTOR = 1.5
HARD_STOP_SLACK = 10.0
MIN_STEPS = 10  # a model stopped before this many steps is closer to random than to trained: not used
# Below this many words a model trained on the corpus does not reliably beat keywords: on SciFact
# subsets of 50-250 abstracts (10k-50k words) hybrid gained 0.000-0.012 nDCG@10 and lost on one
# sample in three at 150; from 500 abstracts (~100k words) it gained on every sample (+0.006 to
# +0.018). docs/self-trained-model.md has the table.
SELF_MIN_WORDS = 100_000


@dataclass(frozen=True)
class TrainSettings:
    seconds: float = TRAIN_SECONDS
    vocab_size: int = 30_000
    dimension: int = 256
    batch_size: int = 4096
    learning_rate: float = 0.2
    max_epochs: int = 100
    seed: int = 0
    max_passages: int = 30_000  # train on a seeded sample of this many passages at most


@dataclass(frozen=True)
class TrainReport:
    """What went into the model, for the manifest."""

    kind: str
    vocab_size: int
    dimension: int
    pairs: int
    steps: int
    epochs: float
    seconds: float
    seed: int
    stopped_early: bool
    trained_at: str
    prepare_seconds: float = 0.0  # vocabulary and tokenization, before the first step
    passages: int = 0  # passages trained on (a sample when the corpus has more than max_passages)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_vocabulary(texts: Sequence[str], vocab_size: int) -> list[str]:
    """A WordPiece vocabulary chosen by frequency alone, so the same texts always give the same one.

    (The `tokenizers` trainer breaks frequency ties in hash-map order, which changes from run
    to run.) It holds every character seen, as a word start and as a continuation, then the
    most frequent whole words, word beginnings and ``##`` endings, ties broken alphabetically;
    WordPiece's longest-match-first tokenizer can spell any word from it.
    """
    from tokenizers import normalizers, pre_tokenizers

    normalize = normalizers.BertNormalizer(lowercase=True, strip_accents=True).normalize_str
    split = pre_tokenizers.BertPreTokenizer().pre_tokenize_str
    words: Counter[str] = Counter()
    for text in texts:
        words.update(word for word, _ in split(normalize(text)))
    characters = sorted({char for word in words for char in word})
    vocabulary = [*SPECIAL_TOKENS, *characters, *(f"##{char}" for char in characters)]
    pieces: Counter[str] = Counter()
    for word, count in words.items():
        if count >= 2 and len(word) > 1:
            pieces[word] += count * 2  # a whole word is worth more than a piece of one
        for size in range(2, min(len(word), 7)):
            pieces[word[:size]] += count
            pieces["##" + word[-size:]] += count
    room = max(0, vocab_size - len(vocabulary))
    chosen = sorted(pieces.items(), key=lambda item: (-item[1], item[0]))[:room]
    known = set(vocabulary)
    vocabulary.extend(piece for piece, count in chosen if count >= 2 and piece not in known)
    return vocabulary


def _tokenizer(vocabulary: list[str]) -> Any:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    tokenizer = Tokenizer(models.WordPiece({piece: i for i, piece in enumerate(vocabulary)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tokenizer


def training_sample(passages: Sequence[Sequence[str]], settings: TrainSettings) -> list[Sequence[str]]:
    """The passages training can use (two sentences or more): all of them up to
    ``settings.max_passages``, else a seeded sample of that many.

    Preparing the vocabulary and the token ids costs time in proportion to the passages (about
    30 s for 100,000 on two busy cores), while a minute of steps sees about 500,000 pairs, so a
    larger corpus would spend its budget preparing pairs it has no time to train on.
    """
    usable = [number for number, sentences in enumerate(passages) if len(sentences) >= 2]
    if len(usable) > settings.max_passages:
        usable = sorted(random.Random(settings.seed).sample(usable, settings.max_passages))
    return [passages[number] for number in usable]


def planned_steps(passages: Sequence[Sequence[Sequence[int]]], settings: TrainSettings) -> tuple[int, int]:
    """(steps, batch size): as many steps as the budget affords at the fixed cost model above, at
    most ``max_epochs`` epochs. It depends on the corpus and the settings only, never on the clock."""
    usable = sum(1 for sentences in passages if len(sentences) >= 2)
    batch = min(settings.batch_size, usable)
    if batch < 2:
        return 0, batch
    tokens = sum(sum(len(s) for s in sentences) for sentences in passages if len(sentences) >= 2)
    tokens_per_step = tokens / usable * batch  # a pair (one sentence, the rest) reads its passage once
    step_seconds = SECONDS_PER_FULL_BATCH * (batch / FULL_BATCH) ** 1.25 + tokens_per_step * SECONDS_PER_TOKEN
    for_steps = max(0.0, settings.seconds - PREPARE_SECONDS_PER_PASSAGE * len(passages))
    affordable = int(for_steps / step_seconds)
    steps_per_epoch = max(1, usable // batch)
    return max(1, min(affordable, settings.max_epochs * steps_per_epoch)), batch


def train_static_model(
    passages: Sequence[Sequence[str]], folder: Path, settings: TrainSettings | None = None, progress: bool = False
) -> TrainReport:
    """Train and save a model in ``folder``; ``passages`` are lists of sentences (title first, if any)."""
    import torch

    settings = settings or TrainSettings()
    threads = torch.get_num_threads()
    # One thread: these steps are many small operations, where a second thread mostly waits
    # (five times slower when another process shares the cores), and one thread keeps float
    # sums in one order, so the same seed gives the same weights on any machine.
    torch.set_num_threads(1)
    try:
        return _train(passages, folder, settings, progress)
    finally:
        torch.set_num_threads(threads)


def _train(passages: Sequence[Sequence[str]], folder: Path, settings: TrainSettings, progress: bool) -> TrainReport:
    import datetime as dt

    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tqdm.auto import tqdm

    started = time.perf_counter()
    random.seed(settings.seed)
    np.random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    generator = random.Random(settings.seed)

    passages = training_sample(passages, settings)
    tokenizer = _tokenizer(build_vocabulary([" ".join(sentences) for sentences in passages], settings.vocab_size))
    encoded = [
        [e.ids for e in tokenizer.encode_batch(list(sentences), add_special_tokens=False)] for sentences in passages
    ]
    static = StaticEmbedding(tokenizer, embedding_dim=settings.dimension)
    model = SentenceTransformer(modules=[static], device="cpu")
    loss = MultipleNegativesRankingLoss(model, scale=20.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)

    usable = [number for number, sentences in enumerate(encoded) if len(sentences) >= 2]
    steps, batch = planned_steps(encoded, settings)
    order: list[int] = []
    done = 0
    stopped_early = False
    deadline = started + max(HARD_STOP_FACTOR * settings.seconds, settings.seconds + HARD_STOP_SLACK)
    prepared = time.perf_counter() - started
    model.train()
    with tqdm(total=steps, desc="Training the corpus model", unit="step", disable=not progress) as bar:
        for step in range(steps):
            if step > 0 and time.perf_counter() > deadline:
                stopped_early = True
                break
            if len(order) < batch:
                fresh = usable[:]
                generator.shuffle(fresh)
                order.extend(fresh)
            chosen, order = order[:batch], order[batch:]
            queries, positives = [], []
            for number in chosen:
                sentences = encoded[number]
                pick = generator.randrange(len(sentences))
                queries.append(sentences[pick])
                positives.append([token for i, s in enumerate(sentences) if i != pick for token in s])
            value = loss([_features(queries), _features(positives)], None)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            done = step + 1
            bar.update(1)
    if stopped_early and done < MIN_STEPS:
        raise ModelUnavailableError(
            f"training a model on the corpus was cut short after {done} of {steps} steps by its time budget "
            f"({settings.seconds:g} s) on this machine.",
            option="training",
            remedy=Remedy.TRAIN_LONGER,
        )
    if stopped_early:  # said only for a model that is used
        log.warning(
            "Training stopped after %d of its %d planned steps, at 1.5 times its time budget (the machine is "
            "busy); the model is used as far as it got. Rebuild later to train it fully.",
            done,
            steps,
        )
    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save(str(folder))
    return TrainReport(
        kind="self-trained static embedding",
        vocab_size=tokenizer.get_vocab_size(),
        dimension=settings.dimension,
        pairs=done * batch,
        steps=done,
        epochs=round(done * batch / max(1, len(usable)), 2),
        seconds=round(time.perf_counter() - started, 1),
        seed=settings.seed,
        stopped_early=stopped_early,
        trained_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        prepare_seconds=round(prepared, 1),
        passages=len(passages),
    )


def _features(token_lists: list[list[int]]) -> dict[str, Any]:
    import torch

    lengths = [max(1, len(tokens)) for tokens in token_lists]
    flat = [token for tokens in token_lists for token in (tokens or [0])]  # [PAD] stands in for an empty text
    offsets = [0, *itertools.accumulate(lengths)][:-1]
    return {"input_ids": torch.tensor(flat, dtype=torch.long), "offsets": torch.tensor(offsets, dtype=torch.long)}
