"""Seeded, stateless weight initialisers.

Every initialiser is a pure function of ``(shape, seed, dtype)`` built on
TensorFlow's stateless random ops, so the same seed gives bitwise the same
values whatever else has been created before, in whatever order. The formulas
are Keras's (Glorot & Bengio 2010; He et al. 2015; LeCun et al. 1998 for SELU),
so a tfcnn model starts from the same distribution as its Keras twin.

Fans follow TensorFlow's layouts: a dense kernel is ``(in, out)``; a conv
kernel is HWIO, whose fans are ``h * w * in`` and ``h * w * out``.
"""

import math
from typing import Callable, Sequence

import tensorflow as tf

Seed = tuple[int, int]
Initializer = Callable[[Sequence[int], Seed, tf.DType], tf.Tensor]

# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it
# makes a truncated normal have the intended variance (as Keras does).
_TRUNCATED_STDDEV = 0.87962566103423978


def fans(shape: Sequence[int]) -> tuple[int, int]:
  """Returns ``(fan_in, fan_out)`` of a dense ``(in, out)`` or HWIO kernel."""
  if len(shape) < 1:
    return 1, 1
  if len(shape) == 1:
    return shape[0], shape[0]
  receptive = math.prod(shape[:-2])
  return receptive * shape[-2], receptive * shape[-1]


def zeros(shape: Sequence[int], seed: Seed, dtype: tf.DType = tf.float32) -> tf.Tensor:
  """All zeros (the seed is ignored)."""
  del seed
  return tf.zeros(shape, dtype)


def ones(shape: Sequence[int], seed: Seed, dtype: tf.DType = tf.float32) -> tf.Tensor:
  """All ones (the seed is ignored); batch norm's scale starts here."""
  del seed
  return tf.ones(shape, dtype)


def glorot_uniform(shape: Sequence[int], seed: Seed, dtype: tf.DType = tf.float32) -> tf.Tensor:
  """Uniform on ±sqrt(6 / (fan_in + fan_out)) — Keras's default."""
  fan_in, fan_out = fans(shape)
  limit = math.sqrt(6.0 / (fan_in + fan_out))
  return tf.random.stateless_uniform(shape, seed, -limit, limit, dtype=dtype)


def _truncated(shape: Sequence[int], seed: Seed, dtype: tf.DType, fan: int) -> tf.Tensor:
  stddev = math.sqrt(1.0 / fan) / _TRUNCATED_STDDEV
  return tf.random.stateless_truncated_normal(shape, seed, 0.0, stddev, dtype=dtype)


def he_normal(shape: Sequence[int], seed: Seed, dtype: tf.DType = tf.float32) -> tf.Tensor:
  """Truncated normal with variance 2 / fan_in, for ReLU layers."""
  fan_in, _ = fans(shape)
  return _truncated(shape, seed, dtype, fan_in) * math.sqrt(2.0)


def lecun_normal(shape: Sequence[int], seed: Seed, dtype: tf.DType = tf.float32) -> tf.Tensor:
  """Truncated normal with variance 1 / fan_in, for SELU layers."""
  fan_in, _ = fans(shape)
  return _truncated(shape, seed, dtype, fan_in)


INITIALIZERS: dict[str, Initializer] = {
    "glorot_uniform": glorot_uniform,
    "he_normal": he_normal,
    "lecun_normal": lecun_normal,
    "zeros": zeros,
    "ones": ones,
}


def get(name: str) -> Initializer:
  """Returns the initialiser called `name`."""
  try:
    return INITIALIZERS[name]
  except KeyError:
    raise ValueError(
        f"unknown initializer {name!r}; known: {', '.join(INITIALIZERS)}"
    ) from None
