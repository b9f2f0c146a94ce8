"""What one corpus file may cost: how it is opened, how many bytes are read, how long its fields may be.

Every reader takes its bytes from :func:`read_capped`, so each format inherits the same
guarantees: a FIFO or device swapped in after the folder walk is refused instead of blocking
the build, a sparse multi-gigabyte file is refused by its size before a byte is read, and one
file never holds more than MAX_FILE_BYTES in memory. ``load_corpus`` then applies the rest to
every article any reader made: at most MAX_ARTICLE_CHARS of text, metadata fields cut to a
length a real title, author or URL never reaches (the title is repeated into every passage
and every sentence of its article), and no text that cannot be written as UTF-8.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 64 << 20  # bytes read from one corpus file (a news article is far below a megabyte)
# Text one article may have: a build holds ~70 bytes of memory per character of text (tokens of
# three BM25 fields), so one article at the limit costs under 1 GB; a JSON lines file may hold
# many articles, each within it.
MAX_ARTICLE_CHARS = 10_000_000
MAX_FRONT_MATTER_CHARS = 64 << 10
# The longest value of each metadata field that is kept (characters).
FIELD_LIMITS = {"title": 300, "author": 300, "outlet": 200, "url": 2048, "language": 35, "date": 100}
_READ_BLOCK = 1 << 20


class UnreadableFile(Exception):
    """This file (or record) cannot be indexed; the message says why."""


def _size(count: int) -> str:
    return f"{count / (1 << 20):,.0f} MB" if count >= 1 << 20 else f"{count:,} bytes"


def read_capped(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them; raises UnreadableFile why not.

    The file is opened without blocking (a FIFO would otherwise wait for a writer forever) and
    its type and size are checked on the open descriptor, so a file swapped after the folder
    was listed is judged by what was actually opened.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise UnreadableFile(open_reason(error)) from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise UnreadableFile("not a regular file")
        if status.st_size > limit:
            raise UnreadableFile(f"larger than {_size(limit)}, the limit for one file ({_size(status.st_size)})")
        chunks, total = [], 0
        while block := os.read(fd, min(_READ_BLOCK, limit + 1 - total)):
            chunks.append(block)
            total += len(block)
            if total > limit:  # it grew after fstat
                raise UnreadableFile(f"larger than {_size(limit)}, the limit for one file")
    except OSError as error:
        raise UnreadableFile(open_reason(error)) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def open_reason(error: OSError) -> str:
    """Why a file or folder could not be opened, in a few words."""
    if error.errno == errno.ELOOP:
        return "symlink loop"
    if error.errno == errno.ENAMETOOLONG:
        return "its path is longer than the system allows"
    return f"cannot read it ({error.strerror or error})"


def cap_field(name: str, value: str, location: str, warnings: list[str]) -> str:
    """``value`` cut to FIELD_LIMITS[name] characters (at a word boundary when there is one), with a warning."""
    limit = FIELD_LIMITS.get(name)
    if limit is None or len(value) <= limit:
        return value
    cut = value[:limit].rsplit(" ", 1)[0] if " " in value[:limit] else value[:limit]
    warnings.append(f"{location}: its {name} is {len(value):,} characters long; kept the first {len(cut):,}")
    return cut


def invalid_unicode(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (a JSON or YAML escape like \\ud800 makes one): not valid UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def printable_path(relative: str) -> str:
    """A path as it can be shown and stored: bytes that are not UTF-8 written as \\xNN escapes."""
    return os.fsencode(relative).decode("utf-8", "backslashreplace")
