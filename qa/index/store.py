"""The index folder on disk: staged writes swapped in atomically, and checked reads.

A build writes into a temporary sibling folder and then exchanges it with the live one in a
single rename (renameat2 RENAME_EXCHANGE on Linux, renamex_np RENAME_SWAP on macOS), so a
reader sees the old index or the new one, never a mix; a crash mid-build leaves the old one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa.errors import IndexWriteError
from qa.index.integrity import check_files
from qa.index.manifest import Manifest, is_qa_index, missing_index

STAGING_MARK = ".building-"
RETIRED_MARK = ".retired-"


def _libc() -> Any:
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories; False where the OS offers no such call."""
    try:
        libc = _libc()
        if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
            at_fdcwd, rename_exchange = -100, 2
            result = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
        elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
            result = libc.renamex_np(os.fsencode(a), os.fsencode(b), 2)  # RENAME_SWAP
        else:
            return False
    except OSError:
        return False
    if result != 0:
        code = ctypes.get_errno()
        if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            return False
        raise OSError(code, os.strerror(code), str(a))
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(index_dir: Path) -> None:
    """Delete staging folders left by builds that were killed."""
    parent = index_dir.parent
    if not parent.is_dir():
        return
    for path in parent.glob(f"{index_dir.name}{STAGING_MARK}*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def recover_interrupted_swap(index_dir: Path) -> None:
    """Where the two-rename fallback was interrupted, put the previous index back."""
    if index_dir.exists():
        return
    retired = sorted(index_dir.parent.glob(f"{index_dir.name}{RETIRED_MARK}*"))
    if retired and is_qa_index(retired[-1]):
        os.rename(retired[-1], index_dir)


def _disk_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def write_error(index_dir: Path, error: OSError) -> IndexWriteError:
    # Some writers (numpy) report a short write without an errno; free space tells why.
    if error.errno == errno.ENOSPC or (error.errno is None and _disk_full(index_dir.parent)):
        why = "the disk is full"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "it is not writable"
    else:
        why = error.strerror or str(error)
    return IndexWriteError(
        f"Cannot write the index at {index_dir}: {why}. The previous index, if any, is unchanged. "
        f"Free space or fix permissions, or choose another folder with --index."
    )


@contextlib.contextmanager
def staged_index(index_dir: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on normal exit it replaces ``index_dir`` atomically."""
    index_dir = Path(index_dir)
    staging = index_dir.parent / f"{index_dir.name}{STAGING_MARK}{os.getpid()}"
    check_replaceable(index_dir)
    try:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(index_dir)
        recover_interrupted_swap(index_dir)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    except OSError as error:
        raise write_error(index_dir, error) from None
    try:
        yield staging
        _sync_tree(staging)
        _swap_in(staging, index_dir)
    except OSError as error:
        raise write_error(index_dir, error) from None
    except RuntimeError as error:  # FAISS reports failed writes as RuntimeError("... write error ... (reason)")
        if "write error" not in str(error):
            raise
        reason = str(error).rsplit("(", 1)[-1].rstrip(")") if "(" in str(error) else str(error)
        code = errno.ENOSPC if "No space" in reason else errno.EIO
        raise write_error(index_dir, OSError(code, reason)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


def check_replaceable(index_dir: Path) -> None:
    """Refuse a folder that exists, is not empty and is not a qa index: a build never replaces it."""
    index_dir = Path(index_dir)
    try:
        occupied = index_dir.exists() and (not index_dir.is_dir() or any(index_dir.iterdir()))
    except OSError as error:
        raise write_error(index_dir, error) from None
    if occupied and not is_qa_index(index_dir):
        raise IndexWriteError(
            f"{index_dir} exists and is not a qa index; refusing to replace it. Choose another folder with --index."
        )


def _swap_in(staging: Path, index_dir: Path) -> None:
    check_replaceable(index_dir)
    if not index_dir.exists():
        os.rename(staging, index_dir)
    elif _exchange(staging, index_dir):
        pass  # `staging` now holds the previous index; the caller removes it
    else:
        retired = index_dir.parent / f"{index_dir.name}{RETIRED_MARK}{os.getpid()}"
        os.rename(index_dir, retired)
        os.rename(staging, index_dir)
        shutil.rmtree(retired, ignore_errors=True)
    _fsync_dir(index_dir.parent)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def open_manifest(index_dir: Path, full_check: bool = False) -> Manifest:
    """The manifest of a built index, after checking every file it lists against its checksum."""
    index_dir = Path(index_dir)
    recover_interrupted_swap(index_dir)
    if not index_dir.exists():
        raise missing_index(index_dir)
    manifest = Manifest.read(index_dir)
    check_files(index_dir, manifest.files, full=full_check)
    return manifest
