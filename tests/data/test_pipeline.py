"""The input pipeline: scaling, seeded order, resumable position, augmented and sharded batches."""

import numpy as np
import pytest
import tensorflow as tf

from tfcnn.data import pipeline


def _arrays(n=10):
  images = np.arange(n, dtype=np.uint8)[:, None, None] * np.ones((1, 4, 4), np.uint8)
  return images, np.arange(n, dtype=np.uint8)


def test_scale_to_unit_float_with_a_channel_axis():
  x = pipeline.scale(np.array([[[0, 255]]], np.uint8))
  assert x.dtype == tf.float32 and x.shape == (1, 1, 2, 1)
  np.testing.assert_array_equal(x.numpy().ravel(), [0.0, 1.0])


def test_epoch_order_depends_on_seed_and_epoch_only():
  a = pipeline.epoch_order(100, 3, 0)
  np.testing.assert_array_equal(a, pipeline.epoch_order(100, 3, 0))
  assert not np.array_equal(a, pipeline.epoch_order(100, 3, 1))
  assert not np.array_equal(a, pipeline.epoch_order(100, 4, 0))
  assert sorted(a) == list(range(100))


def test_train_batches_cover_the_epoch_and_skip_resumes_exactly():
  images, labels = _arrays(10)
  full = [y.numpy().tolist() for _, y in pipeline.train_batches(images, labels, 3, 1, 0)]
  assert [len(b) for b in full] == [3, 3, 3, 1]
  assert sorted(sum(full, [])) == list(range(10))
  resumed = [y.numpy().tolist() for _, y in pipeline.train_batches(images, labels, 3, 1, 0, skip=2)]
  assert resumed == full[2:]


def test_images_and_labels_stay_paired():
  images, labels = _arrays(10)
  for x, y in pipeline.train_batches(images, labels, 4, 0, 0):
    np.testing.assert_allclose(x.numpy()[:, 0, 0, 0] * 255, y.numpy(), atol=1e-4)


def test_augmented_batches_are_reproducible_on_resume():
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (20, 8, 8), dtype=np.uint8)
  labels = np.zeros(20, np.uint8)
  full = [x.numpy() for x, _ in pipeline.train_batches(images, labels, 5, 2, 1, shift=2)]
  resumed = [x.numpy() for x, _ in pipeline.train_batches(images, labels, 5, 2, 1, skip=3, shift=2)]
  np.testing.assert_array_equal(full[3], resumed[0])
  plain = [x.numpy() for x, _ in pipeline.train_batches(images, labels, 5, 2, 1)]
  assert not np.array_equal(full[0], plain[0])



@pytest.mark.parametrize("n,shards,sizes", [(10, 1, [10]), (10, 3, [4, 4, 2]), (3, 4, [1, 1, 1, 0]),
                                             (8, 2, [4, 4])])
def test_split_cuts_consecutive_shards_of_equal_size_but_the_last(n, shards, sizes):
  x, y = tf.range(n), tf.range(n) * 10
  parts = pipeline.split([x, y], shards)
  assert [len(a) for a, _ in parts] == sizes
  np.testing.assert_array_equal(tf.concat([a for a, _ in parts], 0), x)
  np.testing.assert_array_equal(tf.concat([b for _, b in parts], 0), y)


def test_validation_split_is_seeded_and_disjoint():
  images, labels = _arrays(10)
  (tx, ty), (vx, vy) = pipeline.split_validation(images, labels, 0.3, seed=1)
  assert len(vy) == 3 and len(ty) == 7
  assert sorted(np.concatenate([ty, vy]).tolist()) == list(range(10))
  (_, ty2), _ = pipeline.split_validation(images, labels, 0.3, seed=1)
  np.testing.assert_array_equal(ty, ty2)
  with pytest.raises(ValueError, match="validation fraction"):
    pipeline.split_validation(images, labels, 1.0, seed=1)
