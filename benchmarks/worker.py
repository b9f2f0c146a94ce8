"""One benchmark task in a fresh process: ``python -m benchmarks.worker TASK '{json arguments}'``."""

from __future__ import annotations

import json
import logging
import os
import sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TASKS = {
    "prepare_models": ("benchmarks.build", "prepare_models"),
    "build": ("benchmarks.build", "build"),
    "rebuild": ("benchmarks.build", "rebuild"),
    "latency": ("benchmarks.query", "latency"),
    "rank_bm25": ("benchmarks.peers", "rank_bm25"),
    "plain_bm25s": ("benchmarks.peers", "plain_bm25s"),
    "txtai": ("benchmarks.peers", "txtai"),
    "model_cost": ("benchmarks.model_cost", "model_cost"),
    "duplicates": ("benchmarks.duplicates", "run"),
    "documents": ("benchmarks.documents", "run"),
    "engine_build": ("benchmarks.scale", "engine_build"),
    "backend_latency": ("benchmarks.scale", "backend_latency"),
    "real_encoding": ("benchmarks.real_model", "encoding"),
    "real_search": ("benchmarks.real_model", "search"),
    "real_build": ("benchmarks.real_model", "build"),
    "real_startup": ("benchmarks.real_model", "startup"),
}


def main() -> None:
    import importlib

    from benchmarks.measure import emit

    logging.disable(logging.WARNING)
    task, arguments = sys.argv[1], json.loads(sys.argv[2])
    module_name, function_name = TASKS[task]
    function = getattr(importlib.import_module(module_name), function_name)
    emit(function(**arguments))


if __name__ == "__main__":
    main()
