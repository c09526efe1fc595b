"""Grids: per-map normalisation, layout with separators, upscaling, filters."""

import numpy as np
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


def test_weights_are_red_when_positive_blue_when_negative_on_one_scale_per_layer():
  kernel = np.zeros([3, 3, 1, 2], np.float32)
  kernel[0, 0, 0, 0], kernel[1, 1, 0, 0], kernel[2, 2, 0, 1] = 0.5, -0.25, -0.5
  [grid] = grids.weight_grids(tf.constant(kernel), min_tile=3).numpy()
  assert grid.shape == (1 + 4, 1 + 2 * 4, 3)       # 2 tiles of 3x3 in one row, + separators
  top, left = grids.tile_position(0, 3, 3, columns=2, scale=1)
  np.testing.assert_allclose(grid[top, left], grids.POSITIVE_RGB, atol=1e-6)     # +max: red
  np.testing.assert_allclose(grid[top + 1, left + 1], [(1 + c) / 2 for c in grids.NEGATIVE_RGB],
                             atol=1e-6)                                           # half blue
  np.testing.assert_allclose(grid[top, left + 1], [1, 1, 1])                      # zero: white
  top, left = grids.tile_position(1, 3, 3, columns=2, scale=1)
  np.testing.assert_allclose(grid[top + 2, left + 2], grids.NEGATIVE_RGB, atol=1e-6)
  # Separators are black, a colour no weight takes.
  assert (grid[0] == 0).all() and (grid[:, 0] == 0).all()
  assert min(grids.POSITIVE_RGB + grids.NEGATIVE_RGB) > 0.05


def test_deeper_layers_give_one_grid_per_output_filter_over_its_input_channels():
  deep = tf.random.stateless_normal([3, 3, 16, 4], seed=[1, 2])
  images = grids.weight_grids(deep, count=3, min_tile=3)
  assert images.shape == (3, 1 + 4 * 4, 1 + 4 * 4, 3)      # 16 input channels → 4x4 tiles
  scale = float(tf.reduce_max(tf.abs(deep)))
  np.testing.assert_allclose(images[2, 1, 1].numpy(),
                             grids.diverging_rgb(deep[0, 0, 0, 2], scale).numpy(), atol=1e-6)


def test_png_round_trip():
  image = tf.constant([[0.0, 1.0], [0.5, 0.25]])
  decoded = tf.io.decode_png(grids.encode_png(image)).numpy()[..., 0]
  np.testing.assert_array_equal(decoded, [[0, 255], [128, 64]])


def test_rgb_png_round_trip():
  image = tf.constant([[[1.0, 0.0, 0.5]]])
  np.testing.assert_array_equal(tf.io.decode_png(grids.encode_png(image)).numpy(),
                                [[[255, 0, 128]]])


def test_first_layer_kernels_on_rgb_images_are_drawn_as_the_colour_they_respond_to():
  kernel = np.zeros((3, 3, 3, 2), np.float32)
  kernel[:, :, 0, 0] = 1.0          # filter 0 responds to red
  kernel[:, :, 2, 1] = -1.0         # filter 1 is inhibited by blue
  image = grids.weight_grids(tf.constant(kernel), min_tile=3).numpy()
  assert image.shape[0] == 1 and image.shape[-1] == 3
  red_tile, blue_off_tile = image[0, 1, 1], image[0, 1, 1 + 3 + 1]
  np.testing.assert_allclose(red_tile, [1.0, 0.5, 0.5])        # zero is mid-grey
  np.testing.assert_allclose(blue_off_tile, [0.5, 0.5, 0.0])
