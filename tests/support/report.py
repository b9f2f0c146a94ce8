"""What a test run tried (faults injected, hostile inputs), printed once at its end by conftest's
``pytest_terminal_summary`` rather than by a test that has to run last."""

from __future__ import annotations

from collections import Counter

LINES: dict[str, list[str]] = {}  # section title → one line per thing tried
COUNTS: dict[str, Counter[str]] = {}  # section title → how often each kind was tried


def note(section: str, line: str) -> None:
    LINES.setdefault(section, []).append(line)


def count(section: str, kind: str) -> None:
    COUNTS.setdefault(section, Counter())[kind] += 1


def summary() -> list[str]:
    """The report's lines (none when nothing was tried)."""
    lines = []
    for section, tried in LINES.items():
        lines += [f"{section} this run: {len(tried)}", *(f"  - {line}" for line in tried)]
    for section, kinds in COUNTS.items():
        lines.append(f"{section} this run: {sum(kinds.values())} {dict(sorted(kinds.items()))}")
    return lines
