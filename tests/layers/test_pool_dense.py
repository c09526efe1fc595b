"""Pooling, Dense, Flatten and Activation layers against Keras."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import max_abs_diff
from tests.layers import keras_reference as ref
from tfcnn.errors import ShapeError
from tfcnn.layers import Activation, AvgPool2D, Dense, Flatten, MaxPool2D


@pytest.mark.parametrize("ours_cls,keras_name", [(MaxPool2D, "MaxPooling2D"),
                                                 (AvgPool2D, "AveragePooling2D")])
@pytest.mark.parametrize("size,strides,padding", [(2, None, "valid"), (3, 2, "same"),
                                                  (2, 1, "valid"), (3, None, "same")])
def test_pooling_matches_keras(rng, ours_cls, keras_name, size, strides, padding):
  x = rng.normal(size=(2, 11, 9, 3)).astype(np.float32)
  ours = ours_cls(size, strides=strides, padding=padding)
  theirs = getattr(ref.keras_layers, keras_name)(size, strides=strides, padding=padding)
  y_ref, grads_ref, probe = ref.forward_and_gradients(theirs, x, [])
  y, grads = ref.tfcnn_forward_and_gradients(ours, x, probe)
  assert max_abs_diff(y, y_ref) <= 1e-5
  assert max_abs_diff(grads[0], grads_ref[0]) <= 1e-5


def test_pool_stride_defaults_to_window():
  assert MaxPool2D(3).strides == 3
  assert MaxPool2D()(tf.zeros([1, 11, 11, 2])).shape == (1, 5, 5, 2)


@pytest.mark.parametrize("activation", ["relu", "selu", "elu", "sigmoid", "tanh",
                                        "softmax", "linear"])
def test_dense_matches_keras(rng, activation):
  x = rng.normal(size=(5, 7)).astype(np.float32)
  ours = Dense(4, activation=activation)
  ours.build((7,))
  assert ours.kernel.shape == (7, 4)  # (in, out)
  theirs = ref.keras_layers.Dense(4, activation=activation)
  y_ref, grads_ref, probe = ref.forward_and_gradients(
      theirs, x, [v.numpy() for v in ours.trainable_variables])
  y, grads = ref.tfcnn_forward_and_gradients(ours, x, probe)
  assert max_abs_diff(y, y_ref) <= 1e-5
  for g, g_ref in zip(grads, grads_ref):
    assert max_abs_diff(g, g_ref) <= 1e-5


@pytest.mark.parametrize("activation", ["relu", "selu", "elu", "sigmoid", "tanh",
                                        "softmax", "linear"])
def test_activation_layer_matches_keras(rng, activation):
  x = rng.normal(size=(3, 6)).astype(np.float32)
  expected = ref.keras_layers.Activation(activation)(x)
  assert max_abs_diff(Activation(activation)(x), expected) <= 1e-6


def test_flatten_keeps_batch_and_row_major_order():
  x = tf.reshape(tf.range(2 * 3 * 4 * 5, dtype=tf.float32), [2, 3, 4, 5])
  y = Flatten()(x)
  assert y.shape == (2, 60)
  np.testing.assert_array_equal(y.numpy(), x.numpy().reshape(2, -1))


def test_dense_rejects_unflattened_input():
  with pytest.raises(ShapeError, match=r"layer d: expects flat \[features\] inputs"):
    Dense(3, name="d")(tf.zeros([1, 4, 4, 1]))
