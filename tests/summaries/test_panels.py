"""Labelled panels: tiles where the layout says, labels off the pixels, colours that mean."""

import numpy as np
import pytest

from tfcnn.summaries import panels

BACKGROUND = np.asarray(panels.BACKGROUND, np.uint8)


def _has_colour(image: np.ndarray, colour) -> bool:
  return bool(np.all(image == np.asarray(colour, np.uint8), axis=-1).any())


def test_tiles_sit_at_their_positions_scaled_by_whole_pixels():
  rng = np.random.default_rng(0)
  tiles = rng.integers(0, 256, size=(5, 4, 6, 3), dtype=np.uint8)
  grid = panels.tile_grid(tiles, [str(i) for i in range(5)], min_tile=12)
  assert grid.scale == 3
  for i, (top, left) in enumerate(grid.positions):
    block = grid.image[top:top + 12, left:left + 18]
    np.testing.assert_array_equal(block[::3, ::3], tiles[i])
    np.testing.assert_array_equal(block, np.repeat(np.repeat(tiles[i], 3, 0), 3, 1))


def test_labels_are_written_above_the_tiles_not_on_them():
  tiles = np.full((4, 5, 5, 3), 0.5)
  grid = panels.tile_grid(tiles, ["0", "1", "2", "3"], min_tile=20)
  for top, left in grid.positions:
    band = grid.image[top - panels.BAND:top, left:left + 20]
    assert (band != BACKGROUND).any(axis=-1).any()       # the label's text is there
    assert np.all(grid.image[top:top + 20, left:left + 20] == 128)   # the tile is untouched


def test_gaps_are_background_a_colour_no_grey_map_takes():
  grid = panels.tile_grid(np.zeros((2, 3, 3, 3)), ["", ""], min_tile=3)
  top, left = grid.positions[0]
  assert np.array_equal(grid.image[top, left - 1], BACKGROUND)
  assert len(set(panels.BACKGROUND)) == 3   # not a grey


def test_a_positive_weight_is_drawn_red_and_a_negative_one_blue():
  kernel = np.zeros((3, 3, 1, 2), np.float32)
  kernel[1, 1, 0, 0], kernel[1, 1, 0, 1] = 0.5, -0.5
  [panel] = [p.image for p in panels.weights(kernel, "conv_0", count=4, min_tile=9)]
  # find the two centre pixels by their colour: red side for +, blue side for -
  red = np.all(panel == np.round(np.asarray(panels.grids.POSITIVE_RGB) * 255).astype(np.uint8),
               axis=-1)
  blue = np.all(panel == np.round(np.asarray(panels.grids.NEGATIVE_RGB) * 255).astype(np.uint8),
                axis=-1)
  # each centre pixel is a 3x3 block (scale 3); the colour bar adds its own ends
  assert red.sum() >= 9 and blue.sum() >= 9
  red_columns, blue_columns = np.flatnonzero(red.any(0)), np.flatnonzero(blue.any(0))
  assert red_columns.min() < blue_columns.min()   # filter 0 (positive) left of filter 1


def test_the_colour_bar_runs_from_red_at_the_top_to_blue_at_the_bottom():
  bar = panels.colour_bar(120, 0.25).astype(int)
  column = bar[:, panels.GAP + 5]
  coloured = column[(column != BACKGROUND).any(-1)]
  top, bottom = coloured[0], coloured[-1]
  assert top[0] > top[2] and bottom[2] > bottom[0]


def test_deeper_layers_give_a_panel_per_filter_and_rgb_first_layers_one_in_colour():
  assert len(panels.weights(np.ones((3, 3, 6, 8)), "conv_2", count=3)) == 3
  [rgb] = panels.weights(np.ones((3, 3, 3, 5)), "conv_0", count=3)
  assert rgb.image.shape[-1] == 3 and len(rgb.positions) == 5


@pytest.mark.parametrize("predicted,colour,other", [("7", panels.RIGHT, panels.WRONG),
                                                     ("1", panels.WRONG, panels.RIGHT)])
def test_the_prediction_is_green_when_right_and_red_when_wrong(predicted, colour, other):
  image = np.zeros((28, 28, 1), np.float32)
  maps = np.random.default_rng(1).random((26, 26, 4)).astype(np.float32)
  panel = panels.feature_maps(image, maps, "conv_0", "7", predicted, 0.9).image
  assert _has_colour(panel, colour) and not _has_colour(panel, other)


def test_a_silent_map_is_black_and_a_map_keeps_its_pattern():
  maps = np.zeros((5, 5, 2), np.float32)
  maps[..., 1] = np.arange(25, dtype=np.float32).reshape(5, 5)
  layout = panels.feature_maps(np.zeros((28, 28, 1)), maps, "conv_4", "3", "3", 1.0,
                               min_tile=5)
  (t0, l0), (t1, l1) = layout.positions
  assert np.all(layout.image[t0:t0 + 5, l0:l0 + 5] == 0)
  np.testing.assert_array_equal(layout.image[t1:t1 + 5, l1:l1 + 5, 0],
                                np.round(maps[..., 1] / 24 * 255).astype(np.uint8))


def test_panels_of_different_sizes_stack_padded_with_background():
  stack = panels.pad_to_same_size([np.zeros((4, 6, 3), np.uint8), np.zeros((5, 2, 3), np.uint8)])
  assert stack.shape == (2, 5, 6, 3)
  assert np.array_equal(stack[0, 4, 0], BACKGROUND) and np.array_equal(stack[1, 0, 5], BACKGROUND)

