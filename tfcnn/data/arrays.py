"""Datasets from one's own arrays: in memory, or an ``.npz`` file.

Images are uint8, ``[n, height, width]`` (grey) or ``[n, height, width,
channels]``; labels are integers ``0 … k-1`` (k ≤ 256 classes). Any size,
channel count and class count that fit the model train: the model's input
shape and class count follow the data (:attr:`Dataset.image_shape`).

An ``.npz`` file holds ``x_train, y_train, x_test, y_test`` (Keras's names)
or ``train_images, train_labels, test_images, test_labels``, and optionally
``class_names`` (strings). It is read with ``allow_pickle=False``: an npz
is data, never code. The scripts take it as ``--dataset=npz:PATH``.
"""

import os
import pathlib
from typing import Sequence

import numpy as np

from tfcnn.data.sources import Dataset
from tfcnn.errors import DataError

NPZ_PREFIX = "npz:"
_KEYS = (("x_train", "y_train", "x_test", "y_test"),
         ("train_images", "train_labels", "test_images", "test_labels"))


def _images(array: np.ndarray, where: str) -> np.ndarray:
  array = np.asarray(array)
  if array.dtype != np.uint8:
    raise DataError(f"{where}: images must be uint8 (0-255), got {array.dtype}; scale and "
                    "round them first, e.g. (x * 255).round().astype('uint8')")
  if array.ndim not in (3, 4) or 0 in array.shape:
    raise DataError(f"{where}: images must be [n, height, width] or [n, height, width, "
                    f"channels], got shape {list(array.shape)}")
  return array


def _labels(array: np.ndarray, count: int, where: str) -> np.ndarray:
  array = np.asarray(array)
  if array.ndim == 2 and array.shape[1] == 1:
    array = array[:, 0]
  if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
    raise DataError(f"{where}: labels must be integers [n], got {array.dtype} "
                    f"{list(array.shape)}")
  if len(array) != count:
    raise DataError(f"{where}: {count} images but {len(array)} labels")
  if len(array) and (array.min() < 0 or array.max() > 255):
    raise DataError(f"{where}: labels must lie in 0..255 (at most 256 classes), got "
                    f"{array.min()}..{array.max()}")
  return array.astype(np.uint8)


def from_arrays(train_images: np.ndarray, train_labels: np.ndarray, test_images: np.ndarray,
                test_labels: np.ndarray, class_names: Sequence[str] | None = None,
                name: str = "arrays", source: str = "memory") -> Dataset:
  """A :class:`Dataset` from uint8 image and integer label arrays (see the module docstring).

  Raises:
    DataError: naming what is wrong (dtype, shape, count, label range, train and
      test images of different sizes, labels beyond the class names).
  """
  train_x, test_x = _images(train_images, "train"), _images(test_images, "test")
  if train_x.shape[1:] != test_x.shape[1:]:
    raise DataError(f"train images are {list(train_x.shape[1:])} but test images are "
                    f"{list(test_x.shape[1:])}")
  train_y = _labels(train_labels, len(train_x), "train")
  test_y = _labels(test_labels, len(test_x), "test")
  classes = int(max(train_y.max(initial=0), test_y.max(initial=0))) + 1
  if class_names is None:
    class_names = tuple(str(c) for c in range(classes))
  class_names = tuple(str(c) for c in class_names)
  if len(class_names) < classes:
    raise DataError(f"labels go up to {classes - 1} but only {len(class_names)} class names "
                    "were given")
  return Dataset(name=name, source=source, train_images=train_x, train_labels=train_y,
                 test_images=test_x, test_labels=test_y, class_names=class_names,
                 verified=False)


def load_npz(path: str | os.PathLike, name: str | None = None) -> Dataset:
  """The dataset in the ``.npz`` file `path` (see the module docstring).

  Raises:
    DataError: if the file is missing, not an npz, needs pickling, or its
      arrays are wrong.
  """
  path = pathlib.Path(path).expanduser()
  if not path.is_file():
    raise DataError(f"{path}: no such npz file")
  try:
    with np.load(path, allow_pickle=False) as npz:
      keys = next((k for k in _KEYS if set(k) <= set(npz.files)), None)
      if keys is None:
        raise DataError(f"{path}: needs arrays {', '.join(_KEYS[0])} (or "
                        f"{', '.join(_KEYS[1])}); it has {', '.join(npz.files) or 'none'}")
      arrays = [npz[k] for k in keys]
      names = npz["class_names"].tolist() if "class_names" in npz.files else None
  except (ValueError, OSError) as e:   # not a zip, or object arrays (pickles) refused
    raise DataError(f"{path}: not a readable npz of plain arrays ({e})") from None
  return from_arrays(*arrays, class_names=names, name=name or f"{NPZ_PREFIX}{path}",
                     source=str(path))
