"""app.py run as a real server process on a free loopback port, for tests (the load benchmark's launcher)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.load import App as Server  # noqa: E402

__all__ = ["ROOT", "Server"]
