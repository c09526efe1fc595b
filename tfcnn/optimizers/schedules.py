"""Learning-rate schedules: functions of the optimiser's step counter.

Formulas are Keras's, so a schedule can be checked against
``keras.optimizers.schedules`` value for value.
"""

import math

import tensorflow as tf


class Schedule:
  """A learning rate as a function of the (0-based) step."""

  def __call__(self, step: tf.Tensor) -> tf.Tensor:
    raise NotImplementedError


class Constant(Schedule):
  """The same learning rate at every step."""

  def __init__(self, learning_rate: float):
    self.learning_rate = float(learning_rate)

  def __call__(self, step: tf.Tensor) -> tf.Tensor:
    del step
    return tf.constant(self.learning_rate, tf.float32)


class ExponentialDecay(Schedule):
  """``lr * decay_rate ** (step / decay_steps)`` (floored if `staircase`)."""

  def __init__(self, learning_rate: float, decay_steps: int, decay_rate: float,
               staircase: bool = False):
    if decay_steps < 1:
      raise ValueError(f"decay_steps must be >= 1, got {decay_steps}")
    self.learning_rate = float(learning_rate)
    self.decay_steps = int(decay_steps)
    self.decay_rate = float(decay_rate)
    self.staircase = staircase

  def __call__(self, step: tf.Tensor) -> tf.Tensor:
    p = tf.cast(step, tf.float32) / self.decay_steps
    if self.staircase:
      p = tf.floor(p)
    return self.learning_rate * tf.pow(self.decay_rate, p)


class CosineDecay(Schedule):
  """Half a cosine from `lr` down to ``alpha * lr`` over `decay_steps`."""

  def __init__(self, learning_rate: float, decay_steps: int, alpha: float = 0.0):
    if decay_steps < 1:
      raise ValueError(f"decay_steps must be >= 1, got {decay_steps}")
    self.learning_rate = float(learning_rate)
    self.decay_steps = int(decay_steps)
    self.alpha = float(alpha)

  def __call__(self, step: tf.Tensor) -> tf.Tensor:
    done = tf.minimum(tf.cast(step, tf.float32), self.decay_steps) / self.decay_steps
    cosine = 0.5 * (1.0 + tf.cos(math.pi * done))
    return self.learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)


def as_schedule(learning_rate: float | Schedule) -> Schedule:
  """Wraps a plain number in :class:`Constant`."""
  if isinstance(learning_rate, Schedule):
    return learning_rate
  if not learning_rate > 0:
    raise ValueError(f"learning rate must be positive, got {learning_rate!r}")
  return Constant(learning_rate)
