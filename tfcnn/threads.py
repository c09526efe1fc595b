"""How many CPU threads TensorFlow runs operations on.

TensorFlow runs a graph's operations on two thread pools: the *inter-op*
pool runs independent operations side by side, and each operation splits
its own work over the *intra-op* pool. Both are made once per process, when
TensorFlow first runs anything, and cannot change afterwards, so scripts set
them first thing, from flags (``--inter_op_threads``, ``--intra_op_threads``).

0 leaves the choice to TensorFlow (about one thread per core). Fewer can be
faster when every operation is small: a thread handed an operation must be
woken, which on a virtual machine costs tens of microseconds, as much as a
small operation itself. On the 2-core development machine the `mlp` preset
at batch 500 trains 2–28% faster (float32) on one thread of each pool,
while the seed CNN, whose convolutions are large enough to split, is faster
with the defaults (``experiments/benchmark.py`` measures both).

:func:`for_training` makes that choice from the size of a training step;
the experiment scripts use it unless told the sizes.
"""

import dataclasses
from typing import Sequence

import tensorflow as tf

from tfcnn import geometry
from tfcnn.errors import ConfigError

# Training steps under this many floating-point operations
# (:func:`tfcnn.geometry.train_flops` x batch) run on one thread per pool.
# Measured on the 2-core development machine, TensorFlow's threads against
# one, alternating fresh processes: the `mlp` preset at batch 500 (172 MFLOP
# per step) is faster on one thread in 5 of 6 rounds, by 5-36% (9% slower in
# the sixth), and the seed CNN at batch 8 (134 MFLOP) in 3 of 3, by 13-50%;
# `flatten-dense128-dense10` at batch 500 (305 MFLOP) ties, the seed CNN is
# 0-13% slower on one thread at batch 16 (268 MFLOP) and 21-24% at 32 (536
# MFLOP), and the mlp at batch 20,000 (6.9 GFLOP) is faster on either setting
# in some rounds.
SMALL_STEP_FLOPS = 200e6


@dataclasses.dataclass(frozen=True)
class Threads:
  """Thread-pool sizes; 0 means TensorFlow's own choice."""
  inter_op: int = 0
  intra_op: int = 0

  def validate(self) -> "Threads":
    """Returns self, or raises ConfigError for a size that is not an integer >= 0."""
    for name in ("inter_op", "intra_op"):
      value = getattr(self, name)
      if not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name}_threads must be an integer >= 0 (0: TensorFlow's choice), "
                          f"got {value!r}")
    return self


def configure(threads: Threads) -> None:
  """Sizes TensorFlow's thread pools; call before TensorFlow runs anything.

  Asking again for the sizes already in force is allowed.

  Raises:
    ConfigError: for a negative size, or when TensorFlow has already made
      its pools with other sizes.
  """
  threads.validate()
  try:
    tf.config.threading.set_inter_op_parallelism_threads(threads.inter_op)
    tf.config.threading.set_intra_op_parallelism_threads(threads.intra_op)
  except RuntimeError:
    raise ConfigError(
        f"cannot use {threads.inter_op} inter-op and {threads.intra_op} intra-op threads: "
        "TensorFlow has already started with "
        f"{current().inter_op} and {current().intra_op} (0: its choice); set them before "
        "anything runs") from None


def current() -> Threads:
  """The sizes asked for so far (0: TensorFlow's choice)."""
  return Threads(inter_op=tf.config.threading.get_inter_op_parallelism_threads(),
                 intra_op=tf.config.threading.get_intra_op_parallelism_threads())


def for_training(layers: Sequence, input_shape: Sequence[int], batch_size: int) -> Threads:
  """The automatic choice for training `layers` on `input_shape` at `batch_size`.

  One thread per pool for a step under :data:`SMALL_STEP_FLOPS` (its
  operations are too small to be worth splitting or running side by side);
  TensorFlow's choice otherwise.
  """
  step_flops = batch_size * geometry.train_flops(layers, input_shape)
  return Threads(inter_op=1, intra_op=1) if step_flops < SMALL_STEP_FLOPS else Threads()
