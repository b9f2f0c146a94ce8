"""The index folder on disk: staged writes swapped in atomically, one build at a time, and checked reads.

A build writes into a temporary sibling folder and then exchanges it with the live one in a
single rename (renameat2 RENAME_EXCHANGE on Linux, renamex_np RENAME_SWAP on macOS), so a
reader sees the old index or the new one, never a mix; a crash mid-build leaves the old one.

Nothing this program did not create is ever removed: a folder is replaced only when it is a qa
index holding nothing but the files its manifest lists, and leftovers of killed builds are
swept only when they carry the marker file every staging folder starts with (or are a whole
qa index). Two builds of one index exclude each other with a lock on the index folder; the
second fails at once, naming the process that holds it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import glob
import json
import os
import shutil
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from qa.errors import IndexFormatError, IndexWriteError, Remedy
from qa.index.integrity import check_files
from qa.index.manifest import MANIFEST_FILE, Manifest, is_qa_index, missing_index

STAGING_MARK = ".building-"
RETIRED_MARK = ".retired-"
OWNER_FILE = ".qa-staging"  # inside every staging folder qa creates, until the folder becomes the index
_held_locks: dict[tuple[str, int], int] = {}  # (index folder, thread) -> depth: a build's nested steps share its lock


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


def index_target(index_dir: Path) -> Path:
    """The folder a build writes: an index path that is a symlink is followed, so its target is replaced
    (the link stays a link) instead of the link itself."""
    index_dir = Path(index_dir)
    if not index_dir.is_symlink():
        return index_dir
    target = Path(os.path.realpath(index_dir))
    if target.is_symlink():
        raise IndexWriteError(f"{index_dir} is a symlink that loops.", path=index_dir, remedy=Remedy.FIX_LINK)
    return target


def owned_by_qa(folder: Path) -> bool:
    """Whether ``folder`` is one qa made: a staging folder with its marker, or a whole qa index."""
    try:
        marker = folder / OWNER_FILE
        return (marker.is_file() and not marker.is_symlink()) or is_qa_index(folder)
    except OSError:
        return False


def make_own_folder(folder: Path) -> Path:
    """Create ``folder`` with the marker that lets a later build sweep it away if this one is killed."""
    if folder.exists() or folder.is_symlink():
        if not owned_by_qa(folder):
            raise IndexWriteError(f"{folder} exists and was not made by qa; move it away and build again.")
        remove_own_folder(folder)
    folder.mkdir(parents=True)
    (folder / OWNER_FILE).write_text(f"{os.getpid()}\n", encoding="utf-8")
    return folder


def scratch_folder(index_dir: Path, purpose: str) -> Path:
    """An empty folder next to the index for a build's temporary files (a model being trained, BM25
    postings), named and marked like a staging folder so that one left by a killed build is swept away
    by the next (:func:`remove_stale_staging`). The caller removes it."""
    index_dir = index_target(index_dir)
    folder = index_dir.resolve().parent / f"{index_dir.name}{STAGING_MARK}{purpose}-{os.getpid()}"
    try:
        return make_own_folder(folder)
    except OSError as error:
        raise write_error(index_dir, error) from None


def remove_own_folder(folder: Path) -> None:
    """Delete a folder qa made, even where a read-only subfolder would stop a plain rmtree."""

    def writable_and_retry(function: Callable[..., Any], path: str, _: object) -> None:
        with contextlib.suppress(OSError):
            parent = os.path.dirname(path)
            os.chmod(parent, os.stat(parent).st_mode | stat.S_IRWXU)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | stat.S_IRWXU)
                shutil.rmtree(path, ignore_errors=True)
            else:
                function(path)

    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder, onerror=writable_and_retry)


def _staging_folders(index_dir: Path, mark: str) -> list[Path]:
    """Sibling folders named after ``index_dir`` with ``mark`` (the name taken literally, not as a pattern)."""
    return sorted(index_dir.parent.glob(f"{glob.escape(index_dir.name)}{mark}*"))


def remove_stale_staging(index_dir: Path) -> None:
    """Delete staging folders left by builds that were killed (only folders qa made)."""
    if not index_dir.parent.is_dir():
        return
    for path in _staging_folders(index_dir, STAGING_MARK):
        pid = path.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or _pid_alive(int(pid)) or path.is_symlink():
            continue
        if owned_by_qa(path):
            remove_own_folder(path)
        else:
            with contextlib.suppress(OSError):
                path.rmdir()  # a build killed before its marker was written left it empty; anything else stays


def recover_interrupted_swap(index_dir: Path) -> None:
    """Where the two-rename fallback was interrupted, put the previous index back."""
    if index_dir.exists() or not index_dir.parent.is_dir():
        return
    retired = _staging_folders(index_dir, RETIRED_MARK)
    if retired and is_qa_index(retired[-1]):
        os.rename(retired[-1], index_dir)


def corpus_folder_check(index_dir: Path) -> Callable[[Path], str | None]:
    """For loading a corpus: the reason to skip a subfolder that is an index (this one, one being
    written, any other qa index), so an index inside the corpus is never read as articles."""
    target = os.path.realpath(index_dir)

    def reason(folder: Path) -> str | None:
        if os.path.realpath(folder) == target:
            return "the index folder being built (an index is never read as articles)"
        if (STAGING_MARK in folder.name or RETIRED_MARK in folder.name) and owned_by_qa(folder):
            return "a folder qa is writing an index into"
        if is_qa_index(folder):
            return "a qa index folder (an index is never read as articles)"
        return None

    return reason


def _lock_holder(fd: int) -> str:
    """Who holds the flock on ``fd``'s file, as "process N" when /proc/locks says (Linux), else "another process"."""
    status = os.fstat(fd)
    wanted = f"{os.major(status.st_dev):02x}:{os.minor(status.st_dev):02x}:{status.st_ino}"
    with contextlib.suppress(OSError):
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if "FLOCK" in fields and wanted in fields:
                return f"process {fields[fields.index(wanted) - 1]}"
    return "another process"


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the lock that lets one build at a time write ``index_dir``; a second build fails at once.

    The lock is a flock on the index folder itself (made empty if it does not exist yet, and
    removed again if the build leaves it empty), so no lock file is left behind. Nested use in
    one thread (build_index, then the staging step) shares it.
    """
    try:
        import fcntl
    except ImportError:  # no flock (Windows): no guard
        yield
        return
    index_dir = Path(index_dir)
    key = (os.path.abspath(index_dir), threading.get_ident())
    if key in _held_locks:
        _held_locks[key] += 1
        try:
            yield
        finally:
            _held_locks[key] -= 1
        return
    created = False
    try:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            index_dir.mkdir()
            created = True
        for _ in range(20):  # the folder may be swapped between opening and locking: lock the one in place
            fd = os.open(index_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _lock_holder(fd)
                os.close(fd)
                raise IndexWriteError(
                    f"Another qa build ({holder}) is writing the index at {index_dir}. "
                    "Wait for it to finish (or stop it), then build again."
                ) from None
            held, now = os.fstat(fd), os.stat(index_dir)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                break
            os.close(fd)
        else:
            raise IndexWriteError(f"{index_dir} kept being replaced while this build tried to lock it. Build again.")
    except OSError as error:
        raise write_error(index_dir, error) from None
    _held_locks[key] = 1
    try:
        yield
    finally:
        del _held_locks[key]
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                index_dir.rmdir()  # only if the build left it empty (it failed before swapping anything in)


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
        f"Cannot write the index at {index_dir}: {why}. The previous index, if any, is unchanged.",
        path=index_dir,
        remedy=Remedy.FREE_SPACE,
    )


@contextlib.contextmanager
def staged_index(index_dir: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on normal exit it replaces ``index_dir`` atomically."""
    index_dir = index_target(Path(index_dir))
    staging = index_dir.parent / f"{index_dir.name}{STAGING_MARK}{os.getpid()}"
    with build_lock(index_dir):
        check_replaceable(index_dir)
        try:
            remove_stale_staging(index_dir)
            recover_interrupted_swap(index_dir)
            make_own_folder(staging)
        except OSError as error:
            raise write_error(index_dir, error) from None
        try:
            yield staging
            (staging / OWNER_FILE).unlink()  # the staging folder becomes the index: it holds only index files
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
            remove_own_folder(staging)


def _sync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


def check_replaceable(index_dir: Path) -> None:
    """Refuse a folder that a build may not replace: one that exists, is not empty and is not a qa index,
    one holding files its manifest does not list (a user's own files would be deleted with it), or
    one this process cannot write (a read-only index stays as it is)."""
    index_dir = Path(index_dir)
    try:
        if not index_dir.exists():
            return
        if not index_dir.is_dir() or index_dir.is_symlink():
            raise IndexWriteError(
                f"{index_dir} exists and is not a qa index; refusing to replace it.",
                path=index_dir,
                remedy=Remedy.OTHER_INDEX_FOLDER,
            )
        if not any(index_dir.iterdir()):
            extra: list[str] = []
        elif not is_qa_index(index_dir):
            raise IndexWriteError(
                f"{index_dir} exists and is not a qa index; refusing to replace it.",
                path=index_dir,
                remedy=Remedy.OTHER_INDEX_FOLDER,
            )
        else:
            extra = _unlisted_files(index_dir)
        if not os.access(index_dir, os.W_OK | os.X_OK):
            raise write_error(index_dir, OSError(errno.EACCES, "Permission denied"))
    except OSError as error:
        raise write_error(index_dir, error) from None
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        raise IndexWriteError(
            f"{index_dir} holds files qa did not write ({shown}); a build replaces the whole folder.",
            path=index_dir,
            remedy=Remedy.MOVE_OUT,
        )


def _unlisted_files(index_dir: Path) -> list[str]:
    """Files in a qa index folder that its manifest does not list (nor is the manifest itself)."""
    try:
        listed = set(json.loads((index_dir / MANIFEST_FILE).read_text(encoding="utf-8")).get("files", {}))
    except (OSError, ValueError, AttributeError):
        listed = set()
    listed.add(MANIFEST_FILE)
    found = []
    for current, folders, files in os.walk(index_dir):
        for name in files + [f for f in folders if os.path.islink(os.path.join(current, f))]:
            relative = Path(current, name).relative_to(index_dir).as_posix()
            if relative not in listed:
                found.append(relative)
    return sorted(found)


def _swap_in(staging: Path, index_dir: Path) -> None:
    check_replaceable(index_dir)
    if not index_dir.exists() or (index_dir.is_dir() and not any(index_dir.iterdir())):
        os.rename(staging, index_dir)  # onto nothing, or onto the empty folder the build lock made
    elif _exchange(staging, index_dir):
        pass  # `staging` now holds the previous index; the caller removes it
    else:
        retired = index_dir.parent / f"{index_dir.name}{RETIRED_MARK}{os.getpid()}"
        os.rename(index_dir, retired)
        os.rename(staging, index_dir)
        remove_own_folder(retired)
    _fsync_dir(index_dir.parent)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def reading_index(index_dir: Path) -> Iterator[None]:
    """Turn an operating-system error while reading an index (permissions, I/O) into one clear IndexFormatError."""
    try:
        yield
    except OSError as error:
        where = error.filename if error.filename is not None else index_dir
        raise IndexFormatError(
            f"Cannot read {where} ({error.strerror or error}).", path=where, remedy=Remedy.CHECK_PERMISSIONS
        ) from None


def open_manifest(index_dir: Path, full_check: bool = False) -> Manifest:
    """The manifest of a built index, after checking every file it lists against its checksum."""
    index_dir = Path(index_dir)
    with reading_index(index_dir):
        recover_interrupted_swap(index_dir)
        if not index_dir.exists():
            raise missing_index(index_dir)
        manifest = Manifest.read(index_dir)
        check_files(index_dir, manifest.files, full=full_check)
    return manifest
