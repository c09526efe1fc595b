"""Many train steps per compiled call, from the training set held in memory.

One Python-to-TensorFlow round trip per batch costs more than a small
step's arithmetic. :class:`InMemoryRunner` runs up to ``steps_per_call``
steps in one ``tf.function`` call: batches are formed in-graph by
:func:`tfcnn.data.pipeline.make_batch` (the very batches the ``tf.data``
pipeline yields) from the training images, scaled once into the compute
precision, so there is no Python between steps and no per-step cast.
"""

import numpy as np
import tensorflow as tf

from tfcnn.data import pipeline
from tfcnn.training.runners import StepFn


class InMemoryRunner:
  """``run(epoch, first, count)`` as one compiled call of `count` steps."""

  def __init__(self, state, images: np.ndarray, labels: np.ndarray, step_fn: StepFn,
               stop_on_nonfinite: bool):
    self.state = state
    self.step_fn = step_fn
    self.stop_on_nonfinite = stop_on_nonfinite
    # Scaled once: 4 bytes per pixel in float32, 2 in bfloat16, 1 as uint8.
    self.images = pipeline.scale(images, state.compute_dtype)
    self.labels = tf.constant(labels.astype(np.int32))
    self._orders: dict[int, tf.Tensor] = {}
    self.steps = tf.function(self._steps, input_signature=[
        tf.TensorSpec([None], tf.int64, name="order"), tf.TensorSpec([], tf.int64, name="first"),
        tf.TensorSpec([], tf.int64, name="count"), tf.TensorSpec([], tf.int64, name="epoch")])

  def _steps(self, order, first, count, epoch):
    config = self.state.config
    done = tf.constant(0, tf.int64)
    finite = tf.constant(True)
    for i in tf.range(count):
      images, labels = pipeline.make_batch(self.images, self.labels, order, first + i,
                                           config.batch_size, config.order_seed, epoch,
                                           config.augment_shift)
      _, finite = self.step_fn(images, labels)
      if self.stop_on_nonfinite and not finite:
        break
      done += 1
    return done, finite

  def graph(self) -> tf.Graph:
    """The graph of the compiled multi-step loop (the step inside it)."""
    return self.steps.get_concrete_function().graph

  def run(self, epoch: int, first: int, count: int) -> tuple[int, bool]:
    """Batches ``first .. first + count - 1`` of `epoch`."""
    if epoch not in self._orders:
      self._orders = {epoch: tf.constant(
          pipeline.epoch_order(len(self.labels), self.state.config.order_seed, epoch))}
    done, finite = self.steps(self._orders[epoch], tf.constant(first, tf.int64),
                              tf.constant(count, tf.int64), tf.constant(epoch, tf.int64))
    return int(done), bool(finite)
