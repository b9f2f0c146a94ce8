"""Checksums of index files: recorded when an index is built, checked before it is used.

Every file's size and sha256 go into the manifest. Loading re-hashes every file up to
FULL_CHECK_BYTES in full (sha256 runs at about 1 GB/s here); a larger file is checked by size
plus a hash of an evenly spaced sample of its blocks, so opening a million-passage index
stays fast. `qa info --verify` always hashes everything.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from qa.checksums import sha256_file
from qa.errors import IndexFormatError, IndexMismatchError

FULL_CHECK_BYTES = 64 << 20
SAMPLE_BLOCK = 64 << 10
SAMPLE_BLOCKS = 64


def _sample_sha256(path: Path, size: int) -> str:
    """sha256 over SAMPLE_BLOCKS blocks spread evenly from the first byte to the last."""
    digest = hashlib.sha256()
    step = max(1, (size - SAMPLE_BLOCK) // max(1, SAMPLE_BLOCKS - 1))
    with path.open("rb") as handle:
        for offset in range(0, max(1, size - SAMPLE_BLOCK + 1), step)[:SAMPLE_BLOCKS]:
            handle.seek(offset)
            digest.update(handle.read(SAMPLE_BLOCK))
        handle.seek(max(0, size - SAMPLE_BLOCK))
        digest.update(handle.read(SAMPLE_BLOCK))
    return digest.hexdigest()


def file_record(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    return {"bytes": size, "sha256": sha256_file(path), "sample_sha256": _sample_sha256(path, size)}


def check_files(index_dir: Path, files: dict[str, dict[str, Any]], full: bool = False) -> int:
    """Check every listed file against its record; returns how many were hashed in full.

    Raises IndexFormatError (missing) or IndexMismatchError (truncated, altered) naming the file.
    """
    check_contained(index_dir, files)
    hashed = 0
    for name, record in files.items():
        path = index_dir / name
        if not path.is_file():
            raise IndexFormatError(f"{path} is missing.", path=index_dir)
        size = path.stat().st_size
        if size != record.get("bytes"):
            raise IndexMismatchError(
                f"{path} has {size} bytes but the manifest says {record.get('bytes')}: it was truncated or changed.",
                path=index_dir,
            )
        if full or size <= FULL_CHECK_BYTES:
            matches = sha256_file(path) == record.get("sha256")
            hashed += 1
        else:
            matches = _sample_sha256(path, size) == record.get("sample_sha256")
        if not matches:
            raise IndexMismatchError(
                f"{path} does not match its checksum in the manifest: it was altered.", path=index_dir
            )
    return hashed


def check_contained(index_dir: Path, files: dict[str, Any]) -> None:
    """An index is read only inside its folder: the manifest may name no file outside it (absolute, ``..``),
    and no entry in the folder may be a symlink (through which a load would read another file).

    An index folder can come from anyone, and the manifest's checksum has no key; without this,
    naming ``/etc/passwd`` in ``files`` made opening the index report that file's size.
    """
    untrusted = f"The index at {index_dir} cannot be trusted"
    for name in files:
        parts = Path(name).parts
        if not isinstance(name, str) or not parts or Path(name).is_absolute() or ".." in parts:
            raise IndexFormatError(
                f"{untrusted}: its manifest names a file outside its folder ({name!r}).", path=index_dir
            )
    for current, folders, names in os.walk(index_dir):
        for entry in folders + names:
            if os.path.islink(os.path.join(current, entry)):
                where = Path(current, entry).relative_to(index_dir).as_posix()
                raise IndexFormatError(f"{untrusted}: {where} is a symlink, which qa never writes.", path=index_dir)
