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

  def __init__(self, learning_rate: float | schedules.Schedule, name: str | None = None,
               fused: bool = True):
    super().__init__(name=name)
    # With `fused`, plain variables are updated by TensorFlow's one-op
    # training kernels (ResourceApplyAdam, ...), which compute the same
    # formulas as `_update` in one op instead of a dozen; distributed
    # variables always take the pure-maths path.
    self.fused = fused
    self.learning_rate = schedules.as_schedule(learning_rate)
    self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step",
                            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
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
                               name=f"{variable.name.split(':')[0].replace('/', '_')}_{s}",
                               aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
                   for s in self.slot_names]
        self._index[key] = len(self.slots)
        self.slots.append(slots)

  def slots_of(self, variable: tf.Variable) -> list[tf.Variable]:
    """The slot variables of `variable` (after :meth:`build`)."""
    return self.slots[self._index[variable.ref()]]

  def current_learning_rate(self) -> tf.Tensor:
    """The learning rate the next step will use."""
    return self.learning_rate(self.step)

  def apply(self, gradients: Sequence[tf.Tensor | None],
            variables: Sequence[tf.Variable], condition: tf.Tensor | None = None) -> None:
    """Updates each variable from its gradient; ``None`` gradients are skipped.

    Under a distribution strategy, call it in replica context with gradients
    already summed across replicas (:func:`all_reduce_gradients`): every
    replica then computes the same update, and the variables (created with
    ``ONLY_FIRST_REPLICA`` aggregation) keep one value.

    With a boolean `condition`, the update (slots and step counter included)
    happens only where it is true; every assignment still runs, holding the
    old value otherwise. This is how to skip an update under a strategy,
    where assignments cannot sit inside a ``tf.cond``.

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
      if (condition is None and self.fused and _is_plain(variable)
          and all(_is_plain(s) for s in slots)):
        self._fused_update(gradient, variable, slots, tf.cast(lr, variable.dtype),
                           tf.cast(t, variable.dtype))
        continue
      old_value, old_slots = variable.read_value(), [s.read_value() for s in slots]
      new_value, new_slots = self._update(gradient, old_value, old_slots,
                                          tf.cast(lr, variable.dtype), tf.cast(t, variable.dtype))
      if condition is not None:
        new_value = tf.where(condition, new_value, old_value)
        new_slots = [tf.where(condition, n, o) for n, o in zip(new_slots, old_slots)]
      for slot, value in zip(slots, new_slots):
        slot.assign(value)
      variable.assign(new_value)
    self.step.assign_add(1 if condition is None else tf.cast(condition, tf.int64))

  def _update(self, g, v, slots, lr, t):
    raise NotImplementedError

  def _fused_update(self, g, variable, slots, lr, t) -> None:
    """The same update as `_update`, in place, by one TensorFlow training op."""
    new_value, new_slots = self._update(g, variable.read_value(),
                                        [s.read_value() for s in slots], lr, t)
    for slot, value in zip(slots, new_slots):
      slot.assign(value)
    variable.assign(new_value)


def _is_plain(variable) -> bool:
  """A resource variable that raw training ops can update (not a distributed one)."""
  return type(variable).__name__ == "ResourceVariable"


def all_reduce_gradients(gradients: Sequence[tf.Tensor | None]) -> list[tf.Tensor | None]:
  """Sums `gradients` across the replicas of the current strategy (a no-op without one)."""
  context = tf.distribute.get_replica_context()
  if context is None or context.num_replicas_in_sync == 1:
    return list(gradients)
  present = [g for g in gradients if g is not None]
  reduced = iter(context.all_reduce(tf.distribute.ReduceOp.SUM, present))
  return [None if g is None else next(reduced) for g in gradients]
