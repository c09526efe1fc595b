"""Runs a Keras layer with given weights, for comparison (tests only)."""

import keras
import numpy as np
import tensorflow as tf


def forward_and_gradients(layer, x: np.ndarray, weights: list[np.ndarray], training=False):
  """Output of `layer` on `x`, and gradients of sum(output * probe) wrt x and weights."""
  layer.build(x.shape)
  layer.set_weights(weights)
  xv = tf.Variable(x)
  probe = None
  with tf.GradientTape() as tape:
    y = layer(xv, training=training)
    probe = tf.constant(np.random.default_rng(0).normal(size=y.shape).astype(np.float32))
    objective = tf.reduce_sum(y * probe)
  grads = tape.gradient(objective, [xv] + [w.value for w in layer.trainable_weights])
  return y.numpy(), [g.numpy() for g in grads], probe


def tfcnn_forward_and_gradients(layer, x: np.ndarray, probe, training=False):
  """The same quantities for a tfcnn layer (already built)."""
  xv = tf.Variable(x)
  with tf.GradientTape() as tape:
    y = layer(xv, training=training)
    objective = tf.reduce_sum(y * probe)
  grads = tape.gradient(objective, [xv] + list(layer.trainable_variables))
  return y.numpy(), [g.numpy() for g in grads]


keras_layers = keras.layers
