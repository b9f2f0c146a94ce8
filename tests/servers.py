"""app.py run as a real server process on a free loopback port, for tests (the load benchmark's launcher)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.load import App as Server  # noqa: E402


def lexical_app(corpus: Path, folder: Path, *extra: str, env: dict[str, str] | None = None) -> Server:
    """A keyword-only index of ``corpus`` built in ``folder``/index, served by app.py (logging to
    ``folder``/app.log, with ``env`` added to its environment); use it as a context manager, which
    stops the server."""
    from qa.index.build import build_index

    build_index(corpus, folder / "index", model="none")
    return Server(folder / "index", corpus, folder / "app.log", *extra, env=env)


__all__ = ["ROOT", "Server", "lexical_app"]
