"""Plain stochastic gradient descent."""

import tensorflow as tf

from tfcnn.optimizers import base


def sgd_update(g, v, lr):
  """``v - lr * g``."""
  return v - lr * g


class SGD(base.Optimizer):
  """``v ← v − lr·g``."""

  def __init__(self, learning_rate=0.01, name: str = "sgd", fused: bool = True):
    super().__init__(learning_rate, name=name, fused=fused)

  def _update(self, g, v, slots, lr, t):
    return sgd_update(g, v, lr), []

  def _fused_update(self, g, variable, slots, lr, t) -> None:
    tf.raw_ops.ResourceApplyGradientDescent(var=variable.handle, alpha=lr, delta=g)
