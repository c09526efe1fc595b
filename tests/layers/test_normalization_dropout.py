"""BatchNorm against Keras (training and inference); Dropout's contract."""

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import max_abs_diff
from tests.layers import keras_reference as ref
from tfcnn.layers import BatchNorm, Dropout


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_keras(rng, training):
  x = rng.normal(2.0, 3.0, size=(8, 5, 5, 3)).astype(np.float32)
  ours = BatchNorm()
  ours.build(x.shape[1:])
  # Non-trivial parameters and moving statistics.
  ours.gamma.assign(rng.normal(size=3).astype(np.float32))
  ours.beta.assign(rng.normal(size=3).astype(np.float32))
  ours.moving_mean.assign(rng.normal(size=3).astype(np.float32))
  ours.moving_variance.assign(rng.uniform(0.5, 2, size=3).astype(np.float32))
  weights = [v.numpy() for v in ours.variables]
  theirs = ref.keras_layers.BatchNormalization()
  y_ref, grads_ref, probe = ref.forward_and_gradients(theirs, x, weights, training=training)
  y, grads = ref.tfcnn_forward_and_gradients(ours, x, probe, training=training)
  assert max_abs_diff(y, y_ref) <= 1e-5
  for g, g_ref in zip(grads, grads_ref):
    assert max_abs_diff(g, g_ref) <= 1e-5
  # Moving statistics moved (or not) exactly as Keras's did.
  assert max_abs_diff(ours.moving_mean, theirs.moving_mean) <= 1e-5
  assert max_abs_diff(ours.moving_variance, theirs.moving_variance) <= 1e-5


def test_batch_norm_variable_order():
  bn = BatchNorm(name="bn")
  bn.build((4, 4, 2))
  assert [v.name for v in bn.variables] == ["bn/gamma:0", "bn/beta:0", "bn/moving_mean:0",
                                             "bn/moving_variance:0"]
  assert [v.name for v in bn.trainable_variables] == ["bn/gamma:0", "bn/beta:0"]


def test_dropout_is_identity_at_inference_and_scales_in_training():
  x = tf.ones([100, 100])
  drop = Dropout(0.3, seed=(1, 2))
  assert np.array_equal(drop(x, training=False), x)
  y = drop(x, training=True).numpy()
  kept = y != 0
  assert 0.66 < kept.mean() < 0.74
  np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)


def test_dropout_masks_are_reproducible_from_the_seed():
  x = tf.ones([20, 20])
  a, b, c = Dropout(0.5, seed=(1, 2)), Dropout(0.5, seed=(1, 2)), Dropout(0.5, seed=(1, 3))
  ya, yb, yc = a(x, training=True), b(x, training=True), c(x, training=True)
  assert np.array_equal(ya, yb)
  assert not np.array_equal(ya, yc)
  assert not np.array_equal(a(x, training=True), ya)  # a new mask each call


def test_dropout_rejects_bad_rate():
  with pytest.raises(ValueError, match=r"dropout rate must be in \[0, 1\)"):
    Dropout(1.0)
