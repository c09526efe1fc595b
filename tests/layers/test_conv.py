"""Conv2D: matches Keras forward and backward; lazy, named, seeded variables."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import max_abs_diff
from tests.layers import keras_reference as ref
from tfcnn.errors import ShapeError
from tfcnn.layers import Conv2D


@pytest.mark.parametrize("kernel,strides,padding,activation", [
    (3, 1, "valid", "relu"), (3, 2, "same", "linear"), (5, 1, "same", "tanh"),
    (2, 2, "valid", "sigmoid"), (3, 3, "same", "elu"), (1, 1, "valid", "selu"),
])
def test_matches_keras_forward_and_gradients(rng, kernel, strides, padding, activation):
  x = rng.normal(size=(2, 11, 9, 3)).astype(np.float32)
  ours = Conv2D(4, kernel, strides=strides, padding=padding, activation=activation)
  ours.build(x.shape[1:])
  weights = [v.numpy() for v in ours.trainable_variables]
  theirs = ref.keras_layers.Conv2D(4, kernel, strides=strides, padding=padding,
                                   activation=activation)
  y_ref, grads_ref, probe = ref.forward_and_gradients(theirs, x, weights)
  y, grads = ref.tfcnn_forward_and_gradients(ours, x, probe)
  assert y.shape == y_ref.shape
  assert max_abs_diff(y, y_ref) <= 1e-5
  for g, g_ref in zip(grads, grads_ref):
    assert max_abs_diff(g, g_ref) <= 1e-5


def test_variables_are_created_lazily_with_names_and_hwio_layout():
  conv = Conv2D(8, 3, name="conv")
  assert conv.variables == ()
  conv(tf.zeros([1, 10, 10, 5]))
  assert [v.name for v in conv.trainable_variables] == ["conv/kernel:0", "conv/bias:0"]
  assert conv.kernel.shape == (3, 3, 5, 8)


def test_seeded_initialisation_is_reproducible_and_seed_dependent():
  def kernel(seed):
    conv = Conv2D(4, 3, seed=seed)
    conv.build((8, 8, 2))
    return conv.kernel.numpy()
  np.testing.assert_array_equal(kernel((1, 0)), kernel((1, 0)))
  assert not np.array_equal(kernel((1, 0)), kernel((2, 0)))
  assert not np.array_equal(kernel((1, 0)), kernel((1, 1)))


def test_rejects_bad_arguments_and_inputs():
  with pytest.raises(ValueError, match="filters"):
    Conv2D(0, 3)
  with pytest.raises(ValueError, match="padding"):
    Conv2D(4, 3, padding="full")
  with pytest.raises(ValueError, match="activation"):
    Conv2D(4, 3, activation="swishy")
  conv = Conv2D(4, 3, name="c")
  with pytest.raises(ShapeError, match=r"layer c: expects \[height, width, channels\]"):
    conv(tf.zeros([2, 28, 28]))
  with pytest.raises(ShapeError, match=r"layer c: input 2x2 is smaller than its 3x3 kernel"):
    conv(tf.zeros([1, 2, 2, 1]))
  conv(tf.zeros([1, 8, 8, 3]))
  with pytest.raises(ShapeError, match=r"built for inputs of shape \[8, 8, 3\]"):
    conv(tf.zeros([1, 8, 8, 4]))
