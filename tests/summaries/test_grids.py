"""Grids: per-map normalisation, layout with separators, upscaling, filters."""

import numpy as np
import tensorflow as tf

from tfcnn.summaries import grids, panels


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


def _tile(panel, index, size):
  top, left = panel.positions[index]
  return panel.image[top:top + size * panel.scale:panel.scale,
                     left:left + size * panel.scale:panel.scale]


def _rgb(colour):
  return np.round(np.asarray(colour) * 255)


def test_weights_are_red_when_positive_blue_when_negative_on_one_scale_per_layer():
  kernel = np.zeros([3, 3, 1, 2], np.float32)
  kernel[0, 0, 0, 0], kernel[1, 1, 0, 0], kernel[2, 2, 0, 1] = 0.5, -0.25, -0.5
  [panel] = panels.weights(kernel, "conv_0", count=4, min_tile=3)
  first, second = _tile(panel, 0, 3), _tile(panel, 1, 3)
  np.testing.assert_allclose(first[0, 0], _rgb(grids.POSITIVE_RGB), atol=1)      # +max: red
  np.testing.assert_allclose(first[1, 1], _rgb([(1 + c) / 2 for c in grids.NEGATIVE_RGB]),
                             atol=1)                                             # half blue
  np.testing.assert_allclose(first[0, 1], [255, 255, 255])                       # zero: white
  np.testing.assert_allclose(second[2, 2], _rgb(grids.NEGATIVE_RGB), atol=1)
  # The gaps are the panel's background, a colour no weight takes.
  top, left = panel.positions[0]
  np.testing.assert_array_equal(panel.image[top - 1 - panels.BAND, left],
                                panels.BACKGROUND)


def test_deeper_layers_give_one_panel_per_output_filter_over_its_input_channels():
  deep = np.random.default_rng(1).normal(size=(3, 3, 16, 4)).astype(np.float32)
  found = panels.weights(deep, "conv_2", count=3, min_tile=3)
  assert len(found) == 3 and len(found[2].positions) == 16
  scale = float(np.abs(deep).max())
  np.testing.assert_allclose(_tile(found[2], 0, 3)[0, 0],
                             np.round(grids.diverging_rgb(deep[0, 0, 0, 2], scale) * 255),
                             atol=1)


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
  [panel] = panels.weights(kernel, "conv_0", count=4, min_tile=3)
  np.testing.assert_allclose(_tile(panel, 0, 3)[1, 1], [255, 128, 128], atol=1)  # zero: mid-grey
  np.testing.assert_allclose(_tile(panel, 1, 3)[1, 1], [128, 128, 0], atol=1)
