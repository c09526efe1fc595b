"""Initialisers: stateless, seeded, with Keras's distributions."""

import numpy as np
import pytest

from tfcnn import initializers


@pytest.mark.parametrize("name", ["glorot_uniform", "he_normal", "lecun_normal"])
def test_same_seed_same_values_other_seed_other_values(name):
  init = initializers.get(name)
  a, b = init((3, 3, 8, 16), (1, 2)), init((3, 3, 8, 16), (1, 2))
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, init((3, 3, 8, 16), (1, 3)))


def test_fans_follow_tensorflow_layouts():
  assert initializers.fans((784, 70)) == (784, 70)
  assert initializers.fans((3, 3, 32, 64)) == (9 * 32, 9 * 64)


def test_glorot_uniform_bounds_and_variance():
  values = initializers.glorot_uniform((3, 3, 32, 64), (0, 0)).numpy()
  limit = np.sqrt(6 / (9 * 32 + 9 * 64))
  assert values.min() >= -limit and values.max() <= limit
  assert values.var() == pytest.approx(limit ** 2 / 3, rel=0.05)


@pytest.mark.parametrize("name,scale", [("he_normal", 2.0), ("lecun_normal", 1.0)])
def test_truncated_normals_have_the_intended_variance(name, scale):
  values = initializers.get(name)((400, 300), (5, 5)).numpy()
  assert values.var() == pytest.approx(scale / 400, rel=0.05)
  assert np.abs(values).max() <= 2 * np.sqrt(scale / 400) / 0.8796 + 1e-6


def test_zeros_and_unknown_name():
  assert not initializers.zeros((4,), (0, 0)).numpy().any()
  with pytest.raises(ValueError, match="unknown initializer 'nope'"):
    initializers.get("nope")
