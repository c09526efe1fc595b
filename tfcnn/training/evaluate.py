"""Evaluation: the model's mean loss and accuracy on a dataset."""

import functools

import numpy as np
import tensorflow as tf

from tfcnn import geometry, losses, metrics
from tfcnn.data import pipeline


class Evaluator:
  """Mean loss and accuracy of `state`'s model, in inference mode.

  Each batch is cut into `shards` computed side by side (one per core, as
  in training: :mod:`tfcnn.fast.shards`); a shard left empty by a small
  batch is skipped.
  """

  def __init__(self, state, shards: int = 1):
    self.state = state
    self.shards = shards
    rows = geometry.layer_geometry(state.model.layers, state.input_shape)
    self._classes = rows[-1].output_shape[-1]
    self.step = tf.function(self._step, input_signature=state.batch_spec())

  def logits(self, images: tf.Tensor) -> tf.Tensor:
    """float32 logits of a batch, in inference mode."""
    model, dtype = self.state.model, self.state.compute_dtype
    forward = lambda x: tf.cast(model(tf.cast(x, dtype), training=False), tf.float32)
    parts = []
    for k, (x,) in enumerate(pipeline.split([images], self.shards)):
      if k == 0:
        parts.append(forward(x))
      else:   # convolutions refuse empty batches
        empty = lambda: tf.zeros([0, self._classes])
        parts.append(tf.cond(tf.shape(x)[0] > 0, functools.partial(forward, x), empty))
    return tf.concat(parts, 0)

  def _step(self, images: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    logits = self.logits(images)
    per_example = losses.sparse_softmax_cross_entropy(labels, logits)
    self.state.eval_loss.update(per_example)
    self.state.eval_accuracy.update(metrics.correct(labels, logits))
    return tf.reduce_mean(per_example)

  def __call__(self, images: np.ndarray, labels: np.ndarray,
               batch_size: int = 1000) -> tuple[float, float]:
    """``(mean loss, accuracy)`` on (images, labels)."""
    self.state.eval_loss.reset()
    self.state.eval_accuracy.reset()
    for x, y in pipeline.eval_batches(images, labels, batch_size):
      self.step(x, y)
    return float(self.state.eval_loss.result()), float(self.state.eval_accuracy.result())
