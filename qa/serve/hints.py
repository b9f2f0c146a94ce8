"""Errors as the CLI and the page say them: the library's message, then its remedy worded with our commands
and flags. The library never names a flag (qa.errors); this is the one place that does."""

from __future__ import annotations

import shlex
from pathlib import Path

from qa.errors import QAError, Remedy

DEFAULT_INDEX = "index"


def rebuild_hint(index_dir: Path | str | None = None) -> str:
    """How to rebuild an index, as a command to type."""
    return f"Rebuild it with `{build_command(index_dir)}`."


def build_command(index_dir: Path | str | None = None) -> str:
    folder = str(index_dir) if index_dir is not None else DEFAULT_INDEX
    return f"qa build --index {shlex.quote(folder)}"


def remedy_words(error: QAError, index_dir: Path | str | None = None) -> str:
    """The error's remedy in the words of our commands; ``index_dir`` is the index the user named."""
    folder = index_dir if index_dir is not None else error.path
    quoted = shlex.quote(str(error.path if error.path is not None else DEFAULT_INDEX))
    words = {
        Remedy.BUILD: f"Build one with `{build_command(folder)}`.",
        Remedy.BUILD_FROM_CORPUS: f"Give the index folder, or build one from it with `qa build --corpus {quoted} "
        "--index index`.",
        Remedy.GIVE_INDEX_FOLDER: "Give the folder `qa build` wrote the index to.",
        Remedy.REBUILD: rebuild_hint(index_dir),
        Remedy.REBUILD_WITH_MODEL: f"Rebuild it with `{build_command(index_dir)} --model {quoted}`.",
        Remedy.UPGRADE: f"Upgrade qa, or rebuild it with `{build_command(index_dir)}`.",
        Remedy.CHECK_PERMISSIONS: "Check the index folder's permissions, or r" + rebuild_hint(index_dir)[1:],
        Remedy.OTHER_INDEX_FOLDER: "Choose another folder with --index.",
        Remedy.MOVE_OUT: "Move them out of it, or choose another folder with --index.",
        Remedy.FIX_LINK: "Point it at a folder, or choose another --index.",
        Remedy.FREE_SPACE: "Free space or fix permissions, or choose another folder with --index.",
        Remedy.NAME_MODEL: "Name one with --model, or leave out --require-dense.",
        Remedy.TRAIN_LONGER: "Give it more time with --train-seconds.",
    }
    return words[error.remedy] if error.remedy is not None else ""


def error_line(error: QAError, index_dir: Path | str | None = None) -> str:
    """One line for a person: what is wrong, and what to do about it with our commands."""
    remedy = remedy_words(error, index_dir)
    return f"{error.message} {remedy}" if remedy else error.message
