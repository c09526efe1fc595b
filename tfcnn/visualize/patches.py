"""Top-activating patches (Zeiler & Fergus 2014): the input crops a filter likes most.

For each filter of a spatial layer, the `k` (image, row, column) positions
of its map with the highest activation over a set of images, and the
receptive-field crop of the input behind each — geometry from
:mod:`tfcnn.geometry` (receptive field, jump, centre of node (0, 0)).
"""

import math

import numpy as np
import tensorflow as tf

from tfcnn import geometry, model as model_lib


def receptive_box(row: int, column: int, rf: int, jump: int,
                  start: float) -> tuple[int, int, int, int]:
  """``(top, left, bottom, right)`` input pixels (bottom/right exclusive) of node (row, column).

  May reach outside the image where padding does.
  """
  half = (rf - 1) / 2
  top = int(math.floor(start + row * jump - half + 1e-9))
  left = int(math.floor(start + column * jump - half + 1e-9))
  return top, left, top + rf, left + rf


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
  """The `box` of ``[h, w, c]`` `image`, zero-filled where it leaves the image."""
  top, left, bottom, right = box
  h, w = image.shape[:2]
  out = np.zeros((bottom - top, right - left) + image.shape[2:], image.dtype)
  t, l, b, r = max(top, 0), max(left, 0), min(bottom, h), min(right, w)
  if b > t and r > l:
    out[t - top:b - top, l - left:r - left] = image[t:b, l:r]
  return out


def top_patches(net: model_lib.Sequential, layer_index: int, images: np.ndarray,
                k: int = 9, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray, list]:
  """The `k` best crops of every filter of a spatial layer.

  Returns ``(crops [filters, k, rf, rf, c], activations [filters, k],
  positions)`` with ``positions[f][j] = (image index, row, column)``.
  """
  row = geometry.layer_geometry(net.layers, net.input_shape)[layer_index]
  if row.receptive_field is None:
    raise ValueError(f"layer {net.layers[layer_index].name} is not spatial")
  maps = []
  for start in range(0, len(images), batch_size):
    x = tf.constant(images[start:start + batch_size])
    for layer in net.layers[:layer_index + 1]:
      x = layer(x, training=False)
    maps.append(x.numpy())
  maps = np.concatenate(maps)                    # [n, h, w, filters]
  n, h, w, filters = maps.shape
  flat = maps.reshape(n * h * w, filters)
  best = np.argsort(-flat, axis=0, kind="stable")[:k].T   # [filters, k]
  crops = np.zeros((filters, k, row.receptive_field, row.receptive_field, images.shape[-1]),
                   images.dtype)
  positions = []
  for f in range(filters):
    positions.append([])
    for j, index in enumerate(best[f]):
      image, rest = divmod(int(index), h * w)
      r, c = divmod(rest, w)
      positions[f].append((image, r, c))
      box = receptive_box(r, c, row.receptive_field, row.jump, row.start)
      crops[f, j] = crop(images[image], box)
  return crops, np.take_along_axis(flat.T, best, axis=1), positions
