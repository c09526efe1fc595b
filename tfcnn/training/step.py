"""The train step: one update of the model from one batch. Start reading here.

    images, labels ──► for each unit of the batch:                 unit_gradients
                           forward pass, per-example loss,
                           backward pass (one GradientTape)
                       add its loss and gradients to the batch's totals, in order
                   ──► + the gradient of the L1/L2 penalty          apply_update
                   ──► skip the update if any loss or gradient is NaN or Inf
                   ──► optimiser step (undone if a weight became NaN or Inf),
                       running loss and accuracy

*Units.* A batch is cut into units of ``state.unit_size`` consecutive
examples (one unit for small batches: :func:`tfcnn.training.config.unit_size_for`).
The loss is the mean over the batch, so its gradient is the sum of each
unit's gradient of that unit's share of the mean. Floating-point sums depend
on their order; adding the units in a fixed order, each computed on its own,
makes the update a function of what is learned alone. :mod:`tfcnn.fast`
computes several units side by side, one per core, and adds them in this
same order: the same weights, bit for bit, on any number of cores.

Run it eagerly to step through it in a debugger; the loop compiles it with
``tf.function``.
"""

from typing import Callable, NamedTuple, Sequence

import tensorflow as tf

from tfcnn import losses, metrics, optimizers
from tfcnn.training import distribute, finite as finite_lib


class Totals(NamedTuple):
  """What the units of a batch add up to."""
  loss: tf.Tensor                 # the sum of the per-example losses
  correct: tf.Tensor              # how many examples' arg-max logit is their label
  count: tf.Tensor                # how many examples
  gradients: list[tf.Tensor]      # gradients of (summed loss / batch size)

  @classmethod
  def zeros(cls, variables: Sequence[tf.Variable]) -> "Totals":
    """Totals of no example."""
    return cls(tf.constant(0.0), tf.constant(0.0), tf.constant(0.0),
               [tf.zeros_like(v) for v in variables])

  def plus(self, other: "Totals") -> "Totals":
    """Self and `other` added, term by term (self first)."""
    return Totals(self.loss + other.loss, self.correct + other.correct,
                  self.count + other.count,
                  [a + b for a, b in zip(self.gradients, other.gradients)])


def unit_gradients(model, images: tf.Tensor, labels: tf.Tensor, weight: tf.Tensor,
                   compute_dtype: tf.DType) -> Totals:
  """Forward and backward pass of one unit: its totals, with the gradients
  of `weight` x its summed loss (`weight` is 1 / the batch size)."""
  with tf.GradientTape() as tape:   # records the operations, to differentiate them
    logits = model(tf.cast(images, compute_dtype), training=True)      # forward pass
    logits = tf.cast(logits, tf.float32)   # the loss in float32, whatever the compute precision
    per_example = losses.sparse_softmax_cross_entropy(labels, logits)
    loss = tf.reduce_sum(per_example) * weight   # this unit's share of the batch's mean loss
  gradients = tape.gradient(loss, model.trainable_variables)           # backward pass
  return Totals(tf.reduce_sum(per_example), tf.reduce_sum(metrics.correct(labels, logits)),
                tf.cast(tf.size(labels), tf.float32), list(gradients))


UnitFn = Callable[..., Totals]


def mean_weight(labels: tf.Tensor) -> tf.Tensor:
  """1 / the global batch size. Under ``tf.distribute`` each replica holds an
  equal slice of the global batch (``tf.nn.compute_average_loss``'s convention)."""
  context = tf.distribute.get_replica_context()
  replicas = context.num_replicas_in_sync if context is not None else 1
  return 1.0 / tf.cast(tf.shape(labels)[0] * replicas, tf.float32)


def num_units(batch_size: tf.Tensor, unit_size: int) -> tf.Tensor:
  """Units of a batch: the last one may be smaller."""
  return (batch_size + unit_size - 1) // unit_size


def train_step(state, images: tf.Tensor, labels: tf.Tensor,
               unit_fn: UnitFn = unit_gradients, summaries=None) -> tuple[tf.Tensor, tf.Tensor]:
  """One update of `state` (a :class:`~tfcnn.training.state.TrainState`) from
  a batch; returns ``(mean loss, finite)``.

  `unit_fn` computes a unit (:func:`unit_gradients`, or it compiled by XLA);
  `summaries`, if given, is called with the step's scalars
  (:class:`tfcnn.summaries.StepSummaries`).
  """
  weight = mean_weight(labels)
  size = state.unit_size
  totals = Totals.zeros(state.model.trainable_variables)
  for i in tf.range(num_units(tf.shape(labels)[0], size)):   # a tf.while_loop when compiled
    x, y = images[i * size:(i + 1) * size], labels[i * size:(i + 1) * size]
    totals = totals.plus(unit_fn(state.model, x, y, weight, state.compute_dtype))
  return apply_update(state, totals, summaries)


def apply_update(state, totals: Totals, summaries=None) -> tuple[tf.Tensor, tf.Tensor]:
  """The rest of a step, once a batch's totals are known: penalty, NaN/Inf
  guard, optimiser step, metrics; returns ``(mean loss, finite)``.

  A batch whose loss, gradients or updated weights are not finite changes
  nothing but the ``skipped`` counter: the weights never receive NaN or Inf
  (under ``tf.distribute``, loss and gradients are guarded, not the update).
  """
  model, config = state.model, state.config
  variables = model.trainable_variables
  # The L1/L2 penalty is on the weights, not on the examples: its gradient is
  # added once per batch (split over replicas, which are summed just below).
  with tf.GradientTape() as tape:
    penalty = tf.nn.scale_regularization_loss(
        optimizers.l1_l2_penalty(model.kernels, config.l1, config.l2))
  gradients = [g if p is None else g + p
               for g, p in zip(totals.gradients, tape.gradient(penalty, variables))]
  # Under tf.distribute, summed across replicas first, so that every replica
  # takes the same branch below.
  gradients = optimizers.all_reduce_gradients(gradients)
  finite = finite_lib.all_finite([totals.loss, *gradients])
  loss = totals.loss / totals.count
  if summaries is not None:
    summaries(state, loss, totals.correct / totals.count, finite, gradients)

  def record(mask=None):
    state.train_loss.add(totals.loss, totals.count, mask=mask)
    state.train_accuracy.add(totals.correct, totals.count, mask=mask)

  if distribute.is_distributed(state.strategy):
    # Assignments that synchronise replicas cannot sit in a tf.cond:
    # run them all, holding the old values when the batch is not finite.
    state.optimizer.apply(gradients, variables, condition=finite)
    record(mask=finite)
    state.skipped.assign_add(1 - tf.cast(finite, tf.int64))
    return loss, finite

  def update():
    # The optimiser's step (w -= lr * ...), undone if it made a weight NaN or Inf.
    applied = finite_lib.apply_keeping_finite(state.optimizer, gradients, variables)
    record(mask=applied)
    state.skipped.assign_add(1 - tf.cast(applied, tf.int64))
    return applied

  def skip():
    state.skipped.assign_add(1)
    return tf.constant(False)

  return loss, tf.cond(finite, update, skip)
