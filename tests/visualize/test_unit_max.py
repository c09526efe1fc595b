"""Receptive-field activation maximisation: known answers and the saturation bound."""

import numpy as np

import tfcnn
from tfcnn import layers
from tfcnn.visualize import unit_max


def test_a_linear_unit_prefers_its_own_kernel_in_the_grey_range():
  conv = layers.Conv2D(2, 3)              # linear: the best direction is the kernel itself
  net = tfcnn.Sequential([conv, layers.Flatten(), layers.Dense(2)], seed=3)
  net.build((9, 9, 1))
  images, achieved = unit_max.maximize_units(net, 0, unit_max.UnitMaxConfig(steps=300,
                                                                            contrast=0.5))
  assert images.shape == (2, 3, 3, 1)
  for f in range(2):
    pattern = (images[f, ..., 0] - 0.5).ravel()
    kernel = conv.kernel.numpy()[..., 0, f].ravel()
    cosine = pattern @ kernel / np.linalg.norm(pattern) / np.linalg.norm(kernel)
    assert cosine > 0.99
    np.testing.assert_allclose(np.linalg.norm(pattern), 0.5 * 0.5 * 3, rtol=1e-3)
  assert np.all(achieved > 0)


def test_saturation_is_bounded_by_the_contrast_and_dead_filters_are_red():
  # ‖x - 0.5‖² = (0.25 c)² n: pixels within 2% of black or white each take ≥ 0.49², so at
  # most (0.5 c)² / 0.49² of them can be.
  net = tfcnn.build_model("conv8k3-maxpool2-conv8k3-flatten-dense10", seed=4)
  images, _ = unit_max.maximize_units(net, 2, unit_max.UnitMaxConfig(steps=50, contrast=0.6))
  saturation = np.mean((images <= 0.02) | (images >= 0.98))
  assert saturation <= (0.5 * 0.6) ** 2 / 0.49 ** 2
  dead = np.array([True] + [False] * 7)
  grid = unit_max.grid(images, dead, min_tile=8).numpy()
  np.testing.assert_allclose(grid[1, 1], unit_max.DEAD_RGB, atol=1e-6)   # the first tile


def test_the_report_compares_with_the_median_and_best_test_image_on_live_filters():
  report = unit_max.report(np.full((3, 3, 3, 1), 0.5), np.array([2.0, 0.5, 1.0]),
                           median=np.array([1.0, 1.0, 0.0]), best=np.array([3.0, 0.4, 0.0]))
  assert report["dead"] == [False, False, True]
  assert report["fraction_above_test_median"] == 0.5      # filter 0 only, of the live two
  assert report["fraction_above_test_best"] == 0.5        # filter 1 only
  assert report["saturation"] == 0.0


def test_filter_cards_are_pngs_and_the_index_links_every_card(tmp_path):
  import tensorflow as tf
  from tfcnn.visualize import cards
  stats = dict(firing=0.2, achieved=1.5, test_median=1.0, test_best=2.0, dead=False)
  rng = np.random.default_rng(0)
  live = cards.card("conv_2", 5, rng.normal(size=(3, 3, 8)), 2.0, rng.uniform(size=(8, 8, 1)),
                    rng.uniform(size=(6, 8, 8, 1)), stats)
  dead = cards.card("conv_2", 6, rng.normal(size=(3, 3, 8)), 2.0, rng.uniform(size=(8, 8, 1)),
                    rng.uniform(size=(6, 8, 8, 1)), {**stats, "dead": True})
  for png in (live, dead):
    assert tf.image.decode_png(png).shape[1] > 400
  (tmp_path / "a.png").write_bytes(live)
  page = cards.index_page(tmp_path, {"conv_2": ["a.png"]}).read_text()
  assert "<h2>conv_2: 1 filters</h2>" in page and "src='a.png'" in page


def test_a_study_card_adds_a_row_of_partners():
  import tensorflow as tf
  from tfcnn.analysis.partners import Partner
  from tfcnn.visualize import cards
  stats = dict(firing=0.2, achieved=1.5, test_median=1.0, test_best=2.0, dead=False)
  rng = np.random.default_rng(0)
  args = ("conv_2", 5, rng.normal(size=(3, 3, 8)), 2.0, rng.uniform(size=(8, 8, 1)),
          rng.uniform(size=(6, 8, 8, 1)), stats)
  alone = tf.image.decode_png(cards.card(*args)).shape
  with_partners = tf.image.decode_png(cards.card(*args, [
      Partner(f"run{i}\nsame init", i, 0.9, rng.normal(size=(3, 3, 8))) for i in range(3)]))
  assert with_partners.shape[0] > alone[0] * 1.3


def test_a_layer_without_spatial_maps_is_refused_by_name():
  import pytest
  net = tfcnn.build_model("conv4k3-flatten-dense10", seed=1)
  with pytest.raises(ValueError, match="layer dense_2 has no spatial map"):
    unit_max.maximize_units(net, 2)
