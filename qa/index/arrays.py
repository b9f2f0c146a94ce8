"""Row-major ``.npy`` files written a block of rows at a time and read back in blocks, without memory maps.

A streaming build does not know how many rows it will write, and must not hold them all:
:class:`NpyWriter` reserves a fixed-size header, appends rows, and writes the real header
(shape included) when it is closed — any reader of ``.npy`` files opens the result.
:class:`NpyReader` reads slices and chosen rows with plain file reads, so scanning a
1.5 GB ``vectors.npy`` holds one block in memory at a time instead of mapping (and keeping
resident) the whole file.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import numpy as np

HEADER_BYTES = 128  # magic, version, length and the padded header dict: room for any shape up to 10^15 rows
_MAGIC = b"\x93NUMPY\x01\x00"


def _header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    text = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}).encode("latin1")
    room = HEADER_BYTES - len(_MAGIC) - 2
    if len(text) + 1 > room:
        raise ValueError(f"shape {shape} does not fit a {HEADER_BYTES}-byte .npy header")
    return _MAGIC + struct.pack("<H", room) + text + b" " * (room - len(text) - 1) + b"\n"


class NpyWriter:
    """Append rows of ``row_shape`` and ``dtype`` to a new ``.npy`` file; :meth:`close` writes the shape."""

    def __init__(self, path: Path, dtype: np.dtype | type | str, row_shape: tuple[int, ...] = ()) -> None:
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.row_shape = tuple(row_shape)
        self.rows = 0
        self._handle = self.path.open("wb")
        self._handle.write(_header(self.dtype, (0, *self.row_shape)))

    def add(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        if rows.shape[1:] != self.row_shape:
            raise ValueError(f"rows of shape {rows.shape[1:]} added to a file of rows of shape {self.row_shape}")
        self._handle.write(rows.tobytes())
        self.rows += len(rows)

    def close(self) -> None:
        if self._handle.closed:
            return
        self._handle.seek(0)
        self._handle.write(_header(self.dtype, (self.rows, *self.row_shape)))
        self._handle.close()

    def __enter__(self) -> NpyWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class NpyReader:
    """Slices and chosen rows of a C-ordered ``.npy`` file, each read from disk when asked for."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with self.path.open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            self._offset = handle.tell()
        if fortran or not shape:
            raise ValueError(f"{self.path} is not a C-ordered array of rows")
        self.shape: tuple[int, ...] = tuple(shape)
        self.dtype = np.dtype(dtype)
        self._row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def _read(self, handle: int, start: int, count: int) -> np.ndarray:
        data = os.pread(handle, count * self._row_bytes, self._offset + start * self._row_bytes)
        return np.frombuffer(data, dtype=self.dtype).reshape((count, *self.shape[1:]))

    def __getitem__(self, index: slice | np.ndarray) -> np.ndarray:
        handle = os.open(self.path, os.O_RDONLY)
        try:
            if isinstance(index, slice):
                start, stop, step = index.indices(len(self))
                if step != 1:
                    raise IndexError("NpyReader reads contiguous slices only")
                return self._read(handle, start, max(0, stop - start))
            rows = np.asarray(index, dtype=np.int64)
            if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
                raise IndexError(f"rows outside 0..{len(self) - 1}")
            out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
            for position, row in enumerate(rows.tolist()):
                out[position] = self._read(handle, row, 1)[0]
            return out
        finally:
            os.close(handle)

    def blocks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, block) for consecutive blocks of at most ``rows`` rows."""
        for start in range(0, len(self), rows):
            yield start, self[start : start + rows]
