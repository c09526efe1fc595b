"""What every experiment script shares: one-line errors and workdir set-up."""

import functools
import os
import pathlib
import sys
import tempfile
from typing import Callable, Sequence

import tensorflow as tf
from absl import flags, logging

from tfcnn import spec, threads
from tfcnn.errors import ConfigError, SpecError, TfcnnError
from tfcnn.training import results as results_lib


def _program() -> str:
  return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "tfcnn"


def parse_flags(argv: list[str]) -> list[str]:
  """absl's flag parsing, but a bad flag is one line on stderr and exit 2."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    sys.stderr.write(f"{_program()}: error: {e}\n")
    sys.exit(2)


def user_errors(main: Callable[[list[str]], None]) -> Callable[[list[str]], None]:
  """Ends a script with one line on stderr, no traceback, for what users cause.

  A TfcnnError (bad input, an interrupted or diverged run) exits with its
  ``exit_code``; an OSError from the file system (a full disk, a missing
  permission) exits with 1, naming the file.
  """
  @functools.wraps(main)
  def wrapped(argv):
    try:
      return main(argv)
    except TfcnnError as e:
      sys.stderr.write(f"{_program()}: error: {e}\n")
      sys.exit(e.exit_code)
    except OSError as e:
      where = f" ({e.filename})" if e.filename else ""
      sys.stderr.write(f"{_program()}: error: {e.strerror or e}{where}; nothing was "
                       "overwritten, the last checkpoint is kept\n")
      sys.exit(1)
  return wrapped


def prepare_workdir(path: str) -> pathlib.Path:
  """Creates `path` if needed and checks it is a writable folder."""
  workdir = pathlib.Path(path).expanduser()
  try:
    workdir.mkdir(parents=True, exist_ok=True)
    # A probe of its own: the workers of a multi-worker job check the same
    # folder at the same moment.
    with tempfile.NamedTemporaryFile(dir=workdir, prefix=".write-test-"):
      pass
  except OSError as e:
    raise ConfigError(f"workdir {workdir} is not a writable folder: "
                      f"{e.strerror or e}") from None
  return workdir


def flag_names(namespace: dict) -> list[str]:
  """The flags a script defines: the names of the ``FlagHolder``s in its
  `namespace` (pass ``globals()``), in definition order."""
  return [value.name for value in namespace.values() if isinstance(value, flags.FlagHolder)]


def write_flags(workdir: pathlib.Path, names: list[str]) -> None:
  """Writes the values of the flags called `names` to ``workdir/flags.json``."""
  values = {name: flags.FLAGS[name].value for name in names}
  results_lib.write_json(workdir / "flags.json", values)


def register_spec_validator(flag_name: str = "model") -> None:
  """Makes a bad architecture spec in --`flag_name` a flag error naming the bad token."""
  def valid(value: str) -> bool:
    try:
      spec.parse(value)
    except SpecError as e:
      raise flags.ValidationError(str(e)) from None
    return True
  flags.register_validator(flag_name, valid)


def define_thread_flags() -> tuple[flags.FlagHolder, flags.FlagHolder, flags.FlagHolder]:
  """Defines ``--inter_op_threads``, ``--intra_op_threads`` and
  ``--batch_shards``; returns their holders.

  A script keeps the holders as module globals (so :func:`flag_names` records
  them) and passes them to :func:`configure_threads` first thing in ``main``.
  """
  inter = flags.DEFINE_integer(
      "inter_op_threads", None, "Threads that run independent TensorFlow operations side by "
      "side (0: TensorFlow's choice, about one per core). Unless this or --intra_op_threads is "
      "given, both are chosen with --batch_shards: one inter-op thread per shard and one "
      "intra-op thread for a sharded batch; for an unsharded one, 1 and 1 for small steps, "
      "TensorFlow's choice otherwise; see tfcnn/threads.py.", lower_bound=0)
  intra = flags.DEFINE_integer(
      "intra_op_threads", None, "Threads that one TensorFlow operation splits its work over "
      "(0: TensorFlow's choice, one per core; unset: see --inter_op_threads).", lower_bound=0)
  shards = flags.DEFINE_integer(
      "batch_shards", None, "Shards of each batch whose forward and backward passes run side "
      "by side, gradients summed (the same update). Unset: one per CPU core, each of at least "
      "8 examples, on a single CPU device; 1 (none) with GPUs or several replicas.",
      lower_bound=1)
  return inter, intra, shards


def thread_plan(inter: flags.FlagHolder, intra: flags.FlagHolder, shards: flags.FlagHolder,
                model_spec: str, input_shape: Sequence[int], batch_size: int,
                one_cpu_device: bool = True) -> threads.Plan:
  """The thread pools and batch shards that the flags of
  :func:`define_thread_flags` ask for, for training `model_spec` on
  `input_shape` at `batch_size`; nothing is configured.

  What the flags leave unset, :func:`tfcnn.threads.for_training` chooses on
  this machine's cores; a thread flag left out beside one given means
  TensorFlow's choice (0). Without `one_cpu_device` (several replicas share
  the cores) or with a GPU, the automatic choice is TensorFlow's threads and
  no shards.
  """
  if one_cpu_device and not tf.config.list_physical_devices("GPU"):
    plan = threads.for_training(spec.parse(model_spec), input_shape, batch_size,
                                shards=shards.value)
  else:
    plan = threads.Plan(threads.Threads(), shards.value or 1)
  if inter.value is None and intra.value is None:
    return plan
  return threads.Plan(threads.Threads(inter_op=inter.value or 0, intra_op=intra.value or 0),
                      plan.batch_shards)


def configure_threads(inter: flags.FlagHolder, intra: flags.FlagHolder,
                      shards: flags.FlagHolder, model_spec: str, input_shape: Sequence[int],
                      batch_size: int, one_cpu_device: bool = True) -> threads.Plan:
  """Sizes TensorFlow's thread pools as :func:`thread_plan` says, logs the
  plan, and returns it (its ``batch_shards`` go into the ``TrainConfig``)."""
  plan = thread_plan(inter, intra, shards, model_spec, input_shape, batch_size, one_cpu_device)
  threads.configure(plan.threads)
  chosen_for = f", chosen for {model_spec} at batch {batch_size}"
  logging.info("TensorFlow threads: %d inter-op, %d intra-op (0: TensorFlow's choice)%s",
               plan.threads.inter_op, plan.threads.intra_op,
               chosen_for if inter.value is None and intra.value is None else "")
  logging.info("batch shards: %d%s", plan.batch_shards,
               chosen_for if shards.value is None else "")
  return plan
