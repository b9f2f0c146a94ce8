"""Wire copies: passages of different articles that are near-identical, grouped once at build time.

Two passages are copies when the Jaccard similarity of their sets of word pairs (lowercased
``\\w+`` words) is at least 0.8: a syndicated paragraph with a dateline added or a word
changed still counts; a paragraph that merely quotes the same sentence does not.
Comparing every passage with every other is quadratic, so each passage gets a MinHash
signature (datasketch, 128 permutations) cut into LSH bands (datasketch's optimal banding for
the threshold, tilted towards not missing pairs); passages sharing a band are candidates, and
each candidate pair's exact Jaccard decides. The bands are hashed and grouped with numpy
rather than datasketch's ``MinHashLSH``, whose dictionaries of byte strings cost ~4 KB per
passage. Copies are joined transitively into groups (union-find). Passages under
``min_words`` words are never grouped: a short line such as "The ministry did not respond."
recurs in unrelated stories.

The result is one group number per passage row (``-1``: no copy elsewhere), stored in the
index as ``wire_copies.npy`` and read back by :class:`CopyGroups`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexFormatError, IndexMismatchError
from qa.records import Article, Passage

NO_GROUP = -1
GROUPS_FILE = "wire_copies.npy"  # in the index folder; unlike catalog/, it cannot be derived from the JSON lines
LSH_WEIGHTS = (0.05, 0.95)  # false candidates vs missed pairs (datasketch's optimal banding)
ALL_PAIRS_UP_TO = 64
_BAND_MULTIPLIERS = np.random.default_rng(20261202).integers(1, 2**63, 32, dtype=np.uint64) | np.uint64(1)
_MULTIPLIER = 0x9E3779B97F4A7C15  # an odd 64-bit constant (golden ratio), mixing word hashes into shingles
SCHEME = "affine32"  # datasketch's permutation scheme: 32-bit values, collision-free permutations
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class DuplicateSettings:
    """How wire copies are found; recorded in the manifest."""

    threshold: float = 0.8  # shingled Jaccard at or above which two passages are copies
    # Word pairs: in a 25-word paragraph (a typical wire paragraph) one changed word leaves a Jaccard
    # of 0.85 and two of 0.72, a dateline added 0.89; with 3-grams one changed word falls to 0.77,
    # with 5-grams to 0.62 — below the threshold for the edits wire copies get.
    shingle_words: int = 2
    min_words: int = 12  # shorter passages are never grouped
    num_perm: int = 128  # MinHash permutations (LSH bands and rows follow from these and the threshold)
    seed: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"method": "minhash-lsh", **asdict(self)}


def shingle_hashes(words: Sequence[str], size: int, word_hashes: dict[str, int] | None = None) -> np.ndarray:
    """Sorted distinct 32-bit hashes of the ``size``-word shingles of ``words`` (lowercased words).

    Each word is hashed once with CRC-32 (stable across runs, unlike ``hash``); a shingle's hash
    is a polynomial of its words' hashes, computed for all shingles at once. ``word_hashes``
    caches the word hashes across calls.
    """
    cache = word_hashes if word_hashes is not None else {}
    values = np.empty(len(words), dtype=np.uint64)
    for number, word in enumerate(words):
        value = cache.get(word)
        if value is None:
            value = cache[word] = zlib.crc32(word.encode("utf-8"))
        values[number] = value
    if len(values) == 0:
        return np.zeros(0, dtype=np.uint32)
    size = min(size, len(values))
    windows = np.lib.stride_tricks.sliding_window_view(values, size)
    mixed = np.zeros(len(windows), dtype=np.uint64)
    for column in range(size):  # uint64 arithmetic wraps around: a polynomial modulo 2^64
        mixed = mixed * np.uint64(_MULTIPLIER) + windows[:, column]
    folded = (mixed >> np.uint64(32)) ^ (mixed & np.uint64(0xFFFFFFFF))
    return np.unique(folded.astype(np.uint32))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted arrays of distinct values."""
    if len(a) == 0 and len(b) == 0:
        return 0.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


def _identity(value: Any) -> Any:
    return value  # shingles arrive already hashed


def band_keys(signature: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per LSH band: passages whose signatures agree on a whole band share its key."""
    parts = signature[: bands * rows].astype(np.uint64).reshape(bands, rows)
    return parts @ _BAND_MULTIPLIERS[:rows]  # wraps modulo 2^64: a hash of the band's values


def group_duplicates(
    texts: Sequence[str], owners: Sequence[int] | np.ndarray, settings: DuplicateSettings | None = None
) -> np.ndarray:
    """A group number per text (``-1`` when it has no copy), copies being texts of different owners
    (article rows) whose shingled Jaccard is at least ``settings.threshold``.

    Groups are numbered 0, 1, … in the order of their first row, so the same input always gives
    the same numbers.
    """
    from datasketch import MinHash
    from datasketch.lsh import _optimal_param

    settings = settings or DuplicateSettings()
    owners = np.asarray(owners)
    # Bands and rows as datasketch's MinHashLSH chooses them, weighting missed pairs far above
    # false candidates: every candidate pair is checked exactly, so a false one costs only time.
    bands, rows = _optimal_param(settings.threshold, settings.num_perm, *LSH_WEIGHTS)
    signature = MinHash(settings.num_perm, seed=settings.seed, hashfunc=_identity, scheme=SCHEME)
    word_hashes: dict[str, int] = {}
    eligible: list[int] = []
    keys = np.empty((len(texts), bands), dtype=np.uint64)
    for row, text in enumerate(texts):
        words = _WORD.findall(text.lower())
        if len(words) < settings.min_words:
            continue
        signature.clear()
        signature.update_batch(shingle_hashes(words, settings.shingle_words, word_hashes))
        keys[len(eligible)] = band_keys(signature.hashvalues, bands, rows)
        eligible.append(row)
    candidates = _candidate_pairs(keys[: len(eligible)], np.asarray(eligible, dtype=np.int64), owners)

    parent = np.arange(len(texts), dtype=np.int64)

    def find(row: int) -> int:
        while parent[row] != row:
            parent[row] = parent[parent[row]]
            row = int(parent[row])
        return row

    shingles: dict[int, np.ndarray] = {}

    def shingles_of(row: int) -> np.ndarray:
        if row not in shingles:
            shingles[row] = shingle_hashes(_WORD.findall(texts[row].lower()), settings.shingle_words, word_hashes)
        return shingles[row]

    for first, second in candidates.tolist():
        if find(first) != find(second) and jaccard(shingles_of(first), shingles_of(second)) >= settings.threshold:
            parent[find(second)] = find(first)
    return _numbered(np.fromiter((find(row) for row in range(len(texts))), np.int64, len(texts)))


def _candidate_pairs(keys: np.ndarray, rows: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """Distinct (row, row) pairs of different owners that share a band key, lower row first.

    A bucket of up to :data:`ALL_PAIRS_UP_TO` passages yields all its pairs; a larger one (the same
    paragraph in hundreds of articles) pairs each member with the bucket's first and with its
    predecessor, which joins identical copies without a quadratic number of checks.
    """
    found: list[np.ndarray] = []
    for band in range(keys.shape[1]):
        order = np.argsort(keys[:, band], kind="stable")
        sorted_keys = keys[order, band]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        sizes = np.diff(np.r_[starts, len(sorted_keys)])
        for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist()):
            members = np.sort(rows[order[start : start + size]])
            if size <= ALL_PAIRS_UP_TO:
                first, second = np.triu_indices(size, 1)
                found.append(np.column_stack([members[first], members[second]]))
            else:
                found.append(np.column_stack([np.full(size - 1, members[0]), members[1:]]))
                found.append(np.column_stack([members[:-1], members[1:]]))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.unique(np.concatenate(found), axis=0)
    return pairs[owners[pairs[:, 0]] != owners[pairs[:, 1]]]


def _numbered(roots: np.ndarray) -> np.ndarray:
    """Union-find roots → group numbers 0, 1, … by first row; a root with one member → NO_GROUP."""
    counts = np.bincount(roots, minlength=len(roots)) if len(roots) else np.zeros(0, dtype=np.int64)
    groups = np.full(len(roots), NO_GROUP, dtype=np.int32)
    number_of: dict[int, int] = {}
    for row, root in enumerate(roots.tolist()):
        if counts[root] < 2:
            continue
        if root not in number_of:
            number_of[root] = len(number_of)
        groups[row] = number_of[root]
    return groups


def find_copies(articles: Sequence[Article], passages: Sequence[Passage], settings: DuplicateSettings) -> CopyGroups:
    """The build stage: group the wire copies among ``passages`` (each owned by its article)."""
    row_of = {article.id: row for row, article in enumerate(articles)}
    owners = np.fromiter((row_of[passage.article_id] for passage in passages), np.int64, len(passages))
    return CopyGroups(group_duplicates([passage.text for passage in passages], owners, settings))


def group_members(groups: np.ndarray) -> dict[int, np.ndarray]:
    """Group number → its passage rows, ascending."""
    rows = np.flatnonzero(groups != NO_GROUP)
    if len(rows) == 0:
        return {}
    order = np.argsort(groups[rows], kind="stable")
    sorted_rows, sorted_groups = rows[order], groups[rows][order]
    bounds = np.flatnonzero(np.diff(sorted_groups)) + 1
    return {
        int(members_groups[0]): members
        for members, members_groups in zip(np.split(sorted_rows, bounds), np.split(sorted_groups, bounds))
    }


class CopyGroups:
    """An index's wire-copy groups: each passage row's group (``-1``: none) and, on demand, its copies."""

    def __init__(self, groups: np.ndarray) -> None:
        self.groups = groups
        self._members: tuple[np.ndarray, np.ndarray] | None = None  # rows sorted by group, and group starts

    @classmethod
    def load(cls, index_dir: Path, passages: int) -> CopyGroups | None:
        """The groups stored in ``index_dir`` (None for an index built before copies were grouped)."""
        path = index_dir / GROUPS_FILE
        if not path.is_file():
            return None
        try:
            groups = np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
        except (OSError, ValueError) as error:
            raise IndexFormatError(f"{path} cannot be read ({error}). Rebuild the index with `qa build`.") from None
        if groups.shape != (passages,):
            raise IndexMismatchError(
                f"{path} holds {len(groups)} rows but the index has {passages} passages. Rebuild it with `qa build`."
            )
        return cls(groups)

    def save(self, index_dir: Path) -> None:
        np.save(index_dir / GROUPS_FILE, np.asarray(self.groups, dtype=np.int32), allow_pickle=False)

    def copies_of(self, row: int) -> np.ndarray:
        """The other rows in ``row``'s group, ascending (empty when it has no copy)."""
        group = int(self.groups[row])
        if group < 0:
            return np.zeros(0, dtype=np.int64)
        if self._members is None:
            grouped = np.flatnonzero(self.groups >= 0)
            order = grouped[np.argsort(self.groups[grouped], kind="stable")]
            starts = np.searchsorted(self.groups[order], np.arange(int(self.groups[order][-1]) + 2))
            self._members = (order, starts)
        order, starts = self._members
        members = order[starts[group] : starts[group + 1]]
        return members[members != row].astype(np.int64)

    def describe(self) -> dict[str, int]:
        grouped = self.groups[self.groups >= 0]
        return {"groups": int(grouped.max()) + 1 if len(grouped) else 0, "grouped_passages": len(grouped)}
