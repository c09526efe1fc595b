"""L1 / L2 weight penalties over kernels (never biases), as the seed's MLP."""

from typing import Sequence

import tensorflow as tf


def l1_l2_penalty(kernels: Sequence[tf.Variable], l1: float = 0.0,
                  l2: float = 0.0) -> tf.Tensor:
  """``l1 · Σ|w| + l2 · Σw²`` over `kernels` (Keras's L1L2 convention)."""
  if l1 < 0 or l2 < 0:
    raise ValueError(f"l1 and l2 must be >= 0, got {l1!r}, {l2!r}")
  total = tf.constant(0.0, tf.float32)
  for kernel in kernels:
    if l1:
      total += l1 * tf.reduce_sum(tf.abs(kernel))
    if l2:
      total += l2 * tf.reduce_sum(tf.square(kernel))
  return total
