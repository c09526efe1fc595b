"""Where datasets come from: lookup, cache, download and verification.

Lookup order for a dataset ``name`` (the first place that has all four files
wins):

1. ``data_dir`` (the ``--data_dir`` flag) or else ``$TFCNN_DATA_DIR``: the
   folder ``<dir>/<name>/`` if it exists, else ``<dir>/`` itself;
2. the user cache, ``$TFCNN_CACHE_DIR/<name>`` (default
   ``~/.cache/tfcnn/<name>``);
3. the system folders Debian uses (``apt-get install dataset-fashion-mnist``
   puts Fashion-MNIST in ``/usr/share/datasets/fashion-mnist``);
4. a download over HTTPS from the pinned mirrors into the cache.

``mnist_sample`` is package data and needs none of this.

Verification: a download must match a pinned SHA-256, either of the archive
as published or of its decompressed IDX content (Debian recompresses the
archives, so content is what stays the same); it is written to a temporary
file and renamed into place only when it matches, so the cache never holds a
partial or corrupt file. A file found on disk, wherever, is checked against
the same pins (archive or content; ``verify=False`` opts out for one's own
copy, and ``Dataset.verified`` records it), then parsed and checked (IDX
header, length, shapes, label range, counts). A corrupt file found on disk
is an error naming it — never a reason to look elsewhere or to fall back.
"""

import dataclasses
import hashlib
import importlib.resources
import ipaddress
import os
import pathlib
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
from absl import logging

from tfcnn.data import archives, idx
from tfcnn.errors import DataError

ROLES = ("train_images", "train_labels", "test_images", "test_labels")
_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
          "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


class DatasetUnavailable(DataError):
  """The dataset is nowhere on disk and could not be downloaded."""


@dataclasses.dataclass(frozen=True)
class FileInfo:
  """One of a dataset's four files and its pinned checksums."""
  name: str                          # as published, e.g. train-images-idx3-ubyte.gz
  sha256: str | None = None          # of the published archive
  content_sha256: str | None = None  # of the decompressed IDX bytes


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
  """What tfcnn knows about a dataset before it has any of its bytes."""
  name: str
  files: dict[str, FileInfo]
  num_train: int
  num_test: int
  class_names: tuple[str, ...]
  mirrors: tuple[str, ...] = ()
  system_dirs: tuple[str, ...] = ()
  packaged: bool = False
  reader: str = "idx"        # "idx": four IDX files; "emnist" / "cifar10": one archive
  split: str | None = None   # the EMNIST split read from the shared archive
  folder: str | None = None  # cache folder name, if shared (all EMNIST splits: "emnist")

  @property
  def folder_name(self) -> str:
    """The folder this dataset's files live in, under a data or cache root."""
    return self.folder or self.name


@dataclasses.dataclass(frozen=True)
class Dataset:
  """A dataset in memory: uint8 images ``[n, h, w]`` or ``[n, h, w, c]``, uint8 labels ``[n]``."""
  name: str
  source: str  # the folder (or "package:...") it was read from
  train_images: np.ndarray
  train_labels: np.ndarray
  test_images: np.ndarray
  test_labels: np.ndarray
  class_names: tuple[str, ...]
  verified: bool = True   # every file matched a pinned SHA-256

  @property
  def image_shape(self) -> tuple[int, int, int]:
    """``(height, width, channels)`` of one image as the model sees it."""
    shape = tuple(int(d) for d in self.train_images.shape[1:])
    return shape if len(shape) == 3 else (*shape, 1)


_DIGITS = tuple(str(d) for d in range(10))

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist", num_train=60000, num_test=10000, class_names=_DIGITS,
        files={
            "train_images": FileInfo("train-images-idx3-ubyte.gz", sha256="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            "train_labels": FileInfo("train-labels-idx1-ubyte.gz", sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            "test_images": FileInfo("t10k-images-idx3-ubyte.gz", sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            "test_labels": FileInfo("t10k-labels-idx1-ubyte.gz", sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        },
        mirrors=("https://storage.googleapis.com/cvdf-datasets/mnist/",
                 "https://ossci-datasets.s3.amazonaws.com/mnist/")),
    "fashion_mnist": DatasetInfo(
        name="fashion_mnist", num_train=60000, num_test=10000,
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        files={
            "train_images": FileInfo("train-images-idx3-ubyte.gz", content_sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
            "train_labels": FileInfo("train-labels-idx1-ubyte.gz", content_sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            "test_images": FileInfo("t10k-images-idx3-ubyte.gz", content_sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
            "test_labels": FileInfo("t10k-labels-idx1-ubyte.gz", content_sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        },
        mirrors=("https://storage.googleapis.com/tensorflow/tf-keras-datasets/",),
        system_dirs=("/usr/share/datasets/fashion-mnist",)),
    # KMNIST (Clanuwat et al. 2018): Kuzushiji, 10 hiragana classes, MNIST's layout.
    # Pins as published (the same as TensorFlow Datasets' url_checksums/kmnist.txt).
    "kmnist": DatasetInfo(
        name="kmnist", num_train=60000, num_test=10000,
        class_names=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
        files={
            "train_images": FileInfo("train-images-idx3-ubyte.gz", sha256="51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4"),
            "train_labels": FileInfo("train-labels-idx1-ubyte.gz", sha256="e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17"),
            "test_images": FileInfo("t10k-images-idx3-ubyte.gz", sha256="edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5"),
            "test_labels": FileInfo("t10k-labels-idx1-ubyte.gz", sha256="20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c"),
        },
        mirrors=("https://codh.rois.ac.jp/kmnist/dataset/kmnist/",)),
    # CIFAR-10, binary version (Krizhevsky 2009): 32x32 RGB. Pin as TFDS's url_checksums.
    "cifar10": DatasetInfo(
        name="cifar10", num_train=50000, num_test=10000, class_names=archives.CIFAR10_CLASSES,
        files={"archive": FileInfo("cifar-10-binary.tar.gz", sha256="c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd")},
        mirrors=("https://www.cs.toronto.edu/~kriz/",), reader="cifar10"),
    "mnist_sample": DatasetInfo(
        name="mnist_sample", num_train=8000, num_test=2000, class_names=_DIGITS,
        files={
            "train_images": FileInfo("train-images-idx3-ubyte.gz", sha256="71e0e0dd710ecd2d7ead1460d4a1e34f0fb4b851e0484e2a57540886058e2089"),
            "train_labels": FileInfo("train-labels-idx1-ubyte.gz", sha256="45f5f1ec777ab35eb8a2e7c57f7dd6cf548651dde096b111c31e6fd3f3d15373"),
            "test_images": FileInfo("t10k-images-idx3-ubyte.gz", sha256="47225405e2a4a602c42c5df218f9ed4cda114ce99977ea3f0a31b7c3d9daee3d"),
            "test_labels": FileInfo("t10k-labels-idx1-ubyte.gz", sha256="142624c8f3ae0e3d36afe21579bfa4ace627bd7f6f921be9d0f840452b0efde4"),
        },
        packaged=True),
}


# EMNIST (Cohen et al. 2017): every split comes from one 562 MB zip, shared in the cache.
_EMNIST_ZIP = FileInfo("gzip.zip", sha256="fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e")
_EMNIST_SIZES = {"balanced": (112800, 18800), "byclass": (697932, 116323),
                 "bymerge": (697932, 116323), "digits": (240000, 40000),
                 "letters": (124800, 20800), "mnist": (60000, 10000)}
for _split, (_train, _test) in _EMNIST_SIZES.items():
  DATASETS[f"emnist_{_split}"] = DatasetInfo(
      name=f"emnist_{_split}", num_train=_train, num_test=_test,
      class_names=archives.EMNIST_SPLITS[_split], files={"archive": _EMNIST_ZIP},
      mirrors=("https://biometrics.nist.gov/cs_links/EMNIST/",
               "https://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/"),
      reader="emnist", split=_split, folder="emnist")


def info(name: str) -> DatasetInfo:
  """The :class:`DatasetInfo` of `name`, or a DataError listing the known ones."""
  try:
    return DATASETS[name]
  except KeyError:
    raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def default_cache_dir() -> pathlib.Path:
  """``$TFCNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/tfcnn``, else ``~/.cache/tfcnn``."""
  if os.environ.get("TFCNN_CACHE_DIR"):
    return pathlib.Path(os.environ["TFCNN_CACHE_DIR"])
  base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
  return pathlib.Path(base) / "tfcnn"


def _find_file(folder: pathlib.Path, file: FileInfo) -> pathlib.Path | None:
  stem = file.name.removesuffix(".gz")
  for candidate in (folder / file.name, folder / stem):
    if candidate.is_file():
      return candidate
  return None


def _find_all(folder: pathlib.Path, dataset: DatasetInfo) -> dict[str, pathlib.Path] | None:
  """The four files in `folder`; None if none are there; error if only some."""
  found = {role: _find_file(folder, f) for role, f in dataset.files.items()}
  present = {r: p for r, p in found.items() if p is not None}
  if not present:
    return None
  if len(present) < len(found):
    missing = [dataset.files[r].name for r in found if r not in present]
    raise DataError(f"{folder}: incomplete {dataset.name}: missing {', '.join(missing)}")
  return present


def candidate_dirs(dataset: DatasetInfo, data_dir: str | None,
                   cache_dir: str | os.PathLike | None) -> list[pathlib.Path]:
  """The folders searched, in order (see the module docstring)."""
  dirs = []
  user_dir = data_dir or os.environ.get("TFCNN_DATA_DIR")
  if user_dir:
    root = pathlib.Path(user_dir).expanduser()
    sub = root / dataset.folder_name
    dirs += [sub, root] if sub.is_dir() else [root]
  dirs.append(pathlib.Path(cache_dir or default_cache_dir()) / dataset.folder_name)
  dirs += [pathlib.Path(d) for d in dataset.system_dirs]
  return dirs


def _check_url(url: str) -> None:
  """HTTPS only; plain HTTP is allowed for loopback hosts (tests, mirrors)."""
  parts = urllib.parse.urlsplit(url)
  if parts.scheme == "https":
    return
  if parts.scheme == "http":
    host = parts.hostname or ""
    try:
      if host == "localhost" or ipaddress.ip_address(host).is_loopback:
        return
    except ValueError:
      pass
  raise DataError(f"refusing to download {url}: only https:// (or http:// on "
                  "this machine's loopback) is allowed")


def _check_redirect(asked: str, final: str) -> None:
  """A redirect may not leave the mirror's host, nor HTTPS."""
  _check_url(final)
  if urllib.parse.urlsplit(final).hostname != urllib.parse.urlsplit(asked).hostname:
    raise DataError(f"refusing the download of {asked}: it was redirected to another host "
                    f"({final})")


def _matches_pin(path: pathlib.Path, file: FileInfo) -> bool:
  raw = path.read_bytes()
  if file.sha256 and hashlib.sha256(raw).hexdigest() == file.sha256:
    return True
  if file.content_sha256:
    content = idx.decompress(raw, str(path))
    return hashlib.sha256(content).hexdigest() == file.content_sha256
  return False


def download(name: str, cache_dir: str | os.PathLike | None = None,
             mirrors: tuple[str, ...] | None = None, timeout: float = 30.0) -> pathlib.Path:
  """Downloads the files of `name` that the cache lacks; returns the folder.

  Each file is streamed to a temporary file beside its final place, checked
  against its pinned SHA-256 and only then renamed into place.

  Raises:
    DatasetUnavailable: when no mirror could be reached.
    DataError: when a download fails its checksum (nothing is cached).
  """
  dataset = info(name)
  folder = pathlib.Path(cache_dir or default_cache_dir()) / dataset.folder_name
  folder.mkdir(parents=True, exist_ok=True)
  for file in dataset.files.values():
    target = folder / file.name
    if target.exists():
      continue
    errors = []
    for mirror in mirrors if mirrors is not None else dataset.mirrors:
      url = mirror.rstrip("/") + "/" + file.name
      _check_url(url)
      fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{file.name}.", suffix=".part")
      tmp = pathlib.Path(tmp)
      try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
          _check_redirect(url, r.geturl())
          while chunk := r.read(1 << 20):
            out.write(chunk)
        if not _matches_pin(tmp, file):
          raise DataError(f"download {url} does not match its pinned SHA-256; "
                          "the mirror is corrupt or was tampered with; nothing was cached")
        os.replace(tmp, target)
        break
      except (urllib.error.URLError, OSError, TimeoutError) as e:
        if isinstance(e, DataError):
          raise
        errors.append(f"{url}: {getattr(e, 'reason', e)}")
      finally:
        tmp.unlink(missing_ok=True)
    else:
      raise DatasetUnavailable(
          f"cannot download {dataset.name} ({'; '.join(errors) or 'no mirrors'})")
  return folder


def _validate(dataset: DatasetInfo, arrays: dict[str, np.ndarray], source: str) -> None:
  archive = dataset.files.get("archive")
  for split, count in (("train", dataset.num_train), ("test", dataset.num_test)):
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    where = f"{source}: {(archive or dataset.files[split + '_images']).name}"
    rank = 4 if dataset.reader == "cifar10" else 3   # RGB, or grey IDX
    if images.dtype != np.uint8 or images.ndim != rank:
      layout = "[n, height, width, channels]" if rank == 4 else "[n, height, width]"
      raise DataError(f"{where}: expected uint8 images {layout}, got "
                      f"{images.dtype} {list(images.shape)}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
      raise DataError(f"{source}: {(archive or dataset.files[split + '_labels']).name}: "
                      f"expected uint8 labels [n], got {labels.dtype} {list(labels.shape)}")
    if len(images) != len(labels):
      raise DataError(f"{source}: {split} has {len(images)} images but {len(labels)} labels")
    if len(images) != count:
      raise DataError(f"{where}: expected {count} {split} images for {dataset.name}, "
                      f"found {len(images)}")
    if labels.max(initial=0) >= len(dataset.class_names):
      raise DataError(f"{source}: {split} labels out of range: max "
                      f"{labels.max()} for {len(dataset.class_names)} classes")
  if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
    raise DataError(f"{source}: train and test images differ in size")


def read_folder(name: str, folder: str | os.PathLike, verify: bool = True) -> Dataset:
  """Reads and checks the dataset `name` from `folder`.

  Every file must match a pin of `name` (its archive as published, or its
  decompressed content): files of another dataset, or altered ones, are
  refused. Without `verify` (one's own copy of a dataset, say) the files
  are only parsed and checked for shape; ``Dataset.verified`` says which.

  Raises:
    DatasetUnavailable: if `folder` has none of its files.
    DataError: naming the file, if a file is incomplete, malformed, corrupt
      or matches no pin.
  """
  dataset = info(name)
  folder = pathlib.Path(folder)
  paths = _find_all(folder, dataset)
  if paths is None:
    raise DatasetUnavailable(f"{folder}: no {dataset.name} files")
  if dataset.reader != "idx":
    arrays = _read_archive(dataset, paths["archive"], verify)
    _validate(dataset, arrays, str(folder))
    return Dataset(name=dataset.name, source=str(folder), class_names=dataset.class_names,
                   verified=verify, **arrays)
  arrays = {}
  for role, path in paths.items():
    raw = path.read_bytes() if verify else b""
    data = idx.decompress(raw, str(path)) if verify else idx.read_bytes(path)
    if verify and not _pinned(raw, data, dataset.files[role]):
      raise DataError(f"{path}: matches none of the pinned SHA-256 sums of {dataset.name}'s "
                      f"{dataset.files[role].name}: the file is corrupt, altered or from another "
                      "dataset (to train on your own copy anyway, pass --verify_data=false; "
                      "results.json records it)")
    arrays[role] = idx.parse(data, str(path))
  _validate(dataset, arrays, str(folder))
  return Dataset(name=dataset.name, source=str(folder), class_names=dataset.class_names,
                 verified=verify, **arrays)


def _read_archive(dataset: DatasetInfo, path: pathlib.Path, verify: bool) -> dict:
  """The arrays of a one-archive dataset, the archive checked against its pin first."""
  try:
    raw = path.read_bytes()
  except OSError as e:
    raise DataError(f"{path}: cannot read: {e.strerror or e}") from None
  file = dataset.files["archive"]
  if verify and hashlib.sha256(raw).hexdigest() != file.sha256:
    raise DataError(f"{path}: does not match the pinned SHA-256 of {file.name}: the file is "
                    "corrupt, altered or another version (to train on your own copy anyway, "
                    "pass --verify_data=false; results.json records it)")
  if dataset.reader == "emnist":
    return archives.read_emnist(raw, dataset.split, str(path))
  return archives.read_cifar10(raw, str(path))


def _pinned(raw: bytes, content: bytes, file: FileInfo) -> bool:
  """Whether the archive `raw` or its decompressed `content` matches a pin of `file`."""
  return ((file.sha256 is not None and hashlib.sha256(raw).hexdigest() == file.sha256) or
          (file.content_sha256 is not None and
           hashlib.sha256(content).hexdigest() == file.content_sha256))


def packaged_dir(name: str = "mnist_sample") -> pathlib.Path:
  """The folder of a dataset shipped inside the package."""
  return pathlib.Path(str(importlib.resources.files("tfcnn.data") / name))


def load(name: str, data_dir: str | None = None,
         cache_dir: str | os.PathLike | None = None, download_ok: bool = True,
         mirrors: tuple[str, ...] | None = None, fallback_to_sample: bool = True,
         verify: bool = True) -> Dataset:
  """Finds (or downloads) and reads the dataset `name` (or ``npz:PATH``, one's own file).

  When ``mnist`` can be neither found nor downloaded and
  `fallback_to_sample` is set, the embedded ``mnist_sample`` is returned
  instead, with a prominent warning; ``Dataset.name`` says what was used.

  `verify=False` accepts files found on disk that match no pin (downloads
  are always checked).

  Raises:
    DataError: for an unknown name, a corrupt file (never a fallback), or a
      dataset that is nowhere to be had.
  """
  if name.startswith("npz:"):
    from tfcnn.data import arrays   # arrays builds on this module
    return arrays.load_npz(name[len("npz:"):], name=name)
  dataset = info(name)
  if dataset.packaged:
    return read_folder(name, packaged_dir(name))
  if data_dir and not pathlib.Path(data_dir).expanduser().is_dir():
    raise DataError(f"--data_dir {data_dir} is not a folder (mistyped?)")
  for folder in candidate_dirs(dataset, data_dir, cache_dir):
    if folder.is_dir() and _find_all(folder, dataset) is not None:
      return read_folder(name, folder, verify=verify)
  searched = ", ".join(map(str, candidate_dirs(dataset, data_dir, cache_dir)))
  try:
    if not download_ok:
      raise DatasetUnavailable("downloads are off")
    return read_folder(name, download(name, cache_dir, mirrors))
  except DatasetUnavailable as e:
    if name == "mnist" and fallback_to_sample:
      logging.warning(
          "\n%s\n!! MNIST is not available (not in %s; %s).\n!! FALLING BACK to the embedded "
          "mnist_sample: 8,000 train / 2,000 test real MNIST digits.\n"
          "!! Results are NOT comparable to full-MNIST results.\n%s", "!" * 72, searched, e,
          "!" * 72)
      return load("mnist_sample")
    raise DatasetUnavailable(f"{name} not found (searched {searched}) and {e}") from None
