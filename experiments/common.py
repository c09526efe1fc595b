"""What every experiment script shares: one-line errors and workdir set-up."""

import functools
import os
import pathlib
import sys
import tempfile
from typing import Callable

import tensorflow as tf
from absl import flags, logging

from tfcnn import spec
from tfcnn.fast import threads
from tfcnn.errors import ConfigError, SpecError, TfcnnError
from tfcnn.training import results as results_lib
from tfcnn.training.config import TrainConfig


def _program() -> str:
  return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "tfcnn"


def parse_flags(argv: list[str]) -> list[str]:
  """absl's flag parsing, but a bad flag is one line on stderr and exit 2."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    sys.stderr.write(f"{_program()}: error: {e}\n")
    sys.exit(2)
  except UnicodeDecodeError as e:   # a --flagfile that is not UTF-8 text
    sys.stderr.write(f"{_program()}: error: a flag file is not UTF-8 text ({e.reason} at "
                     f"byte {e.start})\n")
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
    except tf.errors.ResourceExhaustedError as e:   # TensorFlow's file writers: a full disk
      first = (str(e.message).strip().splitlines() or ["resource exhausted"])[0][:200]
      sys.stderr.write(f"{_program()}: error: out of disk space or memory ({first}); "
                       "the last checkpoint is kept\n")
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


class FlagsRecord:
  """A training hook that writes ``flags.json`` once the run has passed every
  check (a refused run leaves the workdir as it was)."""

  def __init__(self, workdir: pathlib.Path, names: list[str]):
    self.workdir, self.names = workdir, names

  def on_train_begin(self, state) -> None:
    del state
    write_flags(self.workdir, self.names)

  def on_epoch_end(self, state, stats: dict) -> None:
    del state, stats

  def on_train_end(self, state, results: dict) -> None:
    del state, results


def define_dataset_flag(help_extra: str = "") -> flags.FlagHolder:
  """``--dataset``: a known dataset's name, or ``npz:PATH`` for one's own arrays."""
  from tfcnn.data import sources
  holder = flags.DEFINE_string(
      "dataset", "mnist_sample",
      f"Dataset: {', '.join(sources.DATASETS)}, or npz:PATH (uint8 arrays x_train, y_train, "
      f"x_test, y_test; see tfcnn.data.arrays).{help_extra}")

  def valid(value: str) -> bool:
    if value in sources.DATASETS or (value.startswith("npz:") and len(value) > 4):
      return True
    raise flags.ValidationError(f"unknown dataset {value!r}; use one of "
                                f"{', '.join(sources.DATASETS)}, or npz:PATH")
  flags.register_validator("dataset", valid)
  return holder


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
  They change only speed, never the weights (see tfcnn/fast/threads.py).
  """
  inter = flags.DEFINE_integer(
      "inter_op_threads", None, "Threads that run independent TensorFlow operations side by "
      "side (0: TensorFlow's choice). Unset: one per batch shard.", lower_bound=0)
  intra = flags.DEFINE_integer(
      "intra_op_threads", None, "Threads that one TensorFlow operation splits its work over "
      "(0: TensorFlow's choice). Unset: 1 on a CPU, which keeps the weights independent of "
      "the thread count; --deterministic needs it.", lower_bound=0)
  shards = flags.DEFINE_integer(
      "batch_shards", None, "Gradient units of each batch computed side by side, added in "
      "the same order (the same weights). Unset: one per CPU core, up to the units in a "
      "batch, on a single CPU device; 1 with GPUs or several replicas.", lower_bound=1)
  return inter, intra, shards


def configure_threads(inter: flags.FlagHolder, intra: flags.FlagHolder,
                      shards: flags.FlagHolder, config: TrainConfig,
                      one_cpu_device: bool = True) -> threads.Plan:
  """Sizes TensorFlow's thread pools as :func:`tfcnn.fast.threads.plan`
  says for `config` and the flags, logs the plan, and returns it (its
  ``batch_shards`` go into the ``RunConfig``)."""
  plan = threads.plan(config, shards=shards.value, inter_op=inter.value, intra_op=intra.value,
                      one_cpu_device=one_cpu_device)
  threads.configure(plan.threads)
  chosen_for = f", chosen for {config.model} at batch {config.batch_size}"
  logging.info("TensorFlow threads: %d inter-op, %d intra-op (0: TensorFlow's choice)%s",
               plan.threads.inter_op, plan.threads.intra_op,
               chosen_for if inter.value is None and intra.value is None else "")
  logging.info("batch shards: %d%s", plan.batch_shards,
               chosen_for if shards.value is None else "")
  return plan
