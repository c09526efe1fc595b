"""The ``tf.data`` input pipeline: in-memory uint8 arrays to float batches.

Datasets stay uint8 in memory (4x smaller than float32); a batch is scaled
to [0, 1] float32 when it is formed. The training loop, which draws batches
many times per run, scales its copy of the training images once instead
(:func:`scale` into the compute precision) and :func:`make_batch` gathers
from that: the same values, without a cast per step.

The training order of epoch ``e`` is a permutation drawn from ``(seed, e)``
alone, so any epoch — and any position inside it — can be reproduced
exactly, which is what exact resume needs.
"""

from typing import Sequence

import numpy as np
import tensorflow as tf

from tfcnn.data import augment


def scale(images: np.ndarray | tf.Tensor, dtype: tf.DType = tf.float32) -> tf.Tensor:
  """uint8 ``[n, h, w]`` (or ``[n, h, w, 1]``) → ``[n, h, w, 1]`` in [0, 1].

  Scaled in float32, then rounded to `dtype` (bfloat16, say) if it differs.
  """
  images = tf.convert_to_tensor(images)
  if images.shape.rank == 3:
    images = images[..., tf.newaxis]
  return tf.cast(tf.cast(images, tf.float32) / 255.0, dtype)


def epoch_order(num_examples: int, seed: int, epoch: int) -> np.ndarray:
  """The shuffled example order of `epoch`: a function of (seed, epoch) only."""
  return np.random.default_rng([seed, epoch]).permutation(num_examples)


def split_validation(images: np.ndarray, labels: np.ndarray, fraction: float,
                     seed: int) -> tuple[tuple[np.ndarray, np.ndarray],
                                         tuple[np.ndarray, np.ndarray]]:
  """Carves a seeded `fraction` of (images, labels) out as a validation set.

  Returns ``((train_images, train_labels), (val_images, val_labels))``.
  """
  if not 0.0 <= fraction < 1.0:
    raise ValueError(f"validation fraction must be in [0, 1), got {fraction!r}")
  order = np.random.default_rng([seed, 2**31 - 1]).permutation(len(images))
  n_val = int(round(fraction * len(images)))
  val, train = order[:n_val], order[n_val:]
  return (images[train], labels[train]), (images[val], labels[val])


def split(tensors: Sequence[tf.Tensor], shards: int) -> list[tuple[tf.Tensor, ...]]:
  """`shards` consecutive shards of a batch of `tensors` (sliced alike on
  their first axis), each of ``ceil(n / shards)`` examples but the last
  ones: fewer, or none when the batch has fewer examples than shards.

  How evaluation cuts a batch for the cores (:class:`tfcnn.training.evaluate.Evaluator`).
  """
  if shards == 1:
    return [tuple(tensors)]
  n = tf.shape(tensors[0])[0]
  size = (n + shards - 1) // shards
  return [tuple(t[k * size:(k + 1) * size] for t in tensors) for k in range(shards)]


def make_batch(images: tf.Tensor, labels: tf.Tensor, order: tf.Tensor, index: tf.Tensor,
               batch_size: int, seed: int = 0, epoch: tf.Tensor | int = 0,
               shift: int = 0) -> tuple[tf.Tensor, tf.Tensor]:
  """Batch number `index` of the example `order`, scaled (and shifted if `shift`).

  `images` are uint8 ``[n, h, w]`` (scaled here, to float32) or already
  scaled by :func:`scale` (float ``[n, h, w, 1]``, gathered as they are).
  The one definition of a batch, used both by the tf.data pipeline and by
  the in-graph batches of :mod:`tfcnn.fast.steps`, so the two yield the same
  tensors. The shifts are drawn from ``(seed, epoch * 2**20 + index)``.
  """
  index = tf.cast(index, tf.int64)
  start = index * batch_size
  chosen = order[start:tf.minimum(start + batch_size, tf.shape(order, out_type=tf.int64)[0])]
  x = tf.gather(images, chosen)
  if x.dtype == tf.uint8:
    x = scale(x)
  if shift:
    batch_seed = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64) * 2**20 + index])
    x = augment.shift(x, augment.draw_shifts(tf.shape(chosen)[0], shift, batch_seed))
  return x, tf.gather(labels, chosen)


def ordered_batches(images: np.ndarray, labels: np.ndarray, order: np.ndarray, batch_size: int,
                    seed: int = 0, epoch: int = 0, shift: int = 0,
                    skip: int = 0) -> tf.data.Dataset:
  """Batches of the examples in `order` (from batch `skip` on), built by :func:`make_batch`."""
  images = tf.constant(images)
  labels = tf.constant(labels.astype(np.int32))
  order = tf.constant(order.astype(np.int64))
  count = num_batches(len(order), batch_size)
  return (tf.data.Dataset.range(skip, count)
          .map(lambda i: make_batch(images, labels, order, i, batch_size, seed, epoch, shift),
               num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
          .prefetch(tf.data.AUTOTUNE))


def train_batches(images: np.ndarray, labels: np.ndarray, batch_size: int,
                  seed: int, epoch: int, skip: int = 0, shift: int = 0) -> tf.data.Dataset:
  """Shuffled batches of epoch `epoch`, starting after `skip` batches.

  Yields ``(float32 [b, h, w, 1], int32 [b])``; the last batch may be
  smaller. With `shift` > 0 every image is moved by up to `shift` pixels,
  drawn from ``(seed, epoch, batch index)``.
  """
  return ordered_batches(images, labels, epoch_order(len(images), seed, epoch), batch_size,
                  seed=seed, epoch=epoch, shift=shift, skip=skip)


def eval_batches(images: np.ndarray, labels: np.ndarray,
                 batch_size: int) -> tf.data.Dataset:
  """Batches in the stored order, for evaluation."""
  return ordered_batches(images, labels, np.arange(len(images)), batch_size)


def num_batches(num_examples: int, batch_size: int) -> int:
  """Batches per epoch (the last one may be partial)."""
  return -(-num_examples // batch_size)
