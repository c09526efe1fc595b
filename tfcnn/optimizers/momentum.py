"""SGD with (optionally Nesterov) momentum."""

import tensorflow as tf

from tfcnn.optimizers import base


def momentum_update(g, v, m, lr, momentum: float, nesterov: bool):
  """Keras's formulation: ``m ← μ·m − lr·g``; ``v ← v + m`` (Nesterov:
  ``v ← v + μ·m − lr·g``). Returns ``(v, m)``."""
  m = momentum * m - lr * g
  if nesterov:
    return v + momentum * m - lr * g, m
  return v + m, m


class Momentum(base.Optimizer):
  """Heavy-ball momentum, or Nesterov's accelerated gradient."""

  slot_names = ("momentum",)

  def __init__(self, learning_rate=0.01, momentum: float = 0.9,
               nesterov: bool = False, name: str = "momentum", fused: bool = True):
    super().__init__(learning_rate, name=name, fused=fused)
    if not 0.0 <= momentum < 1.0:
      raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    self.momentum = float(momentum)
    self.nesterov = bool(nesterov)

  def _update(self, g, v, slots, lr, t):
    v, m = momentum_update(g, v, slots[0], lr, self.momentum, self.nesterov)
    return v, [m]

  def _fused_update(self, g, variable, slots, lr, t) -> None:
    tf.raw_ops.ResourceApplyKerasMomentum(
        var=variable.handle, accum=slots[0].handle, lr=lr, grad=g,
        momentum=tf.cast(self.momentum, variable.dtype), use_nesterov=self.nesterov)
