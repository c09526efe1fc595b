"""The IDX reader on good and malformed files."""

import gzip
import struct

import numpy as np
import pytest

from tfcnn.data import idx
from tfcnn.errors import DataError


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("array", [
    np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
    np.array([1, 2, 250], np.uint8),
    np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3),
    np.array([-5, 7], np.int32),
])
def test_round_trip(tmp_path, compress, array):
  path = tmp_path / ("a.idx.gz" if compress else "a.idx")
  idx.write(path, array)
  back = idx.read(path)
  assert back.dtype == array.dtype and back.shape == array.shape
  np.testing.assert_array_equal(back, array)


def test_header_layout_is_mnists():
  data = idx.encode(np.zeros((2, 28, 28), np.uint8))
  assert data[:4] == b"\x00\x00\x08\x03"
  assert struct.unpack(">3I", data[4:16]) == (2, 28, 28)
  assert len(data) == 16 + 2 * 28 * 28


def test_reads_the_shipped_sample():
  from tfcnn.data import sources
  images = idx.read(sources.packaged_dir() / "t10k-images-idx3-ubyte.gz")
  assert images.shape == (2000, 28, 28) and images.dtype == np.uint8


GOOD = idx.encode(np.zeros((2, 3, 3), np.uint8))


@pytest.mark.parametrize("data,message", [
    (b"\x00\x00", "too short for an IDX header"),
    (b"\x12\x34\x08\x01" + b"\x00" * 8, "bad IDX magic number 0x12340801"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown IDX dtype code 0x07"),
    (b"\x00\x00\x08\x00", "declares 0 dimensions"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
    (GOOD[:-1], "truncated: dimensions [2, 3, 3] need 34 bytes, file has 33"),
    (GOOD + b"\x00", "has trailing bytes"),
])
def test_malformed_files_name_the_file_and_the_problem(tmp_path, data, message):
  path = tmp_path / "bad-idx3-ubyte"
  path.write_bytes(data)
  with pytest.raises(DataError) as error:
    idx.read(path)
  assert str(path) in str(error.value) and message in str(error.value)


def test_corrupt_gzip_is_named(tmp_path):
  path = tmp_path / "x.gz"
  path.write_bytes(gzip.compress(GOOD)[:-10])
  with pytest.raises(DataError, match=f"{path}: corrupt gzip data"):
    idx.read(path)


def test_missing_file_is_named(tmp_path):
  with pytest.raises(DataError, match="nothere.gz: cannot read"):
    idx.read(tmp_path / "nothere.gz")


def test_dimensions_whose_product_overflows_are_a_data_error():
  header = struct.pack(">HBB3I", 0, 0x08, 3, 2**22, 2**21, 2**21)
  with pytest.raises(DataError, match="truncated"):
    idx.parse(header + b"\0" * 16, "huge.idx")
