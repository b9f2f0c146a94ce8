"""Standard output and error as the command line meets them: possibly closed (`>&-`), full (`> /dev/full`) or gone.

A write to standard output that fails raises :class:`OutputError`, which the CLI turns into one
line on standard error (or, after a build, a note that the index was built all the same). A
write to standard error that fails is dropped: there is nowhere left to say anything. A pipe
whose reader left (`qa ask … | head`) still raises BrokenPipeError, which the CLI answers
with the shell's exit code for it.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, TextIO


class OutputError(Exception):
    """Standard output cannot be written (closed, or its device is full); the message says why."""


class _Guarded:
    """A text stream whose write and flush failures are turned into OutputError (stdout) or dropped (stderr)."""

    def __init__(self, stream: TextIO | None, name: str, quiet: bool) -> None:
        self._stream = stream
        self._name = name
        self._quiet = quiet

    def _fail(self, error: OSError) -> None:
        if isinstance(error, BrokenPipeError) and not self._quiet:
            raise error
        if not self._quiet:
            raise OutputError(f"cannot write to {self._name}: {error.strerror or error}") from None

    def write(self, text: str) -> int:
        try:
            if self._stream is None:
                raise OSError(errno.EBADF, "it is closed")
            return self._stream.write(text)
        except OSError as error:
            self._fail(error)
            return len(text)

    def flush(self) -> None:
        try:
            if self._stream is not None:
                self._stream.flush()
        except OSError as error:
            self._fail(error)

    def isatty(self) -> bool:
        try:
            return self._stream is not None and self._stream.isatty()
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


def guard_streams() -> None:
    """Put guarded streams in place of ``sys.stdout`` and ``sys.stderr`` (once)."""
    if not isinstance(sys.stdout, _Guarded):
        sys.stdout = _Guarded(sys.stdout, "standard output", quiet=False)  # type: ignore[assignment]
    if not isinstance(sys.stderr, _Guarded):
        sys.stderr = _Guarded(sys.stderr, "standard error", quiet=True)  # type: ignore[assignment]


def finish_output() -> None:
    """Flush standard output now, while a failure can still be reported (raises OutputError or BrokenPipeError)."""
    try:
        sys.stdout.flush()
    except OSError:
        silence_stdout()
        raise
    except OutputError:
        silence_stdout()
        raise


def silence_stdout() -> None:
    """Point standard output at the null device, so the interpreter's last flush at exit cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        if sys.__stdout__ is not None:
            os.dup2(devnull, sys.__stdout__.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
