"""Sequential: calls, per-layer outputs, variable order, no retracing."""

import numpy as np
import pytest
import tensorflow as tf

import tfcnn
from tfcnn import layers


def test_trainable_variables_are_in_layer_order_kernel_then_bias():
  model = tfcnn.build_model("seed_cnn", seed=0)
  names = [v.name for v in model.trainable_variables]
  assert names == ["conv_0/kernel:0", "conv_0/bias:0", "conv_2/kernel:0", "conv_2/bias:0",
                   "conv_4/kernel:0", "conv_4/bias:0", "dense_6/kernel:0", "dense_6/bias:0",
                   "dense_7/kernel:0", "dense_7/bias:0"]
  assert [k.name for k in model.kernels] == names[::2]


def test_call_with_outputs_gives_every_layer_and_ends_in_the_logits():
  model = tfcnn.build_model("seed_cnn", seed=0)
  x = tf.random.stateless_uniform([3, 28, 28, 1], seed=[1, 2])
  outputs = model.call_with_outputs(x)
  assert [o.shape[1:] for o in outputs] == [
      (26, 26, 32), (13, 13, 32), (11, 11, 64), (5, 5, 64), (3, 3, 64), (576,), (64,), (10,)]
  np.testing.assert_array_equal(outputs[-1], model(x))


def test_same_seed_same_weights_different_seed_different_weights():
  a, b = tfcnn.build_model("fashion_cnn", seed=7), tfcnn.build_model("fashion_cnn", seed=7)
  c = tfcnn.build_model("fashion_cnn", seed=8)
  for va, vb in zip(a.variables, b.variables):
    np.testing.assert_array_equal(va.numpy(), vb.numpy())
  assert tfcnn.weights_sha256(a.trainable_variables) == tfcnn.weights_sha256(b.trainable_variables)
  assert tfcnn.weights_sha256(a.trainable_variables) != tfcnn.weights_sha256(c.trainable_variables)


def test_initial_weights_do_not_depend_on_what_was_built_before():
  first = tfcnn.build_model("seed_cnn", seed=3)
  for seed in range(3):  # unrelated models in between
    tfcnn.build_model("mlp", seed=seed)
  tf.random.uniform([5])  # and stateful random draws
  again = tfcnn.build_model("seed_cnn", seed=3)
  for va, vb in zip(first.variables, again.variables):
    np.testing.assert_array_equal(va.numpy(), vb.numpy())


def test_tf_function_with_none_batch_does_not_retrace_across_batch_sizes():
  model = tfcnn.build_model("fashion_cnn", seed=0)
  traces = []

  @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
  def forward(x):
    traces.append(1)
    return model(x, training=False)

  for batch in (1, 7, 64, 3):
    assert forward(tf.zeros([batch, 28, 28, 1])).shape == (batch, 10)
  assert len(traces) == 1


def test_model_checkpoint_round_trip(tmp_path):
  a = tfcnn.build_model("fashion_cnn", seed=1)
  b = tfcnn.build_model("fashion_cnn", seed=2)
  path = tf.train.Checkpoint(model=a).write(str(tmp_path / "ckpt"))
  tf.train.Checkpoint(model=b).read(path).assert_consumed()
  for va, vb in zip(a.variables, b.variables):
    np.testing.assert_array_equal(va.numpy(), vb.numpy())


def test_empty_model_is_refused():
  with pytest.raises(ValueError, match="at least one layer"):
    tfcnn.Sequential([])


def test_layers_given_explicit_seeds_keep_them():
  model = tfcnn.Sequential([layers.Flatten(), layers.Dense(3, seed=(9, 9))], seed=1)
  assert model.layers[0].seed == (1, 0)
  assert model.layers[1].seed == (9, 9)
