"""The fast paths of the loop compute what the plain ones do."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from tfcnn import training
from tfcnn.data import pipeline
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
  trainer = training.Trainer(dataclasses.replace(CONFIG, compute_dtype=dtype.name),
                             (28, 28, 1), 3)
  prepared, _ = trainer.data_tensors(images, labels.numpy())
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
  assert bool(tf.function(all_finite)(losses, gradients))
  if where == "loss":
    losses[1] = bad
  else:
    gradients[0][2, 1] = bad
  assert not bool(tf.function(all_finite)(losses, gradients))


def test_the_finite_check_does_not_overflow_on_huge_finite_values():
  huge = np.full(1000, 3e38, np.float32)   # sums to Inf; every value is finite
  assert bool(tf.function(all_finite)(huge, [huge, tf.cast(huge, tf.bfloat16)]))


@pytest.mark.parametrize("shards", [1, 3])
def test_multi_step_calls_equal_single_steps(shards):
  # With shards, the multi-step call forms each shard apart (augmented too);
  # the single steps get whole batches, which the trainer cuts.
  rng = np.random.default_rng(1)
  images = tf.constant(rng.integers(0, 256, (200, 28, 28), dtype=np.uint8))
  labels = tf.constant(rng.integers(0, 10, 200).astype(np.int32))
  order = tf.constant(pipeline.epoch_order(200, 5, 0))
  config = dataclasses.replace(CONFIG, batch_shards=shards)
  one_call, step_by_step = (training.Trainer(config, (28, 28, 1), 5) for _ in range(2))
  one_call.train_steps(pipeline.scale(images), labels, order, tf.constant(0, tf.int64),
                       tf.constant(5, tf.int64), tf.constant(0, tf.int64))
  for b in range(5):
    x, y = pipeline.make_batch(images, labels, order, b, 48, 5, 0, 2)
    step_by_step.train_step(x, y)
  for a, b in zip(one_call.model.variables, step_by_step.model.variables):
    # Different graphs may pick different kernels: equal up to float rounding.
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
  assert int(one_call.step) == int(step_by_step.step) == 5


def _whole_and_split(seed: int, **split):
  """Trainers of a 1000-image seed-CNN batch (with an L2 penalty), one whole
  and one split as `split` says, and both one's losses, logits and gradients."""
  rng = np.random.default_rng(seed)
  x = tf.constant(rng.uniform(size=(1000, 28, 28, 1)).astype(np.float32))
  y = tf.constant(rng.integers(0, 10, 1000).astype(np.int32))
  base = dataclasses.replace(CONFIG, batch_size=1000, l2=1e-3, model="seed_cnn",
                             micro_batch_size=0)
  whole = training.Trainer(base, (28, 28, 1), 1)
  split = training.Trainer(dataclasses.replace(base, **split), (28, 28, 1), 1)
  return (whole, split, tf.function(whole.loss_and_gradients)(x, y),
          tf.function(split.loss_and_gradients)(x, y))


def _assert_same_update(whole, split):
  """Losses equal to 1e-5, gradients to 1e-5 relative (the issue's bound)."""
  (loss_a, _, grads_a), (loss_b, _, grads_b) = whole, split
  np.testing.assert_allclose(loss_a.numpy(), loss_b.numpy(), rtol=1e-5, atol=1e-6)
  for ga, gb in zip(grads_a, grads_b):
    relative = np.linalg.norm(ga.numpy() - gb.numpy()) / np.linalg.norm(ga.numpy())
    assert relative <= 1e-5


@pytest.mark.parametrize("micro", [64, 100, 333])
def test_micro_batched_gradients_equal_full_batch_gradients(micro):
  full, split, a, b = _whole_and_split(2, micro_batch_size=micro)
  assert split.uses_micro_batches and not full.uses_micro_batches
  _assert_same_update(a, b)


@pytest.mark.parametrize("shards,micro", [(2, 0), (3, 0), (2, 128), (4, 100)])
def test_sharded_gradients_equal_full_batch_gradients(shards, micro):
  _, split, a, b = _whole_and_split(3, batch_shards=shards, micro_batch_size=micro)
  assert split.batch_shards == shards and split.uses_micro_batches == bool(micro)
  _assert_same_update(a, b)
  np.testing.assert_allclose(a[1].numpy(), b[1].numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_a_batch_smaller_than_the_shard_count_leaves_shards_empty_and_still_trains(n):
  # The last batch of an epoch can hold a single image; 4 shards of it: 3 empty.
  rng = np.random.default_rng(4)
  x = tf.constant(rng.uniform(size=(n, 28, 28, 1)).astype(np.float32))
  y = tf.constant(rng.integers(0, 10, n).astype(np.int32))
  full = training.Trainer(dataclasses.replace(CONFIG, batch_size=8), (28, 28, 1), 1)
  split = training.Trainer(dataclasses.replace(CONFIG, batch_size=8, batch_shards=4),
                           (28, 28, 1), 1)
  loss_a, _, grads_a = tf.function(full.loss_and_gradients)(x, y)
  loss_b, logits_b, grads_b = tf.function(split.loss_and_gradients)(x, y)
  assert loss_b.shape == (n,) and logits_b.shape == (n, 10)
  np.testing.assert_allclose(loss_a.numpy(), loss_b.numpy(), rtol=1e-5, atol=1e-6)
  for ga, gb in zip(grads_a, grads_b):
    np.testing.assert_allclose(ga.numpy(), gb.numpy(), rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(full.logits(x).numpy(), split.logits(x).numpy(), rtol=1e-5,
                             atol=1e-6)


def test_sharded_training_and_evaluation_match_unsharded_ones(tmp_path):
  # 256 images at batch 48: five full batches and one of 16, in 3 shards.
  config = dataclasses.replace(CONFIG, epochs=2, train_limit=256, test_limit=300)
  whole = training.train(config, tmp_path / "whole")
  sharded = training.train(dataclasses.replace(config, batch_shards=3), tmp_path / "sharded")
  assert sharded["steps"] == whole["steps"] == 12
  assert abs(sharded["test_accuracy"] - whole["test_accuracy"]) <= 2 / 300
  assert sharded["test_loss"] == pytest.approx(whole["test_loss"], rel=1e-3)
  a, b = (training.load_model(tmp_path / name) for name in ("whole", "sharded"))
  for va, vb in zip(a.variables, b.variables):
    np.testing.assert_allclose(va.numpy(), vb.numpy(), rtol=1e-3, atol=1e-5)


def test_shards_are_never_used_with_batch_norm_or_xla():
  config = dataclasses.replace(CONFIG, batch_size=256, batch_shards=2)
  assert training.Trainer(config, (28, 28, 1), 1).batch_shards == 2
  with_bn = dataclasses.replace(config, model="conv4k3:linear-bn-relu-flatten-dense10")
  assert training.Trainer(with_bn, (28, 28, 1), 1).batch_shards == 1
  xla = dataclasses.replace(config, jit_compile=True)
  assert training.Trainer(xla, (28, 28, 1), 1).batch_shards == 1


def test_micro_batches_are_never_used_with_batch_norm():
  config = dataclasses.replace(CONFIG, model="conv4k3:linear-bn-relu-flatten-dense10",
                               batch_size=256, micro_batch_size=64)
  assert not training.Trainer(config, (28, 28, 1), 1).uses_micro_batches


def test_bfloat16_compute_keeps_float32_master_weights_and_learns_as_well(tmp_path):
  config = dataclasses.replace(CONFIG, epochs=2, train_limit=960, test_limit=400, batch_size=32)
  f32 = training.train(config, tmp_path / "f32")
  bf16 = training.train(dataclasses.replace(config, compute_dtype="bfloat16"), tmp_path / "bf16")
  model = training.load_model(tmp_path / "bf16")
  assert all(v.dtype == tf.float32 for v in model.variables)
  assert bf16["weights_sha256"] != f32["weights_sha256"]      # it did compute in bfloat16
  assert bf16["test_accuracy"] >= f32["test_accuracy"] - 0.05
