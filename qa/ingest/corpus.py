"""Loading a corpus folder into clean Articles, skipping (and naming) every file that cannot be used."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.errors import CorpusError
from qa.ingest.boilerplate import repeated_lines
from qa.ingest.cleaning import clean_lines, split_lines
from qa.ingest.formats.paged import carry_pages
from qa.ingest.limits import FIELD_LIMITS, MAX_ARTICLE_CHARS, cap_field, invalid_unicode, open_reason, printable_path
from qa.ingest.sources import SUPPORTED_SUFFIXES, RawDocument, ReadOptions, UnreadableFile, read_file, slugify
from qa.progress import steps
from qa.records import Article, Skip

log = logging.getLogger("qa")


@dataclass
class CorpusLoad:
    """What loading a corpus produced: the articles, what was skipped, and the file checksums."""

    corpus_dir: Path
    articles: list[Article]
    skipped: list[Skip] = field(default_factory=list)
    passed: list[Skip] = field(default_factory=list)  # folders that are not corpus files (index folders), and why
    warnings: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256 of the bytes read


FolderCheck = Callable[[Path], "str | None"]


def _walk(
    corpus_dir: Path, skipped: list[Skip], skip_folder: FolderCheck | None = None, passed: list[Skip] | None = None
) -> list[Path]:
    """Candidate files in a stable order (a folder's files, then its subfolders, depth first).

    Skipped with a reason: hidden entries, symlinks that leave the folder or loop, names that
    are not UTF-8, folders that cannot be listed. Folders ``skip_folder`` names a reason for
    (an index folder is never read as articles) go to ``passed``: they are not corpus files.
    """
    try:
        root = Path(os.path.realpath(corpus_dir, strict=True))
    except OSError as error:
        raise CorpusError(f"Cannot open the corpus folder {corpus_dir} ({open_reason(error)}).") from None
    found: list[Path] = []
    pending = [corpus_dir]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            if folder == corpus_dir:
                raise CorpusError(
                    f"Cannot read the corpus folder {corpus_dir} ({error.strerror or error}). Check its permissions."
                ) from None
            unreadable = open_reason(error).replace("cannot read it", "cannot read this folder")
            skipped.append(Skip(_relative(folder, corpus_dir) + "/", unreadable))
            continue
        subfolders: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            if skip_folder is not None and entry.is_dir(follow_symlinks=False) and (why := skip_folder(path)):
                if passed is not None:
                    passed.append(Skip(_relative(path, corpus_dir) + "/", why))
                continue
            try:
                reason, is_folder = _entry_reason(entry, root)
            except OSError as error:
                reason, is_folder = open_reason(error), False
            if reason is None and is_folder:
                subfolders.append(path)
            elif reason is None:
                found.append(path)
            else:
                skipped.append(Skip(_relative(path, corpus_dir) + ("/" if is_folder else ""), reason))
        pending.extend(reversed(subfolders))
    return found


def _entry_reason(entry: os.DirEntry[str], root: Path) -> tuple[str | None, bool]:
    """(why this entry is skipped, or None; whether it is a folder)."""
    is_folder = entry.is_dir(follow_symlinks=False)
    if invalid_unicode(entry.name):
        return "its name is not valid UTF-8 (rename it)", is_folder
    if entry.name.startswith("."):
        return ("hidden folder" if is_folder else "hidden file"), is_folder
    if entry.is_symlink():
        return _symlink_reason(Path(entry.path), root)
    if is_folder:
        return None, True
    if not entry.is_file(follow_symlinks=False):
        return "not a regular file", False
    return None, False


def _symlink_reason(path: Path, root: Path) -> tuple[str | None, bool]:
    """A symlink is read when it points to a file inside the corpus; otherwise the reason it is not."""
    try:
        target = Path(os.path.realpath(path, strict=True))
    except OSError as error:
        if error.errno == errno.ENOENT:
            return "broken symlink", False
        return open_reason(error), False
    is_folder = target.is_dir()
    if not target.is_relative_to(root):
        return f"symlink points outside the corpus folder (to {printable_path(str(target))})", is_folder
    if is_folder:
        return "symlinked folder inside the corpus (its files are read at their real path)", True
    return None, False


def _relative(path: Path, corpus_dir: Path) -> str:
    return printable_path(path.relative_to(corpus_dir).as_posix())


def _assign_ids(paths: list[Path], corpus_dir: Path) -> dict[Path, str]:
    """Readable ids from relative paths without the extension; files differing only by extension keep it.

    Other clashes (`a-b.txt` and `a_b.txt`) are settled later by :func:`unique_ids`.
    """
    stems: dict[Path, str] = {}
    for path in paths:
        parts = [slugify(part) for part in path.relative_to(corpus_dir).with_suffix("").parts]
        stem = "/".join(part or "x" for part in parts)
        if not parts[-1]:
            stem = stem[:-1] + "article-" + hashlib.sha256(path.name.encode()).hexdigest()[:8]
        stems[path] = stem
    suffixes: dict[str, list[str]] = {}
    for path, stem in stems.items():
        suffixes.setdefault(stem, []).append(path.suffix.lower())
    return {
        path: f"{stem}-{slugify(path.suffix) or 'noext'}"
        if len(suffixes[stem]) > 1 and len(set(suffixes[stem])) == len(suffixes[stem])
        else stem
        for path, stem in stems.items()
    }


def unique_ids(articles: list[Article], sources: list[int], warnings: list[str]) -> list[Article]:
    """The articles with ids made unique: every article of a clashing id gets a suffix from a hash of its
    own location (path, and line for JSON lines), so each id depends only on its own file and never
    two articles share one key (`a-b.txt` and `a_b.txt`, `Report.txt` and `report.txt`, `feed/1.txt`
    and line 1 of `feed.jsonl`, JSON lines repeating an "id"). ``sources`` numbers the file each
    article came from: an attachment's ``attached_to`` follows its e-mail's new id within that file."""
    counts = Counter(article.id for article in articles)
    taken = {article.id for article in articles}
    renamed: dict[tuple[int, str], str] = {}
    unique = []
    for article, source in zip(articles, sources):
        if counts[article.id] == 1:
            unique.append(article)
            continue
        digest = hashlib.sha256(article.path.encode("utf-8", "surrogatepass")).hexdigest()
        width = 8
        while f"{article.id}-{digest[:width]}" in taken:
            width += 4
        new_id = f"{article.id}-{digest[:width]}"
        taken.add(new_id)
        renamed[source, article.id] = new_id
        warnings.append(f"{article.path}: another article also has the id {article.id!r}; this one is {new_id!r}")
        unique.append(replace(article, id=new_id))
    return [
        replace(article, attached_to=renamed[source, article.attached_to])
        if article.attached_to is not None and (source, article.attached_to) in renamed
        else article
        for article, source in zip(unique, sources)
    ]


def _unusable_reason(doc: RawDocument) -> str | None:
    """Why a read document cannot be indexed as it is, or None."""
    if len(doc.text) > MAX_ARTICLE_CHARS:
        return f"its text is {len(doc.text):,} characters long, more than the {MAX_ARTICLE_CHARS:,} an article may have"
    if invalid_unicode(doc.text) or any(invalid_unicode(value) for value in doc.known.values() if value):
        return "holds text that is not valid Unicode (a lone surrogate such as \\ud800)"
    return None


@dataclass(frozen=True)
class CorpusFile:
    """A file found in the corpus folder: where it is, the article id it gets, and how it is named to people."""

    path: Path
    id: str  # "" for a file of an unsupported type (reading it says why)
    location: str  # path relative to the corpus folder


@dataclass
class FileRead:
    """One corpus file read: its usable documents with their logical lines, or why it cannot be used."""

    location: str
    sha256: str | None = None
    documents: list[RawDocument] = field(default_factory=list)
    lines: list[list[str]] = field(default_factory=list)  # logical lines of each document
    warnings: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def corpus_files(
    corpus_dir: Path | str,
    skipped: list[Skip],
    skip_folder: FolderCheck | None = None,
    passed: list[Skip] | None = None,
) -> list[CorpusFile]:
    """The files of ``corpus_dir`` in a stable order with their article ids (see :func:`load_corpus` for the rest)."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"No corpus folder at {corpus_dir.resolve()}. Create it and put articles in it "
            f"({', '.join(SUPPORTED_SUFFIXES)} files), or name another corpus folder.",
            path=corpus_dir,
            option="corpus_dir",
        )
    paths = _walk(corpus_dir, skipped, skip_folder, passed)
    ids = _assign_ids([p for p in paths if p.suffix.lower() in SUPPORTED_SUFFIXES], corpus_dir)
    return [CorpusFile(path, ids.get(path, ""), _relative(path, corpus_dir)) for path in paths]


def read_corpus_file(file: CorpusFile, options: ReadOptions | None = None) -> FileRead:
    """Read one corpus file into documents and their logical lines; what cannot be used is skipped with the reason."""
    read = FileRead(file.location)
    try:
        result = read_file(file.path, file.id, file.location, options)  # an unsupported type raises its reason
    except UnreadableFile as reason:
        read.skipped.append(Skip(file.location, str(reason)))
        return read
    read.sha256 = result.sha256
    read.warnings = result.warnings
    read.skipped = [Skip(where, why) for where, why in result.skipped]
    for doc in result.documents:
        problem = _unusable_reason(doc)
        if problem:
            read.skipped.append(Skip(doc.path, problem))
        else:
            read.documents.append(doc)
            read.lines.append(split_lines(doc.text))
    return read


def clean_document(doc: RawDocument, lines: list[str], repeated: set[str], warnings: list[str]) -> Article | Skip:
    """The article in ``doc`` (its logical ``lines``) without boilerplate, or why it has none; overlong
    metadata is cut, with a line in ``warnings``."""
    cleaned = clean_lines(lines, repeated)
    if not cleaned.paragraphs:
        return Skip(doc.path, "no usable paragraph (only boilerplate or too short)")
    text = "\n\n".join(cleaned.paragraphs)
    meta = cleaned.metadata
    found = {"title": meta.title, "date": meta.date, "author": meta.author, "outlet": meta.outlet}
    fields = {name: doc.known.get(name) or found.get(name) for name in ("title", "date", "author", "outlet")}
    fields.update(url=doc.known.get("url"), language=doc.known.get("language"))
    for name, value in fields.items():
        if value and name in FIELD_LIMITS:
            fields[name] = cap_field(name, value, doc.path, warnings)
    return Article(
        id=doc.id,
        path=doc.path,
        text=text,
        pages=tuple(carry_pages(doc.text, doc.pages, text)) if doc.pages else None,
        ocr_pages=tuple(doc.ocr_pages),
        attached_to=doc.attached_to,
        **fields,
    )


class FirstCopies:
    """Keeps the first article with a given text; a later one with the same text is a duplicate."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def check(self, article: Article) -> Article | Skip:
        first = self._seen.setdefault(article.text, article.path)
        if first != article.path:
            return Skip(article.path, f"same text as {first} (duplicate)")
        return article


class Gathered:
    """Documents read from the corpus files, in corpus order, with the number of the file each came from."""

    def __init__(self) -> None:
        self.documents: list[RawDocument] = []
        self.lines: list[list[str]] = []
        self.source: list[int] = []  # an e-mail and its attachments share one file number

    def add(self, load: CorpusLoad, number: int, read: FileRead) -> None:
        if read.sha256 is not None:
            load.files[read.location] = read.sha256
        load.warnings.extend(read.warnings)
        load.skipped.extend(read.skipped)
        self.documents.extend(read.documents)
        self.lines.extend(read.lines)
        self.source.extend([number] * len(read.documents))


def keep_articles(load: CorpusLoad, cleaned: Iterable[tuple[Article | Skip, int]]) -> None:
    """Add the cleaned documents (with their file numbers) to ``load`` in order: the first copy of a text
    wins, and clashing ids are made unique."""
    first_copies = FirstCopies()
    sources: list[int] = []
    for found, file_number in cleaned:
        if isinstance(found, Article):
            found = first_copies.check(found)
        if isinstance(found, Article):
            load.articles.append(found)
            sources.append(file_number)
        else:
            load.skipped.append(found)
    load.articles = unique_ids(load.articles, sources, load.warnings)


def finish_load(load: CorpusLoad, strict: bool) -> CorpusLoad:
    """Report what was skipped and refuse what cannot be indexed (``strict`` and skips, or no article)."""
    for warning in load.warnings:
        log.warning("%s", warning)
    for skip in load.skipped:
        log.warning("%s", skip)
    for folder in load.passed:
        log.debug("not read: %s (%s)", folder.path, folder.reason)
    if strict and load.skipped:
        listing = "; ".join(f"{skip.path}: {skip.reason}" for skip in load.skipped)
        raise CorpusError(
            f"{len(load.skipped)} corpus file(s) could not be used (strict): {listing}",
            path=load.corpus_dir,
            option="strict",
        )
    if not load.articles:
        detail = f" ({len(load.skipped)} file(s) skipped, see above)" if load.skipped else ""
        raise CorpusError(
            f"No usable articles in {load.corpus_dir.resolve()}{detail}. Put news articles there as "
            f"{', '.join(SUPPORTED_SUFFIXES)} files, then build again.",
            path=load.corpus_dir,
        )
    return load


def load_corpus(
    corpus_dir: Path | str,
    strict: bool = False,
    options: ReadOptions | None = None,
    skip_folder: FolderCheck | None = None,
) -> CorpusLoad:
    """Read every usable article under ``corpus_dir``.

    Files that cannot be used are skipped with a reason (logged, and listed in the result);
    with ``strict`` any skip is a CorpusError instead. No usable article at all is an error.
    ``options`` set OCR and progress bars (over the files, each scan's pages, the cleaning).
    ``skip_folder`` names a reason not to read a subfolder (the builder passes one that names
    index folders), or None to read it; such folders are listed in ``passed``, not among the
    skipped files (they are not corpus files, and ``strict`` does not fail on them). The same
    stages run in Ray tasks with ``qa build --engine ray`` (qa.index.raybuild).
    """
    options = options or ReadOptions()
    load = CorpusLoad(Path(corpus_dir), [])
    files = corpus_files(corpus_dir, load.skipped, skip_folder, load.passed)
    gathered = Gathered()
    for number, file in enumerate(steps(files, "read", options.progress)):
        gathered.add(load, number, read_corpus_file(file, options))
    repeated = repeated_lines(gathered.lines)
    cleaning = list(zip(gathered.documents, gathered.lines, gathered.source))
    keep_articles(
        load,
        (
            (clean_document(doc, doc_lines, repeated, load.warnings), number)
            for doc, doc_lines, number in steps(cleaning, "clean", options.progress)
        ),
    )
    return finish_load(load, strict)
