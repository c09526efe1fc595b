"""Optimisers on plain ``tf.Variable``s, schedules and weight penalties."""

from tfcnn.optimizers.adam import Adam
from tfcnn.optimizers.base import Optimizer, all_reduce_gradients
from tfcnn.optimizers.momentum import Momentum
from tfcnn.optimizers.regularizers import l1_l2_penalty
from tfcnn.optimizers.rmsprop import RMSprop
from tfcnn.optimizers.schedules import (Constant, CosineDecay, ExponentialDecay,
                                        Schedule)
from tfcnn.optimizers.sgd import SGD

NAMES = ("sgd", "momentum", "nesterov", "rmsprop", "adam")


def make(name: str, learning_rate: float | Schedule, momentum: float = 0.9) -> Optimizer:
  """Builds an optimiser by name: sgd, momentum, nesterov, rmsprop or adam."""
  if name == "sgd":
    return SGD(learning_rate)
  if name in ("momentum", "nesterov"):
    return Momentum(learning_rate, momentum=momentum, nesterov=name == "nesterov")
  if name == "rmsprop":
    return RMSprop(learning_rate)
  if name == "adam":
    return Adam(learning_rate)
  raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(NAMES)}")


__all__ = ["Adam", "Constant", "CosineDecay", "ExponentialDecay", "Momentum",
           "NAMES", "Optimizer", "RMSprop", "all_reduce_gradients", "SGD", "Schedule",
           "l1_l2_penalty", "make"]
