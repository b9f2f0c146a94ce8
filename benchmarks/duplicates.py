"""Build cost of grouping wire copies (qa.index.duplicates) on synthetic news with planted copies.

Some articles are republished by another outlet a few days later, as wire copies are: a
dateline added to the first paragraph, a word changed in some paragraphs, now and then a
paragraph cut. The figures: seconds and peak memory for the grouping stage, passages per
second, and how many planted copies were found (recall) and how many grouped pairs were not
planted (pairs of paragraphs that share sentences by chance in the synthetic text).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchmarks.data import OUTLETS, make_articles
from benchmarks.measure import memory
from qa.records import Article

COPY_SHARE = 0.05  # of articles republished once by another outlet


def _edit(rng: np.random.Generator, paragraph: str) -> str:
    """A wire editor's touch: one word replaced, or left as it was."""
    words = paragraph.split()
    if len(words) > 12 and rng.random() < 0.5:
        words[int(rng.integers(len(words)))] = "reportedly"
    return " ".join(words)


def with_copies(articles: list[Article], seed: int = 7) -> tuple[list[Article], list[tuple[str, str]]]:
    """The articles plus republished copies of some of them, and the (original, copy) id pairs."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(articles), int(len(articles) * COPY_SHARE), replace=False)
    copies, planted = [], []
    for number in np.sort(chosen).tolist():
        original = articles[number]
        paragraphs = [_edit(rng, paragraph) for paragraph in original.text.split("\n\n")]
        paragraphs[0] = "WASHINGTON (Public Wire) — " + paragraphs[0]
        if len(paragraphs) > 4 and rng.random() < 0.3:
            del paragraphs[-1]
        outlet = OUTLETS[(OUTLETS.index(original.outlet or OUTLETS[0]) + 1) % len(OUTLETS)]
        copy_id = f"{original.id}-copy"
        copies.append(
            Article(copy_id, original.path, "\n\n".join(paragraphs), original.title, outlet, None, original.date)
        )
        planted.append((original.id, copy_id))
    return articles + copies, planted


def run(passages: int, work: str | None = None) -> dict[str, Any]:
    """Group the passages of about ``passages`` paragraphs (copies included) and report cost and accuracy.

    ``work``, the harness's scratch folder that every task is given, is not needed: it all stays in memory.
    """
    from qa.index.duplicates import DuplicateSettings, group_duplicates, group_members

    articles, planted = with_copies(make_articles(int(passages / (1 + COPY_SHARE))))
    texts, owners, article_of = [], [], []
    for row, article in enumerate(articles):
        for paragraph in article.text.split("\n\n"):
            texts.append(paragraph)
            owners.append(row)
            article_of.append(article.id)
    settings = DuplicateSettings()
    import datasketch  # noqa: F401  (imported before the clock starts and the memory reading)

    before = memory()
    started, cpu = time.perf_counter(), time.process_time()
    groups = group_duplicates(texts, np.asarray(owners), settings)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    after = memory()
    grouped_articles = {
        frozenset(article_of[row] for row in members.tolist()) for members in group_members(groups).values()
    }
    found = sum(1 for original, copy in planted if any({original, copy} <= ids for ids in grouped_articles))
    stray = sum(
        1
        for ids in grouped_articles
        if not any(article.endswith("-copy") and article.removesuffix("-copy") in ids for article in ids)
    )
    return {
        "passages": len(texts),
        "articles": len(articles),
        "planted_copies": len(planted),
        "settings": settings.to_dict(),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "passages_per_second": round(len(texts) / seconds, 1),
        "groups": int(groups.max()) + 1 if len(groups) and groups.max() >= 0 else 0,
        "grouped_passages": int(np.count_nonzero(groups >= 0)),
        "planted_articles_grouped": found,
        "recall": round(found / len(planted), 4) if planted else None,
        "groups_without_planted_copy": stray,
        "peak_rss_bytes_before": before.get("peak_rss"),
        "peak_rss_bytes_after": after.get("peak_rss"),
    }
