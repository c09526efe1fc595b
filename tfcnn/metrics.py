"""Metrics: accuracy and a running mean that lives in variables."""

import tensorflow as tf


def correct(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
  """``[batch]`` float32, 1 where the arg-max of `logits` equals the label."""
  predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
  return tf.cast(tf.equal(predictions, tf.cast(labels, tf.int32)), tf.float32)


def accuracy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
  """The fraction of examples whose arg-max logit is the label."""
  return tf.reduce_mean(correct(labels, logits))


class Mean(tf.Module):
  """A running (weighted) mean kept in two variables, usable in tf.function."""

  def __init__(self, name: str = "mean"):
    super().__init__(name=name)
    with self.name_scope:
      self.total = tf.Variable(0.0, trainable=False, name="total",
                               aggregation=tf.VariableAggregation.SUM)
      self.count = tf.Variable(0.0, trainable=False, name="count",
                               aggregation=tf.VariableAggregation.SUM)

  def update(self, values: tf.Tensor, mask: tf.Tensor | None = None) -> None:
    """Adds every element of `values` to the mean (nothing if `mask` is false)."""
    values = tf.cast(values, tf.float32)
    self.add(tf.reduce_sum(values), tf.cast(tf.size(values), tf.float32), mask)

  def add(self, total: tf.Tensor, count: tf.Tensor, mask: tf.Tensor | None = None) -> None:
    """Adds `count` values summing to `total` (nothing if `mask` is false)."""
    if mask is not None:
      keep = tf.cast(mask, tf.float32)
      total = tf.where(mask, total, 0.0)   # a NaN total must not leak through
      count *= keep
    self.total.assign_add(total)
    self.count.assign_add(count)

  def result(self) -> tf.Tensor:
    """The mean so far (0 before any update)."""
    return tf.math.divide_no_nan(self.total, self.count)

  def reset(self) -> None:
    """Forgets everything."""
    self.total.assign(0.0)
    self.count.assign(0.0)
