"""Readers for datasets published as one archive: EMNIST (a zip of IDX files)
and CIFAR-10 (its binary version, a tar.gz of fixed-size records).

Both take the archive's bytes (already checked against its pinned SHA-256
by :mod:`tfcnn.data.sources`) and return the four arrays
``train_images, train_labels, test_images, test_labels``, checking every
member they read: present, the right size, labels in range. A malformed
archive is a :class:`~tfcnn.errors.DataError` naming the member.
"""

import io
import tarfile
import zipfile

import numpy as np

from tfcnn.data import idx
from tfcnn.errors import DataError

# EMNIST splits: classes in label order (Cohen et al. 2017, the dataset's mapping files).
_DIGITS = tuple("0123456789")
_UPPER = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_MERGED_LOWER = tuple("abdefghnqrt")   # the lower-case letters not merged with upper case
EMNIST_SPLITS: dict[str, tuple[str, ...]] = {
    "balanced": _DIGITS + _UPPER + _MERGED_LOWER,
    "bymerge": _DIGITS + _UPPER + _MERGED_LOWER,
    "byclass": _DIGITS + _UPPER + tuple("abcdefghijklmnopqrstuvwxyz"),
    "digits": _DIGITS,
    "letters": tuple(f"{u}/{u.lower()}" for u in _UPPER),
    "mnist": _DIGITS,
}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
_CIFAR_RECORD = 1 + 32 * 32 * 3
_CIFAR_MEMBERS = {"train": [f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)],
                  "test": ["cifar-10-batches-bin/test_batch.bin"]}


def read_emnist(raw: bytes, split: str, source: str = "<emnist zip>") -> dict[str, np.ndarray]:
  """The EMNIST `split` from the bytes of ``gzip.zip`` as NIST publishes it.

  Members ``gzip/emnist-<split>-{train,test}-{images-idx3,labels-idx1}-ubyte.gz``.
  EMNIST stores each image transposed; they are returned upright. The
  ``letters`` split labels its classes 1–26; they are returned as 0–25.
  """
  if split not in EMNIST_SPLITS:
    raise DataError(f"unknown EMNIST split {split!r}; known: {', '.join(EMNIST_SPLITS)}")
  try:
    archive = zipfile.ZipFile(io.BytesIO(raw))
  except zipfile.BadZipFile as e:
    raise DataError(f"{source}: not a zip archive ({e})") from None
  arrays = {}
  with archive:
    for part in ("train", "test"):
      for role, kind in (("images", "images-idx3"), ("labels", "labels-idx1")):
        member = f"gzip/emnist-{split}-{part}-{kind}-ubyte.gz"
        try:
          data = archive.read(member)
        except KeyError:
          raise DataError(f"{source}: has no member {member}") from None
        arrays[f"{part}_{role}"] = idx.parse(idx.decompress(data, member), f"{source}:{member}")
  for part in ("train", "test"):
    images = arrays[f"{part}_images"]
    if images.ndim == 3:
      arrays[f"{part}_images"] = np.ascontiguousarray(images.transpose(0, 2, 1))
    if split == "letters":
      labels = arrays[f"{part}_labels"]
      if len(labels) and labels.min() < 1:
        raise DataError(f"{source}: EMNIST letters labels must start at 1")
      arrays[f"{part}_labels"] = (labels - 1).astype(np.uint8)
  return arrays


def _cifar_records(data: bytes, member: str) -> tuple[np.ndarray, np.ndarray]:
  if len(data) % _CIFAR_RECORD:
    raise DataError(f"{member}: {len(data)} bytes is not a whole number of "
                    f"{_CIFAR_RECORD}-byte CIFAR-10 records")
  records = np.frombuffer(data, np.uint8).reshape(-1, _CIFAR_RECORD)
  labels = records[:, 0].copy()
  if len(labels) and labels.max() >= len(CIFAR10_CLASSES):
    raise DataError(f"{member}: label {labels.max()} out of range for 10 classes")
  images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)   # CHW -> HWC
  return np.ascontiguousarray(images), labels


def read_cifar10(raw: bytes, source: str = "<cifar-10-binary.tar.gz>") -> dict[str, np.ndarray]:
  """CIFAR-10 from the bytes of ``cifar-10-binary.tar.gz`` (32x32 RGB, 10 classes).

  Each member ``cifar-10-batches-bin/*.bin`` is a run of 3,073-byte
  records: a label byte, then 1,024 red, 1,024 green and 1,024 blue bytes,
  each plane row by row.
  """
  try:
    archive = tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz")
  except (tarfile.TarError, OSError, EOFError) as e:
    raise DataError(f"{source}: not a tar.gz archive ({e})") from None
  arrays = {}
  with archive:
    for part, members in _CIFAR_MEMBERS.items():
      images, labels = [], []
      for member in members:
        try:
          handle = archive.extractfile(member)
        except KeyError:
          handle = None
        if handle is None:
          raise DataError(f"{source}: has no member {member}")
        x, y = _cifar_records(handle.read(), f"{source}:{member}")
        images.append(x)
        labels.append(y)
      arrays[f"{part}_images"] = np.concatenate(images)
      arrays[f"{part}_labels"] = np.concatenate(labels)
  return arrays
