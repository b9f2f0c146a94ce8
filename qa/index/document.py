"""What an index stores for a passage, and where an index keeps its own model.

:func:`passage_document` is the string that is embedded, BM25-indexed, reranked and hashed into
the vector-cache keys: changing it changes all of them, so every stage calls this one function.
"""

from __future__ import annotations

from pathlib import Path

from qa.records import Article, Passage

MODEL_DIR = "model"  # where a corpus-trained model lives inside the index


def passage_document(article: Article, passage: Passage, title_repeats: int = 1) -> str:
    """The string indexed for a passage: its article's title (context for every paragraph), then its text."""
    title = (article.title + "\n") * title_repeats if article.title else ""
    return title + passage.text


def model_location(index_dir: Path, name: str) -> Path | str:
    """Where to load the model a manifest names: a folder inside the index (a corpus-trained model is
    recorded as :data:`MODEL_DIR`), an absolute folder, or else the name itself (a hub id)."""
    folder = Path(name) if Path(name).is_absolute() else index_dir / name
    return folder if folder.is_dir() else name
