"""Activation functions by name.

The names are the ones the spec grammar and the layers accept:
``relu, selu, elu, sigmoid, tanh, softmax, linear``.
"""

from typing import Callable

import tensorflow as tf

Activation = Callable[[tf.Tensor], tf.Tensor]


def _linear(x: tf.Tensor) -> tf.Tensor:
  return x


ACTIVATIONS: dict[str, Activation] = {
    "relu": tf.nn.relu,
    "selu": tf.nn.selu,
    "elu": tf.nn.elu,
    "sigmoid": tf.math.sigmoid,
    "tanh": tf.math.tanh,
    "softmax": tf.nn.softmax,
    "linear": _linear,
}


def get(name: str | None) -> Activation:
  """Returns the activation called `name` (``None`` means linear).

  Raises:
    ValueError: for an unknown name, listing the known ones.
  """
  if name is None:
    return _linear
  try:
    return ACTIVATIONS[name]
  except KeyError:
    raise ValueError(
        f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}"
    ) from None
