"""Plain stochastic gradient descent."""

from tfcnn.optimizers import base


def sgd_update(g, v, lr):
  """``v - lr * g``."""
  return v - lr * g


class SGD(base.Optimizer):
  """``v ← v − lr·g``."""

  def __init__(self, learning_rate=0.01, name: str = "sgd"):
    super().__init__(learning_rate, name=name)

  def _update(self, g, v, slots, lr, t):
    return sgd_update(g, v, lr), []
