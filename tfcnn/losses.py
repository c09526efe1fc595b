"""Losses."""

import tensorflow as tf


def sparse_softmax_cross_entropy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
  """Per-example cross-entropy ``[batch]`` of integer `labels` under `logits`.

  Computed in float32 whatever the logits' dtype, for a stable loss under
  bfloat16 compute.
  """
  return tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=tf.cast(labels, tf.int32), logits=tf.cast(logits, tf.float32))
