"""How a run uses the CPU's cores: thread pools and batch shards, planned once.

TensorFlow runs a graph's operations on two thread pools: the *inter-op*
pool runs independent operations side by side, and each operation splits
its own work over the *intra-op* pool. Both are made once per process, when
TensorFlow first runs anything, and cannot change afterwards, so scripts set
them first thing (:func:`configure`).

:func:`plan` is the one choice every script makes. On one CPU device it
computes a batch's gradient units (:mod:`tfcnn.training.step`) side by side,
one *shard* per core (:mod:`tfcnn.fast.shards`), each operation on one
thread. One thread per operation is also what keeps the weights independent
of the machine: a convolution's gradient split over two threads is summed in
another order than on one, and rounds differently. Splitting every operation
over the cores also costs a hand-over and a wait per operation, which on a
virtual machine is as long as a small operation; shards pay better
(figures: ``docs/performance.md``).
"""

import dataclasses
import os

import tensorflow as tf
from absl import logging

from tfcnn import spec
from tfcnn.errors import ConfigError
from tfcnn.training.config import TrainConfig, unit_size_for


# Shards asked for beyond this many per core are cut back: each is a chain of
# operations with a thread of its own.
MAX_SHARDS_PER_CORE = 4


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
  """How a run uses the CPU: thread pools and batch shards."""
  threads: Threads
  batch_shards: int = 1


def units_per_batch(config: TrainConfig) -> int:
  """Gradient units in a full batch of `config` (a batch-norm model: one)."""
  return -(-config.batch_size // unit_size_for(config, spec.parse(config.model)))


def plan(config: TrainConfig, cores: int | None = None, shards: int | None = None,
         inter_op: int | None = None, intra_op: int | None = None,
         one_cpu_device: bool = True) -> Plan:
  """Threads and shards for training `config`: the one choice of every script.

  On one CPU device of `cores` cores (default: :func:`cpu_cores`), one shard
  per core, but no more than a batch has units; one inter-op thread per
  shard, one intra-op thread. Shards asked for are cut back to the units of
  a batch and :data:`MAX_SHARDS_PER_CORE` per core. With several devices (replicas share the
  cores) or a GPU: one shard, TensorFlow's threads. `shards`, `inter_op` and
  `intra_op`, when given, replace the automatic choice (0 threads:
  TensorFlow's choice).

  Raises:
    ConfigError: for `intra_op` other than 1 with ``config.deterministic``
      on a CPU: the weights would depend on the thread count.
  """
  gpu = bool(tf.config.list_physical_devices("GPU"))
  cores = cpu_cores() if cores is None else cores
  if one_cpu_device and not gpu:
    units = units_per_batch(config)
    if shards is None:
      shards = max(1, min(cores, units))
    elif shards > min(units, MAX_SHARDS_PER_CORE * cores):
      bound = min(units, MAX_SHARDS_PER_CORE * cores)
      logging.warning("%d batch shards asked for; %d used (a batch of %d has %d units, "
                      "and %d cores)", shards, bound, config.batch_size, units, cores)
      shards = bound
    automatic = Plan(Threads(inter_op=shards, intra_op=1), shards)
  else:
    automatic = Plan(Threads(), shards or 1)
  chosen = Threads(automatic.threads.inter_op if inter_op is None else inter_op,
                   automatic.threads.intra_op if intra_op is None else intra_op).validate()
  if config.deterministic and one_cpu_device and not gpu and chosen.intra_op != 1:
    raise ConfigError(f"--deterministic needs one intra-op thread on a CPU (got "
                      f"{chosen.intra_op}; 0: TensorFlow's choice): a convolution's gradient "
                      "split over threads rounds differently with their number")
  return Plan(chosen, automatic.batch_shards)
