"""Progress bars for the long stages of a build: one bar per stage on the terminal, nothing otherwise.

Every stage is named the same way everywhere (:data:`STAGES`), so a build reads as one list:
reading files, cleaning articles, loading the model, splitting into passages, embedding passages,
building the keyword index, grouping wire copies, building the vector index (or, for the Qdrant
backend, writing the collection), writing the index (plus training a corpus model or reading
scanned pages when those happen). A shared base module: any stage may import it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

STAGES = {
    "read": ("Reading files", "file"),
    "clean": ("Cleaning articles", "article"),
    "split": ("Splitting into passages", "article"),
    "model": ("Loading the model", "step"),
    "embed": ("Embedding passages", "passage"),
    "sentences": ("Embedding sentences", "sentence"),
    "lexical": ("Building the keyword index", "passage"),
    "copies": ("Grouping wire copies", "step"),
    "qdrant": ("Writing the Qdrant collection", "step"),
    "dense": ("Building the vector index", "step"),
    "write": ("Writing the index", "step"),
}


class _Silent:
    """What a stage reports to when no bar is shown."""

    def update(self, count: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass


@contextlib.contextmanager
def stage(name: str, total: int | None, show: bool) -> Iterator[Any]:
    """A bar for stage ``name`` (a key of :data:`STAGES`) of ``total`` units; ``update(n)`` advances it."""
    if not show:
        yield _Silent()
        return
    from tqdm.auto import tqdm

    label, unit = STAGES[name]
    with tqdm(total=total, desc=label, unit=unit, position=0) as bar:
        yield bar


def steps(items: Iterable[T], name: str, show: bool, total: int | None = None) -> Iterable[T]:
    """``items``, advancing stage ``name``'s bar by one per item when ``show``."""
    if not show:
        yield from items
        return
    with stage(name, total if total is not None else _length(items), show) as bar:
        for item in items:
            yield item
            bar.update(1)


def _length(items: Iterable[Any]) -> int | None:
    try:
        return len(items)  # type: ignore[arg-type]
    except TypeError:
        return None
