"""The benchmark's plain-numpy MLP does the work of tfcnn's `mlp` preset."""

import numpy as np
import pytest
import tensorflow as tf

from benchmarks.numpy_mlp import NumpyMLP
from tfcnn import losses, optimizers, spec
from tfcnn.data import pipeline, sources


def _tfcnn_mlp_and_numpy_copy():
  model = spec.build("mlp", seed=3, input_shape=(28, 28, 1))
  mlp = NumpyMLP()
  assert [p.shape for p in mlp.params] == [tuple(v.shape) for v in model.trainable_variables]
  mlp.params = [v.numpy().copy() for v in model.trainable_variables]
  return model, mlp


def _batch(n=64, seed=0):
  rng = np.random.default_rng(seed)
  images = rng.uniform(0, 1, (n, 28, 28, 1)).astype(np.float32)
  return images, rng.integers(0, 10, n)


def test_losses_and_gradients_equal_tensorflow_autodiff_of_the_mlp_preset():
  model, mlp = _tfcnn_mlp_and_numpy_copy()
  images, labels = _batch()
  with tf.GradientTape() as tape:
    logits = model(images, training=True)
    per_example = losses.sparse_softmax_cross_entropy(labels, logits)
    loss = tf.reduce_mean(per_example)
  expected = tape.gradient(loss, model.trainable_variables)
  got_per_example, got_logits, got = mlp.loss_and_gradients(images.reshape(64, -1), labels)
  np.testing.assert_allclose(got_logits, logits.numpy(), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(got_per_example, per_example.numpy(), rtol=1e-5, atol=1e-6)
  for g, e in zip(got, expected):
    assert g.shape == tuple(e.shape) and g.dtype == np.float32
    np.testing.assert_allclose(g, e.numpy(), rtol=1e-4, atol=1e-7)


def test_adam_steps_equal_tfcnn_adam():
  model, mlp = _tfcnn_mlp_and_numpy_copy()
  mlp.learning_rate = 0.01
  adam = optimizers.Adam(0.01)
  variables = model.trainable_variables
  adam.build(variables)
  for seed in range(3):
    images, labels = _batch(seed=seed)
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(losses.sparse_softmax_cross_entropy(
          labels, model(images, training=True)))
    adam.apply(tape.gradient(loss, variables), variables)
    _, _, gradients = mlp.loss_and_gradients(images.reshape(64, -1), labels)
    mlp.apply_adam(gradients)
  assert mlp.step == 3
  for p, v in zip(mlp.params, variables):
    np.testing.assert_allclose(p, v.numpy(), rtol=1e-4, atol=1e-6)


def test_training_on_the_sample_learns_and_reports_the_pass():
  data = sources.load("mnist_sample")
  labels = data.train_labels.astype(np.int64)
  images = pipeline.scale(data.train_images).numpy().reshape(len(labels), -1)
  mlp = NumpyMLP(seed=0, learning_rate=2e-3)
  accuracies = []
  for epoch in range(3):
    loss, accuracy = mlp.train_epoch(images, labels, pipeline.epoch_order(len(labels), 0, epoch),
                                     500)
    accuracies.append(accuracy)
  assert mlp.step == 3 * pipeline.num_batches(len(labels), 500)
  # Sigmoid layers learn slowly at first; three epochs are well past chance (0.1).
  assert accuracies[-1] > max(0.6, accuracies[0]) and 0 < loss < 2.3


def test_refuses_fewer_than_two_layer_widths():
  with pytest.raises(ValueError, match="at least two positive layer widths"):
    NumpyMLP(sizes=(784,))
  with pytest.raises(ValueError, match="at least two positive layer widths"):
    NumpyMLP(sizes=(784, 0, 10))
