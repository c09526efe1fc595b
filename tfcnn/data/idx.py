"""The IDX file format of MNIST (LeCun et al.), gzip'd or raw.

Layout: two zero bytes, a dtype code, the number of dimensions ``n``, then
``n`` big-endian uint32 sizes, then the data, big-endian, row-major.
"""

import gzip
import math
import os
import struct
import zlib

import numpy as np

from tfcnn.errors import DataError

_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
           0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {np.dtype(dt).newbyteorder("="): code for code, dt in _DTYPES.items()}


def read_bytes(path: str | os.PathLike) -> bytes:
  """The decompressed bytes of `path` (gzip is detected by its magic)."""
  try:
    with open(path, "rb") as f:
      raw = f.read()
  except OSError as e:
    raise DataError(f"{path}: cannot read: {e.strerror or e}") from None
  return decompress(raw, str(path))


def decompress(raw: bytes, source: str = "<bytes>") -> bytes:
  """`raw` gunzipped if it is gzip data (by its magic), else `raw` itself."""
  if raw[:2] == b"\x1f\x8b":
    try:
      return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
      raise DataError(f"{source}: corrupt gzip data ({e})") from None
  return raw


def parse(data: bytes, source: str = "<bytes>") -> np.ndarray:
  """Parses IDX `data` into an array (native byte order), checking everything.

  Raises:
    DataError: naming `source` and what is wrong: the magic number, the dtype
      code, the dimensions or the length.
  """
  if len(data) < 4:
    raise DataError(f"{source}: too short for an IDX header ({len(data)} bytes)")
  zero, code, ndim = struct.unpack(">HBB", data[:4])
  if zero != 0:
    raise DataError(f"{source}: bad IDX magic number 0x{data[:4].hex()} "
                    "(must start with two zero bytes); not an IDX file?")
  if code not in _DTYPES:
    raise DataError(f"{source}: unknown IDX dtype code 0x{code:02x}")
  if ndim == 0:
    raise DataError(f"{source}: IDX file declares 0 dimensions")
  header = 4 + 4 * ndim
  if len(data) < header:
    raise DataError(f"{source}: truncated IDX header ({len(data)} bytes, "
                    f"{ndim} dimensions need {header})")
  dims = struct.unpack(f">{ndim}I", data[4:header])
  dtype = _DTYPES[code]
  expected = header + math.prod(dims) * dtype.itemsize   # Python ints: no overflow
  if len(data) != expected:
    what = "truncated" if len(data) < expected else "has trailing bytes"
    raise DataError(f"{source}: {what}: dimensions {list(dims)} need "
                    f"{expected} bytes, file has {len(data)}")
  array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
  return array.astype(dtype.newbyteorder("="))


def read(path: str | os.PathLike) -> np.ndarray:
  """Reads the IDX file at `path` (gzip'd or raw). See :func:`parse`."""
  return parse(read_bytes(path), str(path))


def encode(array: np.ndarray) -> bytes:
  """The IDX bytes of `array` (the inverse of :func:`parse`)."""
  array = np.asarray(array)
  code = _CODES.get(array.dtype.newbyteorder("="))
  if code is None:
    raise ValueError(f"dtype {array.dtype} has no IDX code")
  header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
  return header + array.astype(_DTYPES[code]).tobytes()


def write(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
  """Writes `array` as IDX; gzip'd if `compress` (default: path ends .gz)."""
  data = encode(array)
  if compress if compress is not None else str(path).endswith(".gz"):
    data = gzip.compress(data, mtime=0)
  with open(path, "wb") as f:
    f.write(data)
