"""Runners: what carries out "batches first .. first + count - 1 of an epoch".

Each runner has ``run(epoch, first, count) -> (batches done, finite)``; it
stops early at a non-finite batch when the run's policy is ``stop``.

* :class:`PlainRunner`: the plain step compiled with ``tf.function``, one
  call per batch, batches from the ``tf.data`` pipeline. What the loop runs
  when no speed option applies.
* :class:`DistributedRunner`: the plain step on every replica of a
  ``tf.distribute`` strategy, many steps per call.
* :class:`tfcnn.fast.steps.InMemoryRunner`: many steps per call, batches
  formed in-graph (:func:`tfcnn.fast.make_runner` chooses).
"""

from typing import Callable

import numpy as np
import tensorflow as tf

from tfcnn.data import pipeline
from tfcnn.training import distribute

StepFn = Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]


class PlainRunner:
  """One compiled plain step per batch, batches from ``tf.data``."""

  def __init__(self, state, images: np.ndarray, labels: np.ndarray, step_fn: StepFn,
               stop_on_nonfinite: bool):
    self.state, self.images, self.labels = state, images, labels
    self.step = tf.function(step_fn, input_signature=state.batch_spec())
    self.stop_on_nonfinite = stop_on_nonfinite

  def graph(self) -> tf.Graph:
    """The compiled step's graph."""
    return self.step.get_concrete_function().graph

  def run(self, epoch: int, first: int, count: int) -> tuple[int, bool]:
    """Batches ``first .. first + count - 1`` of `epoch`."""
    config = self.state.config
    batches = pipeline.train_batches(self.images, self.labels, config.batch_size, config.order_seed,
                                     epoch, skip=first, shift=config.augment_shift)
    done, finite = 0, True
    for images, labels in batches.take(count):
      _, finite = self.step(images, labels)
      finite = bool(finite)
      if self.stop_on_nonfinite and not finite:
        break
      done += 1
    return done, finite


class DistributedRunner:
  """The plain step on every replica of the state's strategy, many per call.

  Each replica takes its slice of every global batch
  (:func:`tfcnn.training.distribute.distributed_batches`).
  """

  def __init__(self, state, images: np.ndarray, labels: np.ndarray, step_fn: StepFn,
               stop_on_nonfinite: bool):
    self.state, self.images, self.labels = state, images, labels
    self.step_fn = step_fn
    self.stop_on_nonfinite = stop_on_nonfinite
    self._steps = tf.function(self._distributed_steps)
    self._iterator, self._next = None, None

  def _distributed_steps(self, iterator, count: tf.Tensor):
    done = tf.constant(0, tf.int64)
    finite = tf.constant(True)
    for _ in tf.range(count):
      images, labels = next(iterator)
      _, per_replica = self.state.strategy.run(self.step_fn, args=(images, labels))
      # Every replica computed `finite` from all-reduced values: they agree.
      finite = self.state.strategy.experimental_local_results(per_replica)[0]
      if self.stop_on_nonfinite and not finite:
        break
      done += 1
    return done, finite

  def run(self, epoch: int, first: int, count: int) -> tuple[int, bool]:
    """Batches ``first .. first + count - 1`` of `epoch`."""
    if self._next != (epoch, first):
      config = self.state.config
      self._iterator = iter(distribute.distributed_batches(
          self.state.strategy, self.images, self.labels, config.batch_size, config.order_seed, epoch,
          skip=first, shift=config.augment_shift))
    done, finite = self._steps(self._iterator, tf.constant(count, tf.int64))
    done = int(done)
    self._next = (epoch, first + done)
    return done, bool(finite)
