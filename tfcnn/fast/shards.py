"""The plain step's update, with a batch's units computed side by side.

:func:`tfcnn.training.step.train_step` computes a batch's gradient units one
after the other. :func:`sharded_train_step` computes them `shards` at a
time, round by round: in round ``r``, shard ``s`` computes unit
``r * shards + s``. The units of a round are independent chains of
operations, which TensorFlow runs side by side on its inter-op threads (one
per core: :func:`tfcnn.fast.threads.plan`). Their totals are then added in
unit order, exactly as the plain step adds them, so the update is the plain
step's, bit for bit, whatever the shard count.
"""

import functools

import tensorflow as tf

from tfcnn.training import step


def sharded_train_step(state, images: tf.Tensor, labels: tf.Tensor, shards: int,
                       unit_fn: step.UnitFn = step.unit_gradients,
                       summaries=None) -> tuple[tf.Tensor, tf.Tensor]:
  """:func:`tfcnn.training.step.train_step`, `shards` units at a time."""
  variables = state.model.trainable_variables
  weight = step.mean_weight(labels)
  size = state.unit_size
  units = step.num_units(tf.shape(labels)[0], size)
  no_unit = lambda: step.Totals.zeros(variables)
  totals = step.Totals.zeros(variables)
  for r in tf.range((units + shards - 1) // shards):
    parts = []
    for s in range(shards):   # unrolled: `shards` independent chains
      i = r * shards + s
      x, y = images[i * size:(i + 1) * size], labels[i * size:(i + 1) * size]
      unit = functools.partial(unit_fn, state.model, x, y, weight, state.compute_dtype)
      # The last round may have fewer units (convolutions refuse empty batches).
      parts.append(unit() if s == 0 else tf.cond(i < units, unit, no_unit))
    for s, part in enumerate(parts):   # in unit order: the plain step's sum
      add = functools.partial(step.Totals.plus, totals, part)
      totals = add() if s == 0 else tf.cond(r * shards + s < units, add, lambda t=totals: t)
  return step.apply_update(state, totals, summaries)
