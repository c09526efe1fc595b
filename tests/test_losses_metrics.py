"""Loss and metrics against hand-computed values."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfcnn import losses, metrics


def test_cross_entropy_by_hand():
  logits = tf.constant([[0.0, 0.0], [math.log(3.0), 0.0]])
  labels = tf.constant([0, 0])
  got = losses.sparse_softmax_cross_entropy(labels, logits).numpy()
  np.testing.assert_allclose(got, [math.log(2.0), -math.log(0.75)], rtol=1e-6)


def test_cross_entropy_is_float32_for_bfloat16_logits():
  got = losses.sparse_softmax_cross_entropy(tf.constant([1]), tf.constant([[1.0, 2.0]], tf.bfloat16))
  assert got.dtype == tf.float32


def test_accuracy():
  logits = tf.constant([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
  assert float(metrics.accuracy(tf.constant([1, 1, 1]), logits)) == pytest.approx(2 / 3)


def test_running_mean_accumulates_and_resets_inside_tf_function():
  mean = metrics.Mean()
  update = tf.function(mean.update)
  update(tf.constant([1.0, 2.0]))
  update(tf.constant([6.0]))
  assert float(mean.result()) == pytest.approx(3.0)
  mean.reset()
  assert float(mean.result()) == 0.0
