"""Cold start: `import qa`, and process start → first answer, with the index load split from the model load.

"Cold" means a new process; the operating system's file cache is left as it is (dropping it
would disturb everyone else on the machine), so index files read recently come from memory.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.build import bge_model_dir, size_dir
from benchmarks.data import load_questions

_BREAKDOWN = r"""
import json, sys, time
started = time.perf_counter()
import qa
imported = time.perf_counter()
from qa.search.retriever import Retriever
from qa.search.backend import open_backend
from qa.search.opening import load_index_encoder
from qa.index.catalog import Catalog
from qa.index.store import open_manifest
libraries = time.perf_counter()
index_dir, model_dir, question = sys.argv[1], sys.argv[2], sys.argv[3]
from pathlib import Path
index_dir = Path(index_dir)
from qa.index.integrity import check_files
from qa.index.manifest import Manifest
t = time.perf_counter()
manifest = open_manifest(index_dir)
opened = time.perf_counter()
catalog = Catalog.load(index_dir, manifest.passages, manifest.articles)
backend = open_backend(index_dir, manifest, catalog)
index_seconds = time.perf_counter() - t
open_manifest_seconds = opened - t
# The same checks again, split: reading the manifest (its own checksum) and the per-file checksums.
t = time.perf_counter()
Manifest.read(index_dir)
manifest_read_seconds = time.perf_counter() - t
t = time.perf_counter()
hashed = check_files(index_dir, manifest.files)
checksum_seconds = time.perf_counter() - t
t = time.perf_counter()
import sentence_transformers
model_library_seconds = time.perf_counter() - t
t = time.perf_counter()
encoder = load_index_encoder(manifest.model, index_dir)
model_seconds = time.perf_counter() - t
t = time.perf_counter()
from qa.models.encoder import load_encoder
real_shape = load_encoder(model_dir)
real_model_seconds = time.perf_counter() - t
retriever = Retriever(index_dir, manifest, catalog, backend, encoder)
t = time.perf_counter()
answer = retriever.ask(question, k=5)
first_answer = time.perf_counter() - t
print(json.dumps({
    "import_qa": imported - started,
    "import_libraries": libraries - imported,
    "open_index": index_seconds,
    "open_manifest_with_checks": open_manifest_seconds,
    "manifest_read": manifest_read_seconds,
    "file_checksums": checksum_seconds,
    "import_sentence_transformers": model_library_seconds,
    "load_stand_in_model": model_seconds,
    "load_bge_shaped_model": real_model_seconds,
    "first_answer": first_answer,
    "hits": len(answer.hits),
    "files_hashed_in_full": hashed,
    "files_checked": len(manifest.files),
    "index_bytes": sum(record["bytes"] for record in manifest.files.values()),
}))
"""


def import_qa(runs: int = 7) -> dict[str, Any]:
    """`import qa` in a new interpreter: the import alone, and the whole `python -c "import qa"` process."""
    inner, whole = [], []
    code = "import time; t = time.perf_counter(); import qa; print(time.perf_counter() - t)"
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        whole.append(time.perf_counter() - started)
        inner.append(float(completed.stdout.strip()))
    return {
        "import_seconds_median": round(statistics.median(inner), 4),
        "process_seconds_median": round(statistics.median(whole), 4),
    }


def first_answer(work: str, passages: int, runs: int = 3) -> dict[str, Any]:
    """Wall time of `python -m qa ask QUESTION --index …` from process start to the printed answer."""
    index_dir = size_dir(Path(work), passages) / "index"
    question = load_questions(limit=1)[0]
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "qa", "ask", question, "--index", str(index_dir), "-k", "5"],
            capture_output=True,
            text=True,
            check=True,
        )
        durations.append(time.perf_counter() - started)
    breakdown = subprocess.run(
        [sys.executable, "-c", _BREAKDOWN, str(index_dir), str(bge_model_dir(Path(work))), question],
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    parts = {name: round(value, 3) for name, value in json.loads(breakdown.stdout.strip().splitlines()[-1]).items()}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "qa", "info", "--index", str(index_dir), "--verify"], capture_output=True, check=True
    )
    verify_all = time.perf_counter() - started
    return {
        "passages": passages,
        "process_to_answer_seconds": [round(value, 3) for value in durations],
        "process_to_answer_median": round(statistics.median(durations), 3),
        "breakdown_seconds": parts,
        "qa_info_verify_seconds": round(verify_all, 3),  # a new process hashing every file in full
    }
