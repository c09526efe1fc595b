"""The fast paths compute the plain step's update: bit for bit on one CPU
device, and the unit sum within 1e-5 of one tape over the whole batch."""

import dataclasses
import functools

import numpy as np
import pytest
import tensorflow as tf

from tfcnn import training
from tfcnn.data import pipeline
from tfcnn.fast import shards as shards_lib
from tfcnn.training import step
from tfcnn.training.finite import all_finite

CONFIG = training.TrainConfig(model="conv4k3-maxpool2-flatten-dense10", batch_size=48, seed=5,
                              augment_shift=2)


def test_in_graph_batches_are_the_tf_data_pipelines_batches():
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (100, 28, 28), dtype=np.uint8)
  labels = rng.integers(0, 10, 100).astype(np.uint8)
  order = tf.constant(pipeline.epoch_order(100, 5, 3))
  from_tf_data = list(pipeline.train_batches(images, labels, 48, seed=5, epoch=3, shift=2))
  for index, (x, y) in enumerate(from_tf_data):
    gx, gy = pipeline.make_batch(tf.constant(images), tf.constant(labels.astype(np.int32)), order,
                                 index, 48, seed=5, epoch=3, shift=2)
    np.testing.assert_array_equal(gx.numpy(), x.numpy())
    np.testing.assert_array_equal(gy.numpy(), y.numpy())


@pytest.mark.parametrize("dtype", [tf.float32, tf.bfloat16])
def test_batches_from_pre_scaled_images_equal_batches_scaled_per_step(dtype):
  rng = np.random.default_rng(3)
  images = rng.integers(0, 256, (100, 28, 28), dtype=np.uint8)
  labels = tf.constant(rng.integers(0, 10, 100).astype(np.int32))
  order = tf.constant(pipeline.epoch_order(100, 5, 1))
  prepared = pipeline.scale(images, dtype)
  assert prepared.dtype == dtype and prepared.shape == (100, 28, 28, 1)
  for index in range(3):
    per_step, _ = pipeline.make_batch(tf.constant(images), labels, order, index, 48, 5, 1, 2)
    pre_scaled, _ = pipeline.make_batch(prepared, labels, order, index, 48, 5, 1, 2)
    assert pre_scaled.dtype == dtype
    np.testing.assert_array_equal(pre_scaled.numpy(), tf.cast(per_step, dtype).numpy())


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_the_finite_check_catches_any_nan_or_inf(bad, where):
  losses = np.array([1.0, 2.0, 3.0], np.float32)
  gradients = [np.ones((4, 3), np.float32), np.zeros(3, np.float32)]
  assert bool(tf.function(all_finite)([losses, *gradients]))
  if where == "loss":
    losses[1] = bad
  else:
    gradients[0][2, 1] = bad
  assert not bool(tf.function(all_finite)([losses, *gradients]))


def test_the_finite_check_does_not_overflow_on_huge_finite_values():
  huge = np.full(1000, 3e38, np.float32)   # sums to Inf; every value is finite
  assert bool(tf.function(all_finite)([huge, huge, tf.cast(huge, tf.bfloat16)]))


# 230 images at batch 48: four batches of 48 and one of 38; units of 20 (the
# last of each batch smaller); dropout draws and an L2 penalty on the way.
# (Not --deterministic, which is process-wide and would refuse XLA in later
# tests: on one CPU device the bits are equal without it; the scripts' test
# checks --deterministic across cores.)
BITS = dataclasses.replace(CONFIG, model="conv4k3-maxpool2-dropout0.2-flatten-dense10",
                           epochs=2, train_limit=230, test_limit=64, unit_size=20, l2=1e-3)


@pytest.mark.parametrize("run", [
    training.RunConfig(steps_per_call=1),                      # the plain runner
    training.RunConfig(steps_per_call=50),                     # many steps per call
    training.RunConfig(steps_per_call=3, batch_shards=2),
    training.RunConfig(steps_per_call=50, batch_shards=3),
    training.RunConfig(steps_per_call=1, batch_shards=4),
], ids=["plain", "50-per-call", "2-shards", "3-shards", "4-shards-plain-runner"])
def test_every_runner_and_shard_count_learns_the_plain_steps_weights_bit_for_bit(tmp_path, run):
  plain = training.train(BITS, tmp_path / "plain", run=training.RunConfig(steps_per_call=1))
  fast = training.train(BITS, tmp_path / "fast", run=run)
  assert fast["steps"] == plain["steps"] == 10 and fast["unit_size"] == 20
  assert fast["weights_sha256"] == plain["weights_sha256"]
  assert fast["epochs"][-1]["train_loss"] == plain["epochs"][-1]["train_loss"]
  assert abs(fast["test_accuracy"] - plain["test_accuracy"]) <= 1 / 64   # sharded evaluation


def _batch(n: int, seed: int = 3):
  rng = np.random.default_rng(seed)
  return (tf.constant(rng.uniform(size=(n, 28, 28, 1)).astype(np.float32)),
          tf.constant(rng.integers(0, 10, n).astype(np.int32)))


def _update(config: training.TrainConfig, images, labels, shards: int = 0):
  """The weights after one compiled update from `images` (sharded if `shards`)."""
  state = training.TrainState(config, (28, 28, 1), 1)
  fn = (functools.partial(shards_lib.sharded_train_step, state, shards=shards) if shards
        else functools.partial(step.train_step, state))
  _, finite = tf.function(fn)(images, labels)
  assert bool(finite)
  return [v.numpy() for v in state.model.trainable_variables]


@pytest.mark.parametrize("unit", [64, 100, 333])
def test_units_summed_in_order_equal_one_tape_over_the_whole_batch(unit):
  x, y = _batch(1000)
  base = dataclasses.replace(CONFIG, model="seed_cnn", batch_size=1000, l2=1e-3,
                             optimizer="sgd", learning_rate=1.0, lr_schedule="constant")
  before = [v.numpy() for v in training.TrainState(base, (28, 28, 1), 1).model.trainable_variables]
  whole = _update(dataclasses.replace(base, unit_size=1000), x, y)
  units = _update(dataclasses.replace(base, unit_size=unit), x, y)
  for b, w, u in zip(before, whole, units):   # SGD at rate 1: the change is the gradient
    relative = np.linalg.norm((w - b) - (u - b)) / np.linalg.norm(w - b)
    assert relative <= 1e-5


@pytest.mark.parametrize("n", [1, 2, 3, 5, 9])
@pytest.mark.parametrize("shards", [2, 4])
def test_a_batch_with_fewer_units_than_shards_still_gives_the_plain_update(n, shards):
  # The last batch of an epoch can hold a single image: most shards idle.
  x, y = _batch(n, seed=n)
  config = dataclasses.replace(CONFIG, batch_size=8, unit_size=2)
  plain, sharded = _update(config, x, y), _update(config, x, y, shards=shards)
  for a, b in zip(plain, sharded):
    np.testing.assert_array_equal(a, b)


def test_a_batch_norm_model_takes_the_whole_batch_as_one_unit():
  config = dataclasses.replace(CONFIG, model="conv4k3:linear-bn-relu-flatten-dense10",
                               batch_size=256, unit_size=16)
  assert training.TrainState(config, (28, 28, 1), 1).unit_size == 256


@pytest.mark.parametrize("model,dtype,batch,unit,expected", [
    ("conv4k3-maxpool2-flatten-dense10", "float32", 32, 0, 16),
    ("conv4k3-maxpool2-flatten-dense10", "float32", 64, 0, 32),
    ("conv4k3-maxpool2-flatten-dense10", "float32", 500, 0, 32),
    ("conv4k3-maxpool2-flatten-dense10", "float32", 8, 0, 8),
    ("conv4k3-maxpool2-flatten-dense10", "float32", 12, 0, 8),
    ("conv4k3-maxpool2-flatten-dense10", "bfloat16", 500, 0, 250),
    ("conv4k3-maxpool2-flatten-dense10", "bfloat16", 20000, 0, 256),
    ("mlp", "float32", 500, 0, 250),
    ("conv4k3-maxpool2-flatten-dense10", "float32", 500, 100, 100),
    ("conv4k3-maxpool2-flatten-dense10", "float32", 50, 100, 50)])
def test_the_unit_size_is_a_function_of_the_learned_configuration(model, dtype, batch, unit,
                                                                  expected):
  config = dataclasses.replace(CONFIG, model=model, compute_dtype=dtype, batch_size=batch,
                               unit_size=unit)
  assert training.TrainState(config, (28, 28, 1), 1).unit_size == expected


def test_bfloat16_compute_keeps_float32_master_weights_and_learns_as_well(tmp_path):
  config = dataclasses.replace(CONFIG, epochs=2, train_limit=960, test_limit=400, batch_size=32)
  f32 = training.train(config, tmp_path / "f32")
  bf16 = training.train(dataclasses.replace(config, compute_dtype="bfloat16"), tmp_path / "bf16")
  model = training.load_model(tmp_path / "bf16")
  assert all(v.dtype == tf.float32 for v in model.variables)
  assert bf16["weights_sha256"] != f32["weights_sha256"]      # it did compute in bfloat16
  assert bf16["test_accuracy"] >= f32["test_accuracy"] - 0.05
