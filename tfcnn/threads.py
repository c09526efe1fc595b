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
"""

import dataclasses

import tensorflow as tf

from tfcnn.errors import ConfigError


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
