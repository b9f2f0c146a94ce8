"""Loading a corpus folder into clean Articles, skipping (and naming) every file that cannot be used."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from qa.errors import CorpusError
from qa.ingest.boilerplate import repeated_lines
from qa.ingest.cleaning import clean_lines, split_lines
from qa.ingest.formats.paged import carry_pages
from qa.ingest.sources import SUPPORTED_SUFFIXES, RawDocument, ReadOptions, UnreadableFile, read_file, slugify
from qa.records import Article, Skip

log = logging.getLogger("qa")
T = TypeVar("T")


@dataclass
class CorpusLoad:
    """What loading a corpus produced: the articles, what was skipped, and the file checksums."""

    corpus_dir: Path
    articles: list[Article]
    skipped: list[Skip] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256 of the bytes read


def _progress(items: list[T], show: bool, label: str, unit: str) -> Iterable[T]:
    """``items``, with a progress bar on the terminal when ``show``."""
    if not show:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=label, unit=unit, position=0)


def _walk(corpus_dir: Path, skipped: list[Skip]) -> list[Path]:
    """Candidate files in a stable order; hidden entries and escaping symlinks are skipped."""
    root = corpus_dir.resolve()
    found: list[Path] = []
    for current, dirnames, filenames in os.walk(corpus_dir, followlinks=False):
        here = Path(current)
        for name in sorted(dirnames):
            path = here / name
            if name.startswith("."):
                skipped.append(Skip(_relative(path, corpus_dir) + "/", "hidden folder"))
            elif path.is_symlink():
                skipped.append(Skip(_relative(path, corpus_dir) + "/", _symlink_reason(path, root)))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (here / d).is_symlink())
        for name in sorted(filenames):
            path = here / name
            if name.startswith("."):
                skipped.append(Skip(_relative(path, corpus_dir), "hidden file"))
            elif path.is_symlink():
                target = path.resolve()
                if target.is_file() and target.is_relative_to(root):
                    found.append(path)
                else:
                    skipped.append(Skip(_relative(path, corpus_dir), _symlink_reason(path, root)))
            elif path.is_file():
                found.append(path)
            else:
                skipped.append(Skip(_relative(path, corpus_dir), "not a regular file"))
    return found


def _symlink_reason(path: Path, root: Path) -> str:
    target = path.resolve()
    if not target.exists():
        return "broken symlink"
    if not target.is_relative_to(root):
        return f"symlink points outside the corpus folder (to {target})"
    return "symlinked folder inside the corpus (its files are read at their real path)"


def _relative(path: Path, corpus_dir: Path) -> str:
    return path.relative_to(corpus_dir).as_posix()


def _assign_ids(paths: list[Path], corpus_dir: Path) -> dict[Path, str]:
    """Readable ids from relative paths without the extension; clashes keep the extension."""
    stems: dict[Path, str] = {}
    for path in paths:
        parts = [slugify(part) for part in path.relative_to(corpus_dir).with_suffix("").parts]
        stem = "/".join(part or "x" for part in parts)
        if not parts[-1]:
            stem = stem[:-1] + "article-" + hashlib.sha256(path.name.encode()).hexdigest()[:8]
        stems[path] = stem
    counts: dict[str, int] = {}
    for stem in stems.values():
        counts[stem] = counts.get(stem, 0) + 1
    return {
        path: stem if counts[stem] == 1 else f"{stem}-{slugify(path.suffix) or 'noext'}" for path, stem in stems.items()
    }


def load_corpus(corpus_dir: Path | str, strict: bool = False, options: ReadOptions | None = None) -> CorpusLoad:
    """Read every usable article under ``corpus_dir``.

    Files that cannot be used are skipped with a reason (logged, and listed in the result);
    with ``strict`` any skip is a CorpusError instead. No usable article at all is an error.
    ``options`` set OCR and progress bars (over the files, each scan's pages, the cleaning).
    """
    options = options or ReadOptions()
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"No corpus folder at {corpus_dir.resolve()}. Create it and put articles in it "
            f"({', '.join(SUPPORTED_SUFFIXES)} files), or pass --corpus DIR."
        )
    load = CorpusLoad(corpus_dir, [])
    paths = _walk(corpus_dir, load.skipped)
    ids = _assign_ids([p for p in paths if p.suffix.lower() in SUPPORTED_SUFFIXES], corpus_dir)
    documents: list[RawDocument] = []
    for path in _progress(paths, options.progress, "Reading", "file"):
        location = _relative(path, corpus_dir)
        try:
            if path not in ids:
                read_file(path, "", location)  # raises the unsupported-type reason
            result = read_file(path, ids[path], location, options)
        except UnreadableFile as reason:
            load.skipped.append(Skip(location, str(reason)))
            continue
        load.files[location] = result.sha256
        load.warnings.extend(result.warnings)
        load.skipped.extend(Skip(where, why) for where, why in result.skipped)
        documents.extend(result.documents)

    lines = [split_lines(doc.text) for doc in documents]
    repeated = repeated_lines(lines)
    seen_text: dict[str, str] = {}
    for doc, doc_lines in _progress(list(zip(documents, lines)), options.progress, "Cleaning", "article"):
        cleaned = clean_lines(doc_lines, repeated)
        if not cleaned.paragraphs:
            load.skipped.append(Skip(doc.path, "no usable paragraph (only boilerplate or too short)"))
            continue
        text = "\n\n".join(cleaned.paragraphs)
        if text in seen_text:
            load.skipped.append(Skip(doc.path, f"same text as {seen_text[text]} (duplicate)"))
            continue
        seen_text[text] = doc.path
        meta = cleaned.metadata
        found = {"title": meta.title, "date": meta.date, "author": meta.author, "outlet": meta.outlet}
        fields = {name: doc.known.get(name) or found.get(name) for name in ("title", "date", "author", "outlet")}
        load.articles.append(
            Article(
                id=doc.id,
                path=doc.path,
                text=text,
                url=doc.known.get("url"),
                language=doc.known.get("language"),
                pages=tuple(carry_pages(doc.text, doc.pages, text)) if doc.pages else None,
                ocr_pages=tuple(doc.ocr_pages),
                attached_to=doc.attached_to,
                **fields,
            )
        )

    for warning in load.warnings:
        log.warning("%s", warning)
    for skip in load.skipped:
        log.warning("%s", skip)
    if strict and load.skipped:
        listing = "; ".join(f"{skip.path}: {skip.reason}" for skip in load.skipped)
        raise CorpusError(f"{len(load.skipped)} corpus file(s) could not be used (--strict): {listing}")
    if not load.articles:
        detail = f" ({len(load.skipped)} file(s) skipped, see above)" if load.skipped else ""
        raise CorpusError(
            f"No usable articles in {corpus_dir.resolve()}{detail}. Put news articles there as "
            f"{', '.join(SUPPORTED_SUFFIXES)} files, then run `qa build` again."
        )
    return load
