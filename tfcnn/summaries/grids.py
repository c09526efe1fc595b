"""Tiling feature maps and filters into images a person can read.

``tf.summary.image`` clips floats to [0, 1] without rescaling, and a 3x3 map
is invisible at screen size; so every map is contrast-normalised on its own
(min → 0, max → 1; a constant map becomes 0), tiled into a grid with 1-pixel
separators of value 1 (white), and scaled up by whole pixels (nearest
neighbour) until each tile is at least `min_tile` pixels high.

The tiling is TensorFlow ops, so it runs inside ``tf.function``; the
diverging weight colours are NumPy (drawn eagerly, see
:mod:`tfcnn.summaries.panels`).
"""

import math

import numpy as np
import tensorflow as tf

SEPARATOR = 1.0


def normalize_maps(maps: tf.Tensor) -> tf.Tensor:
  """Min-max normalises each map of ``[..., h, w, n]`` to [0, 1] independently."""
  maps = tf.cast(maps, tf.float32)
  low = tf.reduce_min(maps, axis=[-3, -2], keepdims=True)
  high = tf.reduce_max(maps, axis=[-3, -2], keepdims=True)
  return tf.math.divide_no_nan(maps - low, high - low)


def grid_columns(n: int) -> int:
  """Columns of a near-square grid for `n` tiles."""
  return max(1, math.ceil(math.sqrt(n)))


def upscale_factor(height: int, min_tile: int) -> int:
  """Whole-pixel scale that makes a tile of `height` at least `min_tile` high."""
  return max(1, math.ceil(min_tile / height))


def tile(maps: tf.Tensor, columns: int | None = None, min_tile: int = 28,
         separator: float = SEPARATOR) -> tf.Tensor:
  """Tiles ``[h, w, n]`` maps (already in [0, 1]) into one ``[H, W]`` image;
  ``[b, h, w, n]`` into ``[b, H, W]``, one grid per example, in one pass.

  Tile ``i`` sits at row ``i // columns``, column ``i % columns``; missing
  tiles of the last row are left at the separator value. Returns float32 in
  [0, 1].
  """
  *lead, h, w, n = maps.shape
  k = len(lead)
  columns = columns or grid_columns(n)
  rows = math.ceil(n / columns)
  scale = upscale_factor(h, min_tile)
  maps = tf.cast(maps, tf.float32)
  maps = tf.repeat(tf.repeat(maps, scale, axis=k), scale, axis=k + 1)
  th, tw = h * scale, w * scale
  padding = rows * columns - n
  maps = tf.concat([maps, tf.fill([*lead, th, tw, padding], separator)], axis=k + 2)
  # Add a 1-pixel separator below and right of every tile, then arrange.
  maps = tf.pad(maps, [[0, 0]] * k + [[0, 1], [0, 1], [0, 0]], constant_values=separator)
  maps = tf.reshape(maps, [*lead, th + 1, tw + 1, rows, columns])
  maps = tf.transpose(maps, [*range(k), k + 2, k, k + 3, k + 1])
  grid = tf.reshape(maps, [*lead, rows * (th + 1), columns * (tw + 1)])
  return tf.pad(grid, [[0, 0]] * k + [[1, 0], [1, 0]], constant_values=separator)


def tile_position(index: int, tile_height: int, tile_width: int, columns: int,
                  scale: int) -> tuple[int, int]:
  """Top-left pixel of tile `index` in a grid made by :func:`tile`."""
  row, column = divmod(index, columns)
  return 1 + row * (tile_height * scale + 1), 1 + column * (tile_width * scale + 1)


def to_uint8(image: tf.Tensor) -> tf.Tensor:
  """[0, 1] float ``[H, W]`` → uint8 ``[H, W, 1]`` (rounded)."""
  image = tf.clip_by_value(tf.cast(image, tf.float32), 0.0, 1.0)
  return tf.cast(tf.round(image * 255.0), tf.uint8)[..., tf.newaxis]


# Weights: red for positive, white for zero, blue for negative (ColorBrewer's
# RdBu ends), one scale per layer (see tfcnn.summaries.panels.weights).
POSITIVE_RGB = (0.70, 0.09, 0.17)
NEGATIVE_RGB = (0.13, 0.40, 0.67)
RGB_SEPARATOR = 0.0


def diverging_rgb(values, scale: float) -> np.ndarray:
  """``[..., 3]`` colours (NumPy) of `values`: white at 0, :data:`POSITIVE_RGB` at
  ``+scale`` and beyond, :data:`NEGATIVE_RGB` at ``-scale`` and beyond."""
  v = np.clip(np.asarray(values, np.float32) / np.float32(scale if scale else np.inf), -1, 1)
  v = v[..., np.newaxis]
  positive, negative = np.asarray(POSITIVE_RGB, np.float32), np.asarray(NEGATIVE_RGB, np.float32)
  return np.where(v >= 0, 1.0 + v * (positive - 1.0), 1.0 - v * (negative - 1.0))


def tile_images(images: tf.Tensor, min_tile: int = 28) -> tf.Tensor:
  """Input images ``[n, h, w, c]`` in [0, 1] as one grid: ``[H, W]`` grey, or
  ``[H, W, 3]`` in colour for RGB images."""
  images = tf.convert_to_tensor(images, tf.float32)
  if images.shape[-1] == 3:
    return tf.stack([tile(tf.transpose(images[..., c], [1, 2, 0]), min_tile=min_tile)
                     for c in range(3)], axis=-1)
  return tile(tf.transpose(images[..., 0], [1, 2, 0]), min_tile=min_tile)


def images_grid(images: tf.Tensor, min_tile: int = 28) -> tf.Tensor:
  """:func:`tile_images` as uint8 ``[H, W, 1]`` or ``[H, W, 3]``, ready for a summary."""
  return grid_to_uint8(tile_images(images, min_tile))


def grid_to_uint8(grid: tf.Tensor) -> tf.Tensor:
  """A [0, 1] grid, grey ``[H, W]`` or colour ``[H, W, 3]``, as uint8 ``[H, W, 1 or 3]``."""
  return rgb_to_uint8(grid) if grid.shape.rank == 3 else to_uint8(grid)


def rgb_to_uint8(images: tf.Tensor) -> tf.Tensor:
  """[0, 1] float ``[..., 3]`` colours → uint8 (rounded)."""
  return tf.cast(tf.round(tf.clip_by_value(tf.cast(images, tf.float32), 0.0, 1.0) * 255.0),
                 tf.uint8)


def encode_png(image: tf.Tensor) -> tf.Tensor:
  """PNG bytes of a [0, 1] float ``[H, W]`` (grey) or ``[H, W, 3]`` (RGB) image."""
  return tf.io.encode_png(grid_to_uint8(image))
