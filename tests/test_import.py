"""`import qa` stays cheap: heavy libraries load only when an index is built or searched."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "sentence_transformers", "gradio", "faiss", "bm25s", "transformers", "numpy")


def test_import_qa_loads_no_heavy_library():
    code = f"import sys, qa; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_cli_help_loads_no_heavy_library():
    code = f"import sys\nfrom qa.serve.cli import _parser\n_parser().format_help()\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
