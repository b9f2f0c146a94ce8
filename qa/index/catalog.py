"""The passages and articles of an index, addressed by row and parsed only when one is read.

``passages.jsonl`` line *i* is passage row *i* and ``articles.jsonl`` line *j* article row *j*.
Next to them, ``catalog/`` holds what searching needs for every row, as flat arrays: the byte
offset of every line, each passage's article row, and each article's outlet and date (for
filters). A million passages cost about 20 MB of arrays instead of gigabytes of Python
objects, and opening an index reads no JSON line at all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import mmap
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import numpy as np

from qa.errors import IndexFormatError, IndexMismatchError
from qa.records import Article, Passage

ARTICLES_FILE = "articles.jsonl"
PASSAGES_FILE = "passages.jsonl"
CATALOG_DIR = "catalog"
OUTLETS_FILE = "outlets.json"
ARTICLE_IDS_FILE = "article_ids.json"
NO_OUTLET = -1
NO_DAY = np.iinfo(np.int32).min  # an article without a (readable) date
EPOCH = dt.date(1970, 1, 1)  # day numbers count days since this one
_ARRAYS = ("passage_offsets", "article_offsets", "passage_article", "article_outlet", "article_day")
T = TypeVar("T")


def day_number(value: str | dt.date | None) -> int:
    """Days since 1970-01-01 of an ISO date (its first ten characters), or NO_DAY."""
    if value is None:
        return int(NO_DAY)
    if isinstance(value, dt.date):
        return (value - EPOCH).days
    try:
        return (dt.date.fromisoformat(value.strip()[:10]) - EPOCH).days
    except ValueError:
        return int(NO_DAY)


class CatalogWriter:
    """Writes ``articles.jsonl``, ``passages.jsonl`` and ``catalog/`` a chunk of articles at a time.

    Holds per article its id, outlet and day, and per row one line offset: a few bytes per
    passage, so a streaming build can write a catalog of any size.
    """

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._articles = (index_dir / ARTICLES_FILE).open("wb")
        self._passages = (index_dir / PASSAGES_FILE).open("wb")
        self._offsets: dict[str, list[np.ndarray]] = {"article_offsets": [], "passage_offsets": []}
        self._ends = {"article_offsets": 0, "passage_offsets": 0}
        self._ids: list[str] = []
        self._row_of: dict[str, int] = {}
        self._outlets: list[str | None] = []
        self._days: list[int] = []
        self._passage_article: list[np.ndarray] = []

    @property
    def passages(self) -> int:
        return sum(len(rows) for rows in self._passage_article)

    def _write_lines(self, name: str, handle: Any, rows: Iterable[dict[str, Any]]) -> None:
        lengths = []
        for row in rows:
            line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
            handle.write(line)
            lengths.append(len(line))
        ends = self._ends[name] + np.cumsum(np.asarray(lengths, dtype=np.int64))
        self._offsets[name].append(ends)
        if len(ends):
            self._ends[name] = int(ends[-1])

    def add(self, articles: Sequence[Article], passages: Sequence[Passage]) -> None:
        """Append ``articles`` and ``passages``, each passage citing an article added in this call or before."""
        for article in articles:
            self._row_of[article.id] = len(self._ids)
            self._ids.append(article.id)
            self._outlets.append(article.outlet or None)
            self._days.append(day_number(article.date))
        self._write_lines("article_offsets", self._articles, (a.to_dict() for a in articles))
        self._write_lines("passage_offsets", self._passages, (p.to_dict() for p in passages))
        row_of = self._row_of
        self._passage_article.append(np.fromiter((row_of[p.article_id] for p in passages), np.int32, len(passages)))

    def finish(self) -> None:
        """Close the JSON lines and write the ``catalog/`` arrays."""
        self._articles.close()
        self._passages.close()
        folder = self.index_dir / CATALOG_DIR
        folder.mkdir(parents=True, exist_ok=True)
        outlets = sorted({outlet for outlet in self._outlets if outlet})
        code_of = {name: code for code, name in enumerate(outlets)}
        arrays = {name: np.concatenate([np.zeros(1, dtype=np.int64), *parts]) for name, parts in self._offsets.items()}
        arrays["passage_article"] = np.concatenate([np.zeros(0, dtype=np.int32), *self._passage_article])
        arrays["article_outlet"] = np.asarray(
            [code_of[o] if o else NO_OUTLET for o in self._outlets], dtype=np.int32
        ).reshape(-1)
        arrays["article_day"] = np.asarray(self._days, dtype=np.int32).reshape(-1)
        for name, values in arrays.items():
            np.save(folder / f"{name}.npy", values, allow_pickle=False)
        (folder / OUTLETS_FILE).write_text(json.dumps(outlets, ensure_ascii=False), encoding="utf-8")
        (folder / ARTICLE_IDS_FILE).write_text(json.dumps(self._ids, ensure_ascii=False), encoding="utf-8")


def write_catalog(index_dir: Path, articles: Sequence[Article], passages: Sequence[Passage]) -> None:
    """``articles.jsonl``, ``passages.jsonl`` and the ``catalog/`` arrays that address them."""
    writer = CatalogWriter(index_dir)
    writer.add(articles, passages)
    writer.finish()


class JsonlRows(Sequence[T], Generic[T]):
    """A read-only sequence over the lines of a JSON-lines file; item *i* is parsed from line *i* when read.

    :meth:`open` maps the file at once: from then on rows come from that file as it was, even
    after a rebuild has swapped a new index in (the old file lives on while it is mapped).
    """

    def __init__(self, path: Path, offsets: np.ndarray, make: Callable[[dict[str, Any]], T]) -> None:
        self.path = path
        self._offsets = offsets
        self._make = make
        self._map: mmap.mmap | bytes | None = None

    def open(self) -> JsonlRows[T]:
        """Map the file now (rather than at the first row read); returns itself."""
        self._bytes()
        return self

    def _bytes(self) -> mmap.mmap | bytes:
        if self._map is None:
            try:
                with self.path.open("rb") as handle:
                    empty = os.fstat(handle.fileno()).st_size == 0  # an empty file cannot be mapped
                    self._map = b"" if empty else mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except OSError as error:
                raise IndexFormatError(
                    f"Cannot read {self.path} ({error.strerror or error}). Check the index folder's permissions."
                ) from None
            if isinstance(self._map, mmap.mmap) and hasattr(mmap, "MADV_RANDOM"):
                with contextlib.suppress(OSError):  # rows are read one by one: no read-around (see qa.index.dense)
                    self._map.madvise(mmap.MADV_RANDOM)
        return self._map

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def _row(self, row: int) -> T:
        start, end = int(self._offsets[row]), int(self._offsets[row + 1])
        try:
            return self._make(json.loads(self._bytes()[start:end]))
        except (ValueError, TypeError) as error:
            raise IndexFormatError(f"{self.path} is corrupt at line {row + 1} ({error}).", path=self.path) from None

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._row(row) for row in range(*index.indices(len(self)))]
        row = int(index)  # numpy integers too
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"row {index} is outside 0..{len(self) - 1}")
        return self._row(row)

    def __iter__(self) -> Iterator[T]:
        for row in range(len(self)):
            yield self._row(row)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"JsonlRows({self.path}, {len(self)} rows)"


class HeldFile:
    """A file opened now and read later, as it was when opened (a rebuild swapping a new one in does not change it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file = path.open("rb")
        except OSError as error:
            raise IndexFormatError(f"{path} cannot be read ({error.strerror or error}).", path=path) from None

    def json(self) -> Any:
        fd = self._file.fileno()
        try:
            size = os.fstat(fd).st_size
            data = bytearray()
            while len(data) < size:  # pread: no shared file position, so threads may read at once
                block = os.pread(fd, size - len(data), len(data))
                if not block:
                    break
                data += block
            return json.loads(data)
        except (OSError, ValueError) as error:
            raise IndexFormatError(f"{self.path} cannot be read ({error}).", path=self.path) from None


class ArticleMap(Mapping[str, Article]):
    """Article id → Article, read from ``articles.jsonl`` on demand; the id table loads on first lookup by id."""

    def __init__(self, rows: JsonlRows[Article], ids_file: HeldFile) -> None:
        self.rows = rows
        self._ids_file = ids_file
        self._ids: list[str] | None = None
        self._row_of: dict[str, int] | None = None

    def ids(self) -> list[str]:
        if self._ids is None:
            self._ids = self._ids_file.json()
        return self._ids

    def _rows_by_id(self) -> dict[str, int]:
        if self._row_of is None:
            self._row_of = {article_id: row for row, article_id in enumerate(self.ids())}
        return self._row_of

    def __getitem__(self, article_id: str) -> Article:
        return self.rows[self._rows_by_id()[article_id]]

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._rows_by_id()

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids())

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"ArticleMap({len(self)} articles)"


class Catalog:
    """Row-addressed passages and articles, with the per-row facts filters need as arrays."""

    def __init__(
        self,
        passages: JsonlRows[Passage],
        articles: ArticleMap,
        passage_article: np.ndarray,
        article_outlet: np.ndarray,
        article_day: np.ndarray,
        outlets: list[str],
    ) -> None:
        self.passages = passages
        self.articles = articles
        self.passage_article = passage_article
        self.article_outlet = article_outlet
        self.article_day = article_day
        self.outlets = outlets

    def article_of(self, row: int) -> Article:
        """The article passage row ``row`` was cut from."""
        return self.articles.rows[int(self.passage_article[row])]

    def scan(self) -> Iterator[tuple[Article, list[Passage]]]:
        """Every article with its passages, in row order, read with plain sequential reads: unlike rows read
        through the memory maps, a whole pass leaves nothing resident (a streaming build makes two)."""
        counts = np.bincount(np.asarray(self.passage_article), minlength=len(self.articles))
        passages = _lines(self.passages.path, _passage)
        for article, count in zip(_lines(self.articles.rows.path, _article), counts.tolist()):
            yield article, [next(passages) for _ in range(count)]

    def passage_texts(self) -> Sequence[str]:
        """The text of every passage row: read in one sequential pass when iterated, by row when indexed."""
        return _PassageTexts(self)

    def rows_matching(
        self,
        outlets: Sequence[str | None],
        first_day: int | None,
        last_day: int | None,
        include_undated: bool = False,
    ) -> np.ndarray:
        """Passage rows whose article is from one of ``outlets`` (any when empty; ``None``: articles naming
        no outlet) and dated within the days given; with a day range, undated articles pass only with
        ``include_undated``."""
        keep = np.ones(len(self.article_outlet), dtype=bool)
        if outlets:
            codes = [NO_OUTLET if name is None else self.outlets.index(name) for name in outlets]
            keep &= np.isin(self.article_outlet, np.asarray(codes, dtype=np.int32))
        if first_day is not None or last_day is not None:
            in_range = self.article_day != NO_DAY
            if first_day is not None:
                in_range &= self.article_day >= first_day
            if last_day is not None:
                in_range &= self.article_day <= last_day
            if include_undated:
                in_range |= self.article_day == NO_DAY
            keep &= in_range
        return np.flatnonzero(keep[self.passage_article])

    @classmethod
    def load(cls, index_dir: Path, passages: int, articles: int, mmap_arrays: bool = True) -> Catalog:
        """Open the catalog of a built index, checking it against the manifest's counts."""
        folder = index_dir / CATALOG_DIR
        arrays = {name: _load_array(folder / f"{name}.npy", mmap_arrays) for name in _ARRAYS}
        outlets = _read_json(folder / OUTLETS_FILE)
        ids_file = HeldFile(folder / ARTICLE_IDS_FILE)
        _check(index_dir, arrays, passages, articles)
        # Every file is opened (or mapped) now: later reads see this index even after a rebuild swapped in another.
        passage_rows = JsonlRows(index_dir / PASSAGES_FILE, arrays["passage_offsets"], _passage).open()
        article_rows = JsonlRows(index_dir / ARTICLES_FILE, arrays["article_offsets"], _article).open()
        return cls(
            passage_rows,
            ArticleMap(article_rows, ids_file),
            arrays["passage_article"],
            arrays["article_outlet"],
            arrays["article_day"],
            outlets,
        )


class _PassageTexts(Sequence[str]):
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def __len__(self) -> int:
        return len(self._catalog.passages)

    def __getitem__(self, row: int) -> str:  # type: ignore[override]
        return self._catalog.passages[row].text

    def __iter__(self) -> Iterator[str]:
        for _, passages in self._catalog.scan():
            yield from (passage.text for passage in passages)


def _lines(path: Path, make: Callable[[dict[str, Any]], T]) -> Iterator[T]:
    try:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    yield make(json.loads(line))
                except (ValueError, TypeError) as error:
                    raise IndexFormatError(f"{path} is corrupt at line {number} ({error}). Rebuild it.") from None
    except OSError as error:
        raise IndexFormatError(f"Cannot read {path} ({error.strerror or error}).") from None


def _passage(row: dict[str, Any]) -> Passage:
    return Passage(**row)


def _article(row: dict[str, Any]) -> Article:
    return Article(**row)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexFormatError(f"{path} cannot be read ({error}).", path=path) from None


def _load_array(path: Path, mmap_array: bool) -> np.ndarray:
    try:
        # A plain ndarray view of the map: np.memmap's per-item indexing overhead is not worth paying.
        return np.asarray(np.load(path, mmap_mode="r" if mmap_array else None, allow_pickle=False))
    except (OSError, ValueError) as error:
        raise IndexFormatError(f"{path} cannot be read ({error}).", path=path) from None


def _check(index_dir: Path, arrays: dict[str, np.ndarray], passages: int, articles: int) -> None:
    found_passages, found_articles = len(arrays["passage_offsets"]) - 1, len(arrays["article_offsets"]) - 1
    if found_passages != passages or found_articles != articles:
        raise IndexMismatchError(
            f"{index_dir} holds {found_articles} articles and {found_passages} passages but its manifest "
            f"says {articles} and {passages}.",
            path=index_dir,
        )
    for name, path in (("passage_offsets", PASSAGES_FILE), ("article_offsets", ARTICLES_FILE)):
        size = (index_dir / path).stat().st_size if (index_dir / path).is_file() else -1
        if int(arrays[name][-1]) != size:
            raise IndexMismatchError(
                f"{index_dir / path} has {size} bytes but its catalog expects {int(arrays[name][-1])}.",
                path=index_dir / path,
            )
    if len(arrays["passage_article"]) != passages or len(arrays["article_outlet"]) != articles:
        raise IndexMismatchError(f"The catalog in {index_dir} does not match its row counts.", path=index_dir)
    if passages and not 0 <= int(np.min(arrays["passage_article"])) <= int(np.max(arrays["passage_article"])) < max(
        articles, 1
    ):
        raise IndexMismatchError(
            f"{index_dir / PASSAGES_FILE} cites articles that are not in the index.", path=index_dir
        )
