"""The optimiser base: a thin module around a pure update rule.

A subclass names its slots and gives the maths as a pure function
``_update(gradient, variable, slots, lr, t) -> (new_variable, new_slots)``
of tensors. The base class creates the slot variables (lazily, once, in
variable order, so checkpoints restore them by position), checks its inputs,
skips variables whose gradient is ``None``, and counts steps.
"""

from typing import Sequence

import tensorflow as tf

from tfcnn.optimizers import schedules


class Optimizer(tf.Module):
  """Base class: applies gradients to variables with slot state."""

  slot_names: tuple[str, ...] = ()

  def __init__(self, learning_rate: float | schedules.Schedule, name: str | None = None):
    super().__init__(name=name)
    self.learning_rate = schedules.as_schedule(learning_rate)
    self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    self.slots: list[list[tf.Variable]] = []
    self._index: dict = {}

  def build(self, variables: Sequence[tf.Variable]) -> None:
    """Creates the slot variables for `variables` (once; eagerly).

    Call it before tracing a train step, and inside ``strategy.scope()``
    under a distribution strategy, so that slots are created once and
    mirrored like the variables they belong to.
    """
    with tf.init_scope():
      for variable in variables:
        key = variable.ref()
        if key in self._index:
          continue
        with tf.name_scope(self.name):
          slots = [tf.Variable(tf.zeros_like(variable), trainable=False,
                               name=f"{variable.name.split(':')[0].replace('/', '_')}_{s}")
                   for s in self.slot_names]
        self._index[key] = len(self.slots)
        self.slots.append(slots)

  def current_learning_rate(self) -> tf.Tensor:
    """The learning rate the next step will use."""
    return self.learning_rate(self.step)

  def apply(self, gradients: Sequence[tf.Tensor | None],
            variables: Sequence[tf.Variable]) -> None:
    """Updates each variable from its gradient; ``None`` gradients are skipped.

    Raises:
      ValueError: if the lists differ in length or a gradient's dtype or
        shape differs from its variable's.
    """
    gradients, variables = list(gradients), list(variables)
    if len(gradients) != len(variables):
      raise ValueError(f"{len(gradients)} gradients for {len(variables)} variables")
    self.build(variables)
    lr = self.current_learning_rate()
    t = tf.cast(self.step + 1, tf.float32)
    for gradient, variable in zip(gradients, variables):
      if gradient is None:
        continue
      if gradient.dtype != variable.dtype:
        raise ValueError(f"gradient dtype {gradient.dtype.name} differs from "
                         f"variable {variable.name}'s {variable.dtype.name}")
      if not gradient.shape.is_compatible_with(variable.shape):
        raise ValueError(f"gradient shape {gradient.shape} differs from "
                         f"variable {variable.name}'s {variable.shape}")
      slots = self.slots[self._index[variable.ref()]]
      new_value, new_slots = self._update(
          gradient, variable.read_value(), [s.read_value() for s in slots],
          tf.cast(lr, variable.dtype), tf.cast(t, variable.dtype))
      for slot, value in zip(slots, new_slots):
        slot.assign(value)
      variable.assign(new_value)
    self.step.assign_add(1)

  def _update(self, g, v, slots, lr, t):
    raise NotImplementedError
