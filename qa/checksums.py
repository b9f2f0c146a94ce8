"""sha256 of files, read in blocks: what index integrity and model verification both compute.

A shared base module (imports nothing from qa), so the model stage can verify weights
without depending on the index stage.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

BLOCK = 1 << 20


def sha256_file(path: Path, also: Any = None) -> str:
    """The sha256 hex digest of ``path``'s bytes; ``also`` (another hashlib object), when given, is fed them too."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            digest.update(block)
            if also is not None:
                also.update(block)
    return digest.hexdigest()
