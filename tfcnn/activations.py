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


def resolve(activation: "str | Activation | None") -> tuple[str, Activation, bool]:
  """``(name, function, known)`` for an activation given by name or as a function.

  A function is looked up among the known ones (``tf.nn.relu`` is
  ``"relu"``); any other callable is accepted as a custom activation, named
  after its ``__name__`` and marked unknown (``known`` False): the spec
  grammar cannot name it.

  Raises:
    ValueError: for an unknown name, listing the known ones.
  """
  if activation is None or isinstance(activation, str):
    return activation or "linear", get(activation), True
  if not callable(activation):
    raise ValueError(f"an activation is a name ({', '.join(ACTIVATIONS)}) or a function, "
                     f"got {activation!r}")
  for name, function in ACTIVATIONS.items():
    if function is activation:
      return name, function, True
  return getattr(activation, "__name__", type(activation).__name__), activation, False


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
