"""Speed, as layers around the plain train step (:mod:`tfcnn.training.step`).

Each keeps the plain step's contract and its update, bit for bit on one CPU
device (XLA excepted: its kernels round differently):

* :mod:`~tfcnn.fast.shards`: a batch's gradient units side by side, one per core;
* :mod:`~tfcnn.fast.steps`: many steps per compiled call, batches in-graph;
* :mod:`~tfcnn.fast.threads`: the one plan of thread pools and shards;
* :func:`make_runner`: the runner a run's options ask for.
"""

import functools

import numpy as np
import tensorflow as tf

from tfcnn.fast import shards, steps, threads
from tfcnn.training import distribute, runners, step
from tfcnn.training.config import RunConfig


def make_runner(state, run: RunConfig, images: np.ndarray, labels: np.ndarray,
                summaries=None):
  """The runner for `state`'s run as `run` asks: distributed under a
  strategy; else in-memory multi-step calls for ``steps_per_call`` > 1, the
  plain runner otherwise; the step sharded for ``batch_shards`` > 1 (not
  with XLA, which plans the whole computation itself)."""
  unit_fn = (tf.function(step.unit_gradients, jit_compile=True) if run.jit_compile
             else step.unit_gradients)
  stop = run.nonfinite == "stop"
  # More shards than a batch has units would only idle.
  shard_count = min(run.batch_shards, -(-state.config.batch_size // state.unit_size))
  plain = functools.partial(step.train_step, state, unit_fn=unit_fn, summaries=summaries)
  if distribute.is_distributed(state.strategy):
    return runners.DistributedRunner(state, images, labels, plain, stop)
  step_fn = plain
  if shard_count > 1 and not run.jit_compile:
    step_fn = functools.partial(shards.sharded_train_step, state, shards=shard_count,
                                unit_fn=unit_fn, summaries=summaries)
  if run.steps_per_call > 1:
    return steps.InMemoryRunner(state, images, labels, step_fn, stop)
  return runners.PlainRunner(state, images, labels, step_fn, stop)


__all__ = ["make_runner", "shards", "steps", "threads"]
