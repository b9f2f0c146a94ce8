"""Reading scanned pages with Tesseract (the ``tesseract`` program): a page image in, positioned lines out."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterable

import numpy as np

from qa.errors import CorpusError
from qa.ingest.formats.layout import Box
from qa.settings import DEFAULT_OCR_LANGUAGE

DEFAULT_LANGUAGE = DEFAULT_OCR_LANGUAGE
DPI = 300  # what Tesseract is trained for; lower resolutions lose small print
TIMEOUT_SECONDS = 300  # one page; a page that takes longer is reported, not waited for
ENABLE_HINT = (
    "install Tesseract with `make ocr` (Debian/Ubuntu: `sudo apt-get install tesseract-ocr`), then build again"
)


class OcrFailed(Exception):
    """Tesseract could not read one page; the message says why."""


def tesseract() -> str | None:
    """The path of the ``tesseract`` program, or None when it is not installed."""
    return shutil.which("tesseract")


@functools.cache
def installed_languages(program: str) -> frozenset[str]:
    try:
        listing = subprocess.run([program, "--list-langs"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(line.strip() for line in listing.stdout.splitlines()[1:] if line.strip())


def check_language(language: str) -> None:
    """Raise CorpusError, saying how to install it, when Tesseract lacks ``language`` (``eng``, ``fra+eng``)."""
    program = tesseract()
    if program is None:
        return  # scanned pages are then reported as skipped, with ENABLE_HINT
    installed = installed_languages(program)
    missing = [code for code in language.split("+") if code not in installed]
    if missing:
        packages = " ".join(f"tesseract-ocr-{code.lower().replace('_', '-')}" for code in missing)
        raise CorpusError(
            f"Tesseract has no language data for {', '.join(missing)} (installed: {', '.join(sorted(installed))}). "
            f"Install it (Debian/Ubuntu: `sudo apt-get install {packages}`) or choose another OCR language.",
            option="ocr_language",
        )


def _pgm(pixels: np.ndarray) -> bytes:
    """A grey image as a binary PGM file, which Tesseract reads from standard input."""
    height, width = pixels.shape[:2]
    return b"P5\n%d %d\n255\n" % (width, height) + np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()


def recognise(pixels: np.ndarray, language: str = DEFAULT_LANGUAGE, dpi: int = DPI) -> list[Box]:
    """The text lines Tesseract finds in a grey page image, positioned in points (1/72 inch)."""
    program = tesseract()
    if program is None:
        raise OcrFailed("Tesseract is not installed")
    # One thread: Tesseract's own threads only slow it down on a machine shared with other work.
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(
            [program, "stdin", "stdout", "-l", language, "--dpi", str(dpi), "tsv"],
            input=_pgm(pixels),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            env=environment,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OcrFailed(f"Tesseract took more than {TIMEOUT_SECONDS} s on it") from None
    except OSError as error:
        raise OcrFailed(f"Tesseract could not be run ({error.strerror or error})") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrFailed(f"Tesseract failed ({detail[-1] if detail else f'exit code {done.returncode}'})")
    return lines_from_tsv(done.stdout.decode("utf-8", "replace").splitlines(), 72 / dpi)


def lines_from_tsv(rows: Iterable[str], scale: float) -> list[Box]:
    """One box per line of Tesseract's TSV output (its words joined), scaled from pixels by ``scale``."""
    lines: dict[tuple[str, str, str], list[tuple[int, int, int, int, str]]] = {}
    for row in rows:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue  # a header, a block/paragraph/line row, or an empty word
        left, top, width, height = (int(value) for value in cells[6:10])
        lines.setdefault((cells[2], cells[3], cells[4]), []).append((left, top, left + width, top + height, cells[11]))
    boxes = []
    for words in lines.values():
        boxes.append(
            Box(
                min(word[0] for word in words) * scale,
                min(word[1] for word in words) * scale,
                max(word[2] for word in words) * scale,
                max(word[3] for word in words) * scale,
                " ".join(word[4].strip() for word in words),
            )
        )
    return boxes
