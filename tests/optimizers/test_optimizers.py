"""Every optimiser tracks its Keras counterpart over 100 steps."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfcnn import optimizers


def _problem(rng):
  x = tf.constant(rng.normal(size=(32, 5)).astype(np.float32))
  y = tf.constant(rng.normal(size=(32, 3)).astype(np.float32))
  w0 = rng.normal(size=(5, 3)).astype(np.float32)
  b0 = rng.normal(size=(3,)).astype(np.float32)

  def loss(w, b):
    return tf.reduce_mean(tf.square(tf.tanh(x @ w + b) - y))
  return loss, w0, b0


def _run(step, variables, loss, steps=100):
  for _ in range(steps):
    with tf.GradientTape() as tape:
      value = loss(*variables)
    step(tape.gradient(value, variables), variables)
  return [v.numpy() for v in variables]


@pytest.mark.parametrize("ours,theirs", [
    (lambda: optimizers.SGD(0.1), lambda: keras.optimizers.SGD(0.1)),
    (lambda: optimizers.Momentum(0.05, momentum=0.9),
     lambda: keras.optimizers.SGD(0.05, momentum=0.9)),
    (lambda: optimizers.Momentum(0.05, momentum=0.9, nesterov=True),
     lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True)),
    (lambda: optimizers.RMSprop(0.01), lambda: keras.optimizers.RMSprop(0.01)),
    (lambda: optimizers.Adam(0.01), lambda: keras.optimizers.Adam(0.01)),
    (lambda: optimizers.Adam(optimizers.CosineDecay(0.02, 80, alpha=0.1)),
     lambda: keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.02, 80, alpha=0.1))),
    (lambda: optimizers.SGD(optimizers.ExponentialDecay(0.2, 10, 0.8, staircase=True)),
     lambda: keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(
         0.2, 10, 0.8, staircase=True))),
])
@pytest.mark.parametrize("fused", [True, False])
def test_tracks_keras_over_100_steps(rng, ours, theirs, fused):
  loss, w0, b0 = _problem(rng)
  ours, theirs = ours(), theirs()
  ours.fused = fused     # the one-op kernels and the pure maths must both match
  ours_vars = [tf.Variable(w0), tf.Variable(b0)]
  keras_vars = [keras.Variable(w0), keras.Variable(b0)]
  step = tf.function(lambda g, v: ours.apply(g, v))
  got = _run(step, ours_vars, loss)
  want = _run(lambda g, v: theirs.apply_gradients(zip(g, v)), keras_vars,
              lambda w, b: loss(w.value, b.value))
  for a, b in zip(got, want):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  assert int(ours.step) == 100
  assert not np.allclose(got[0], w0)  # it did move


def test_slots_are_created_lazily_once_per_variable():
  adam = optimizers.Adam()
  v = tf.Variable([1.0, 2.0])
  assert adam.slots == []
  adam.apply([tf.constant([0.1, 0.1])], [v])
  adam.apply([tf.constant([0.1, 0.1])], [v])
  assert len(adam.slots) == 1 and len(adam.slots[0]) == 2


def test_none_gradients_are_skipped():
  sgd = optimizers.SGD(1.0)
  a, b = tf.Variable(1.0), tf.Variable(1.0)
  sgd.apply([tf.constant(0.5), None], [a, b])
  assert float(a) == 0.5 and float(b) == 1.0


def test_inputs_are_checked():
  sgd = optimizers.SGD(1.0)
  with pytest.raises(ValueError, match="1 gradients for 2 variables"):
    sgd.apply([tf.constant(1.0)], [tf.Variable(1.0), tf.Variable(2.0)])
  with pytest.raises(ValueError, match="dtype"):
    sgd.apply([tf.constant(1.0, tf.float64)], [tf.Variable(1.0)])
  with pytest.raises(ValueError, match="learning rate must be positive"):
    optimizers.SGD(0.0)
  with pytest.raises(ValueError, match="unknown optimizer"):
    optimizers.make("adagrad", 0.1)


@pytest.mark.parametrize("ours,theirs", [
    (optimizers.ExponentialDecay(0.1, 7, 0.5),
     keras.optimizers.schedules.ExponentialDecay(0.1, 7, 0.5)),
    (optimizers.CosineDecay(0.1, 50, alpha=0.2),
     keras.optimizers.schedules.CosineDecay(0.1, 50, alpha=0.2)),
])
def test_schedules_match_keras(ours, theirs):
  for step in (0, 1, 6, 7, 25, 49, 50, 80):
    assert float(ours(step)) == pytest.approx(float(theirs(step)), rel=1e-6)


def test_l1_l2_penalty_matches_keras_and_ignores_biases():
  k1, k2 = tf.Variable([[1.0, -2.0]]), tf.Variable([3.0])
  got = optimizers.l1_l2_penalty([k1, k2], l1=0.01, l2=0.1)
  regularizer = keras.regularizers.L1L2(l1=0.01, l2=0.1)
  assert float(got) == pytest.approx(float(regularizer(tf.convert_to_tensor(k1)) + regularizer(tf.convert_to_tensor(k2))))
  import tfcnn
  model = tfcnn.build_model("flatten-dense3-dense2", seed=0)
  for layer in model.layers[1:]:
    layer.bias.assign(tf.ones_like(layer.bias) * 100.0)
  expected = sum(float(tf.reduce_sum(tf.square(k))) for k in model.kernels)
  assert float(optimizers.l1_l2_penalty(model.kernels, l2=1.0)) == pytest.approx(expected)
