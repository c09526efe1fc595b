"""How a training step uses the CPU's cores: thread pools and batch shards.

TensorFlow runs a graph's operations on two thread pools: the *inter-op*
pool runs independent operations side by side, and each operation splits
its own work over the *intra-op* pool. Both are made once per process, when
TensorFlow first runs anything, and cannot change afterwards, so scripts set
them first thing, from flags (``--inter_op_threads``, ``--intra_op_threads``).

Splitting every operation over the cores costs a hand-over and a wait per
operation, which on a virtual machine is as long as a small operation. What
pays better on the 2-core development machine is to give each core a shard
of the batch (``TrainConfig.batch_shards``, one per core): the trainer
computes the shards' forward and backward passes as independent chains of
operations, which one inter-op thread per core runs side by side, each
operation on one intra-op thread, and sums their gradients (the same
update). Measured on 2026-11-29 with alternating fresh processes, against
TensorFlow's own threads and no shards (the previous default): the seed CNN
trains 5-57% faster at batch 64 (7 rounds, median 16%), -3% to +10% at 500
(3 rounds), 11-32% at 20,000 (5), and in bfloat16 34-48% faster at batch 500
(2) and -16% to +58% at 20,000 (3 rounds, two of them faster); the `mlp`
preset at batch 500 runs 1.44-1.52x as fast as on one thread (4 rounds), its
best setting until then. Shards pay down to 8 examples each
(:data:`MIN_SHARD_SIZE`): with two shards the seed CNN is 24-27% faster at
batch 16 and 14-17% at 32 than with the better of one thread or TensorFlow's
threads; at batch 8 (two shards of 4) it ties with one thread.

A step too small to shard runs on one thread per pool when its work is
under :data:`SMALL_STEP_FLOPS` (a thread handed an operation must be woken,
as costly as a small operation), on TensorFlow's threads otherwise.

:func:`for_training` makes the whole choice; the experiment scripts use it
unless told the sizes.
"""

import dataclasses
import os
from typing import Sequence

import tensorflow as tf

from tfcnn import geometry
from tfcnn.errors import ConfigError

# Unsharded training steps under this many floating-point operations
# (:func:`tfcnn.geometry.train_flops` x batch) run on one thread per pool.
# Measured on the 2-core development machine, TensorFlow's threads against
# one, alternating fresh processes: the `mlp` preset at batch 500 (172 MFLOP
# per step) is faster on one thread in 5 of 6 rounds, by 5-36% (9% slower in
# the sixth), and the seed CNN at batch 8 (134 MFLOP) in 3 of 3, by 13-50%;
# `flatten-dense128-dense10` at batch 500 (305 MFLOP) ties, the seed CNN is
# 0-13% slower on one thread at batch 16 (268 MFLOP) and 21-24% at 32 (536
# MFLOP), and the mlp at batch 20,000 (6.9 GFLOP) is faster on either setting
# in some rounds. (Those batches are sharded now; see the module docstring.)
SMALL_STEP_FLOPS = 200e6

# The fewest examples per batch shard: smaller shards cost more in
# per-operation overhead than the second core gives.
MIN_SHARD_SIZE = 8


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


def cpu_cores() -> int:
  """The cores this process may run on (its CPU affinity, else the machine's)."""
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:   # not on Linux
    return os.cpu_count() or 1


@dataclasses.dataclass(frozen=True)
class Plan:
  """How a training step uses the CPU: thread pools and batch shards."""
  threads: Threads
  batch_shards: int = 1


def batch_shards(batch_size: int, cores: int) -> int:
  """Shards per batch: one per core, each of at least :data:`MIN_SHARD_SIZE`
  examples (1: the batch is not split)."""
  return max(1, min(cores, batch_size // MIN_SHARD_SIZE))


def for_training(layers: Sequence, input_shape: Sequence[int], batch_size: int,
                 cores: int | None = None, shards: int | None = None) -> Plan:
  """The automatic choice for training `layers` on `input_shape` at `batch_size`.

  On `cores` cores (default: :func:`cpu_cores`): a batch that can be cut into
  two or more shards of :data:`MIN_SHARD_SIZE` gets one shard and one
  inter-op thread per core, and one intra-op thread. An unsharded step runs on
  one thread per pool when under :data:`SMALL_STEP_FLOPS`, on TensorFlow's
  choice otherwise. `shards`, when given, is used instead of the automatic
  count (for replicas that share the cores, or a user's choice).
  """
  if shards is None:
    shards = batch_shards(batch_size, cpu_cores() if cores is None else cores)
  if shards > 1:
    return Plan(Threads(inter_op=shards, intra_op=1), shards)
  step_flops = batch_size * geometry.train_flops(layers, input_shape)
  return Plan(Threads(inter_op=1, intra_op=1) if step_flops < SMALL_STEP_FLOPS else Threads(), 1)
