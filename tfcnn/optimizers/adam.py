"""Adam (Kingma & Ba 2015)."""

import tensorflow as tf

from tfcnn.optimizers import base


def adam_update(g, v, m, s, lr, t, beta_1: float, beta_2: float, epsilon: float):
  """One Adam step at (1-based) step `t`, in Keras's form. Returns ``(v, m, s)``.

  ``m ← m + (1−β₁)(g − m)``, ``s ← s + (1−β₂)(g² − s)``,
  ``v ← v − lr·sqrt(1−β₂ᵗ)/(1−β₁ᵗ) · m / (sqrt(s) + ε)``.
  """
  m = m + (1.0 - beta_1) * (g - m)
  s = s + (1.0 - beta_2) * (tf.square(g) - s)
  alpha = lr * tf.sqrt(1.0 - tf.pow(beta_2, t)) / (1.0 - tf.pow(beta_1, t))
  return v - alpha * m / (tf.sqrt(s) + epsilon), m, s


class Adam(base.Optimizer):
  """Adaptive moment estimation."""

  slot_names = ("m", "v")

  def __init__(self, learning_rate=0.001, beta_1: float = 0.9,
               beta_2: float = 0.999, epsilon: float = 1e-7, name: str = "adam",
               fused: bool = True):
    super().__init__(learning_rate, name=name, fused=fused)
    for what, beta in (("beta_1", beta_1), ("beta_2", beta_2)):
      if not 0.0 <= beta < 1.0:
        raise ValueError(f"{what} must be in [0, 1), got {beta!r}")
    self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

  def _update(self, g, v, slots, lr, t):
    v, m, s = adam_update(g, v, slots[0], slots[1], lr, t,
                          self.beta_1, self.beta_2, self.epsilon)
    return v, [m, s]

  def _fused_update(self, g, variable, slots, lr, t) -> None:
    dtype = variable.dtype
    beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
    tf.raw_ops.ResourceApplyAdam(
        var=variable.handle, m=slots[0].handle, v=slots[1].handle,
        beta1_power=tf.pow(beta_1, t), beta2_power=tf.pow(beta_2, t), lr=lr, beta1=beta_1,
        beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype), grad=g)
