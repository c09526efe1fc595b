"""EMNIST, KMNIST and CIFAR-10: synthetic files of the real formats, served on 127.0.0.1.

The real archives cannot be fetched here; these tests exercise the same
code (lookup, download, pin check, reader) on files built byte for byte in
the published layouts, with small counts and pins of the synthetic bytes.
"""

import dataclasses
import gzip
import hashlib
import io
import tarfile
import zipfile

import numpy as np
import pytest

from tests.data import fake_datasets as fake
from tfcnn import data
from tfcnn.data import archives, idx, sources
from tfcnn.errors import DataError


def _emnist_zip(split: str, train: int, test: int, first_label: int = 0) -> tuple[bytes, dict]:
  rng = np.random.default_rng(0)
  classes = len(archives.EMNIST_SPLITS[split])
  upright = {p: rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
             for p, n in (("train", train), ("test", test))}
  labels = {p: rng.integers(first_label, first_label + classes, n, dtype=np.uint8)
            for p, n in (("train", train), ("test", test))}
  buffer = io.BytesIO()
  with zipfile.ZipFile(buffer, "w") as z:
    for part in ("train", "test"):   # EMNIST stores images transposed
      z.writestr(f"gzip/emnist-{split}-{part}-images-idx3-ubyte.gz",
                 gzip.compress(idx.encode(upright[part].transpose(0, 2, 1).copy())))
      z.writestr(f"gzip/emnist-{split}-{part}-labels-idx1-ubyte.gz",
                 gzip.compress(idx.encode(labels[part])))
  return buffer.getvalue(), {"upright": upright, "labels": labels}


def _serve_as(monkeypatch, name: str, folder, raw_name: str, raw: bytes, train: int, test: int):
  (folder / raw_name).write_bytes(raw)
  pinned = dataclasses.replace(
      sources.DATASETS[name], num_train=train, num_test=test,
      files={"archive": sources.FileInfo(raw_name, sha256=hashlib.sha256(raw).hexdigest())})
  monkeypatch.setitem(sources.DATASETS, name, pinned)
  monkeypatch.delenv("TFCNN_DATA_DIR", raising=False)


def test_emnist_downloads_once_for_all_splits_and_comes_back_upright(tmp_path, monkeypatch):
  raw, truth = _emnist_zip("letters", 30, 10, first_label=1)
  mirror = tmp_path / "mirror"
  mirror.mkdir()
  _serve_as(monkeypatch, "emnist_letters", mirror, "gzip.zip", raw, 30, 10)
  with fake.http_server(mirror) as url:
    ds = data.load("emnist_letters", cache_dir=tmp_path / "cache", mirrors=(url,))
  np.testing.assert_array_equal(ds.train_images, truth["upright"]["train"])
  np.testing.assert_array_equal(ds.test_labels, truth["labels"]["test"] - 1)   # 1..26 -> 0..25
  assert ds.class_names[0] == "A/a" and ds.image_shape == (28, 28, 1)
  assert (tmp_path / "cache" / "emnist" / "gzip.zip").exists()   # shared by every split


def test_emnist_archive_of_another_version_or_missing_a_split_is_refused(tmp_path, monkeypatch):
  raw, _ = _emnist_zip("digits", 20, 10)
  folder = tmp_path / "data"
  folder.mkdir()
  _serve_as(monkeypatch, "emnist_digits", folder, "gzip.zip", raw, 20, 10)
  (folder / "gzip.zip").write_bytes(raw[:-1] + b"x")
  with pytest.raises(DataError, match="does not match the pinned SHA-256 of gzip.zip"):
    data.load("emnist_digits", data_dir=str(folder), download_ok=False)
  with pytest.raises(DataError, match="has no member gzip/emnist-balanced-train-images"):
    archives.read_emnist(raw, "balanced")


def _cifar_tar(per_batch: int, rng) -> tuple[bytes, np.ndarray, np.ndarray]:
  images = rng.integers(0, 256, (6 * per_batch, 32, 32, 3), dtype=np.uint8)
  labels = rng.integers(0, 10, 6 * per_batch, dtype=np.uint8)
  buffer = io.BytesIO()
  with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for b, name in enumerate(names):
      part = slice(b * per_batch, (b + 1) * per_batch)
      planes = images[part].transpose(0, 3, 1, 2).reshape(per_batch, -1)   # R, G, B planes
      records = np.concatenate([labels[part, None], planes], axis=1).tobytes()
      info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
      info.size = len(records)
      tar.addfile(info, io.BytesIO(records))
  return buffer.getvalue(), images, labels


def test_cifar10_records_become_rgb_images_in_the_right_channel_order(tmp_path, monkeypatch):
  raw, images, labels = _cifar_tar(4, np.random.default_rng(1))
  mirror = tmp_path / "mirror"
  mirror.mkdir()
  _serve_as(monkeypatch, "cifar10", mirror, "cifar-10-binary.tar.gz", raw, 20, 4)
  with fake.http_server(mirror) as url:
    ds = data.load("cifar10", cache_dir=tmp_path / "cache", mirrors=(url,))
  np.testing.assert_array_equal(ds.train_images, images[:20])
  np.testing.assert_array_equal(ds.test_labels, labels[20:])
  assert ds.image_shape == (32, 32, 3) and ds.class_names[-1] == "truck"


def test_malformed_cifar10_records_are_named():
  rng = np.random.default_rng(2)
  raw, _, _ = _cifar_tar(2, rng)
  with pytest.raises(DataError, match="not a tar.gz"):
    archives.read_cifar10(b"not an archive")
  bad = io.BytesIO()
  with tarfile.open(fileobj=bad, mode="w:gz") as tar:
    info = tarfile.TarInfo("cifar-10-batches-bin/data_batch_1.bin")
    info.size = 100
    tar.addfile(info, io.BytesIO(bytes(100)))
  with pytest.raises(DataError, match="not a whole number of 3073-byte"):
    archives.read_cifar10(bad.getvalue())
  with pytest.raises(DataError, match="label 200 out of range"):
    archives._cifar_records(bytes([200]) + bytes(3072), "batch")


def test_kmnist_reads_like_mnist_from_its_pinned_https_mirror(tmp_path, monkeypatch):
  kmnist = sources.DATASETS["kmnist"]
  assert all(f.sha256 for f in kmnist.files.values())
  assert all(m.startswith("https://") for m in kmnist.mirrors)
  arrays = fake.make_arrays()
  folder = fake.write_folder(tmp_path / "mirror", arrays)
  pinned = fake.info_for("kmnist", folder, 40, 20)
  monkeypatch.setitem(sources.DATASETS, "kmnist",
                      dataclasses.replace(pinned, class_names=kmnist.class_names))
  with fake.http_server(folder) as url:
    ds = data.load("kmnist", cache_dir=tmp_path / "cache", mirrors=(url,))
  np.testing.assert_array_equal(ds.train_images, arrays["train_images"])
  assert ds.class_names[0] == "o"


def test_every_registered_archive_is_pinned_and_fetched_over_https():
  for name, dataset in sources.DATASETS.items():
    if dataset.packaged:
      continue
    assert dataset.mirrors and all(m.startswith("https://") for m in dataset.mirrors), name
    assert all(f.sha256 or f.content_sha256 for f in dataset.files.values()), name
