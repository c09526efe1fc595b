"""RMSprop (Tieleman & Hinton 2012)."""

import tensorflow as tf

from tfcnn.optimizers import base


def rmsprop_update(g, v, ms, lr, rho: float, epsilon: float):
  """``ms ← ρ·ms + (1−ρ)·g²``; ``v ← v − lr·g / sqrt(ms + ε)`` (Keras 3).
  Returns ``(v, ms)``."""
  ms = rho * ms + (1.0 - rho) * tf.square(g)
  return v - lr * g / tf.sqrt(ms + epsilon), ms


class RMSprop(base.Optimizer):
  """Divides the step by a running root-mean-square of the gradients."""

  # The fused kernel (ResourceApplyRMSProp) also keeps a momentum slot; with
  # momentum 0, as here and in Keras's default, it stays 0.
  slot_names = ("mean_square", "momentum")

  def __init__(self, learning_rate=0.001, rho: float = 0.9,
               epsilon: float = 1e-7, name: str = "rmsprop", fused: bool = True):
    super().__init__(learning_rate, name=name, fused=fused)
    if not 0.0 <= rho < 1.0:
      raise ValueError(f"rho must be in [0, 1), got {rho!r}")
    self.rho, self.epsilon = float(rho), float(epsilon)

  def _update(self, g, v, slots, lr, t):
    v, ms = rmsprop_update(g, v, slots[0], lr, self.rho, self.epsilon)
    return v, [ms, slots[1]]

  def _fused_update(self, g, variable, slots, lr, t) -> None:
    dtype = variable.dtype
    tf.raw_ops.ResourceApplyRMSProp(
        var=variable.handle, ms=slots[0].handle, mom=slots[1].handle, lr=lr,
        rho=tf.cast(self.rho, dtype), momentum=tf.cast(0.0, dtype),
        epsilon=tf.cast(self.epsilon, dtype), grad=g)
