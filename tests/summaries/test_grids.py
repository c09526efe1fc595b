"""Grids: per-map normalisation, layout with separators, upscaling, filters."""

import numpy as np
import pytest
import tensorflow as tf

from tfcnn.summaries import grids


def test_each_map_is_normalised_on_its_own():
  maps = np.stack([np.arange(4.0).reshape(2, 2), 10 + 5 * np.arange(4.0).reshape(2, 2),
                   np.full((2, 2), 7.0)], axis=-1)
  out = grids.normalize_maps(maps).numpy()
  np.testing.assert_allclose(out[..., 0], [[0, 1 / 3], [2 / 3, 1]])
  np.testing.assert_allclose(out[..., 1], out[..., 0])
  np.testing.assert_array_equal(out[..., 2], 0.0)  # a constant map is 0, not NaN


def test_tile_layout_separators_and_upscaling():
  maps = np.random.default_rng(0).uniform(size=(3, 4, 5)).astype(np.float32)
  grid = grids.tile(maps, min_tile=6).numpy()   # 3 rows high → scale 2; 5 tiles → 3 columns
  assert grid.shape == (1 + 2 * (6 + 1), 1 + 3 * (8 + 1))
  for i in range(5):
    top, left = grids.tile_position(i, 3, 4, columns=3, scale=2)
    tile = grid[top:top + 6, left:left + 8]
    np.testing.assert_array_equal(tile, np.kron(maps[..., i], np.ones((2, 2))))
  assert (grid[0] == grids.SEPARATOR).all() and (grid[:, 0] == grids.SEPARATOR).all()
  top, left = grids.tile_position(5, 3, 4, columns=3, scale=2)  # the empty slot
  assert (grid[top:top + 6, left:left + 8] == grids.SEPARATOR).all()


def test_filter_grid_first_layer_and_deeper_layer():
  kernel = tf.random.stateless_normal([3, 3, 1, 8], seed=[1, 1])
  first = grids.filter_grid(kernel, min_tile=3)
  assert first.shape == (1 + 3 * 4, 1 + 3 * 4)   # 8 tiles → 3x3 grid of 3x3 tiles
  deep = tf.random.stateless_normal([3, 3, 16, 4], seed=[1, 2])
  one = grids.filter_grid(deep, output_filter=2, min_tile=3)
  assert one.shape == (1 + 4 * 4, 1 + 4 * 4)      # 16 input channels → 4x4
  np.testing.assert_allclose(one.numpy()[1:4, 1:4],
                             grids.normalize_maps(deep[:, :, :1, 2]).numpy()[..., 0], atol=1e-6)
  with pytest.raises(ValueError, match="needs output_filter"):
    grids.filter_grid(deep)


def test_png_round_trip():
  image = tf.constant([[0.0, 1.0], [0.5, 0.25]])
  decoded = tf.io.decode_png(grids.encode_png(image)).numpy()[..., 0]
  np.testing.assert_array_equal(decoded, [[0, 255], [128, 64]])
