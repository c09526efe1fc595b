"""A run's workdir: one run at a time, its configuration, its checkpoints.

Nothing read from a workdir is trusted to point elsewhere: checkpoints are
found by listing ``ckpt/`` and reading each one, never by following the
paths in TensorFlow's ``ckpt/checkpoint`` state file, which is rewritten from
what was found (so the checkpoint manager only ever deletes files inside
``ckpt/``).
"""

import errno
import fcntl
import os
import pathlib
import re
import shutil

import tensorflow as tf
from absl import logging

from tfcnn.errors import CheckpointError, ConfigError
from tfcnn.training import results as results_lib
from tfcnn.training.config import RunConfig, TrainConfig


class Lock:
  """An exclusive lock on a workdir, held while a run trains in it.

  An ``flock`` on ``<workdir>/.lock``: the operating system releases it when
  the process ends, however it ends, so a killed run leaves no stale lock.
  """

  def __init__(self, workdir: pathlib.Path):
    self.path = workdir / ".lock"
    self._file = None

  def __enter__(self) -> "Lock":
    self._file = open(self.path, "a+")
    try:
      fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
      if e.errno not in (errno.EAGAIN, errno.EACCES):
        raise
      self._file.seek(0)
      holder = self._file.read().strip() or "another process"
      self._file.close()
      raise ConfigError(f"workdir {self.path.parent} is in use by another run ({holder}); "
                        "wait for it to finish, or use another --workdir") from None
    self._file.seek(0)
    self._file.truncate()
    self._file.write(f"pid {os.getpid()}\n")
    self._file.flush()
    return self

  def __exit__(self, *exc) -> None:
    fcntl.flock(self._file, fcntl.LOCK_UN)
    self._file.close()


def read_config(workdir: pathlib.Path) -> dict | None:
  """``config.json`` of `workdir` as a dict (None if absent).

  Raises:
    ConfigError: if it is not a JSON object.
  """
  path = workdir / "config.json"
  if not path.exists():
    return None
  try:
    config = results_lib.read_json(path)
  except (ValueError, UnicodeDecodeError) as e:
    raise ConfigError(f"{path} is not valid JSON ({e}); restore it, or use a new "
                      "--workdir") from None
  if not isinstance(config, dict):
    raise ConfigError(f"{path} is not a JSON object; restore it, or use a new --workdir")
  return config


def check_config(workdir: pathlib.Path, config: TrainConfig, data: dict | None = None) -> None:
  """Refuses a workdir that holds a run of another learned configuration.

  More epochs continue a run, unless the learning-rate schedule is stretched
  over the epochs (as cosine is). How a run runs (:class:`RunConfig`) may
  change freely: it is not compared. Writes nothing (:func:`write_configs`).
  """
  old = read_config(workdir)
  if old is None:
    return
  new = config.to_dict()
  allowed = set() if config.lr_schedule == "cosine" else {"epochs"}
  if data is not None and isinstance(old.get("data"), dict):
    new = {**new, "data": data}
  changed = sorted(k for k in new if k not in allowed and old.get(k) != new[k])
  if changed:
    diffs = ", ".join(f"{k}: {old.get(k)!r} -> {new[k]!r}" for k in changed)
    raise ConfigError(f"workdir {workdir} holds a run with another configuration "
                      f"({diffs}); use a new --workdir or delete this one")


def data_record(dataset) -> dict:
  """What ``config.json`` records of the data: input shape, classes (``load_model`` reads it)."""
  return {"input_shape": list(dataset.image_shape), "num_classes": len(dataset.class_names),
          "class_names": list(dataset.class_names)}


def write_configs(workdir: pathlib.Path, config: TrainConfig, run: RunConfig,
                  data: dict | None = None) -> None:
  """Writes ``config.json`` (what is learned, with the `data` record under ``"data"``)
  and ``run.json`` (how this invocation runs, for the record), once everything was
  checked."""
  record = config.to_dict()
  if data is not None:
    record["data"] = data
  results_lib.write_json(workdir / "config.json", record)
  results_lib.write_json(workdir / "run.json", run.to_dict())


def remove_leftovers(workdir: pathlib.Path) -> None:
  """Deletes what a killed run can leave behind: half-written SavedModel
  folders (``.saved_model.*``) and temporary JSON files."""
  for path in workdir.glob(".saved_model.*"):
    shutil.rmtree(path, ignore_errors=True)
    logging.info("removed %s, left by an interrupted export", path)
  for path in workdir.glob(".tmp-*.json"):
    path.unlink(missing_ok=True)


_CKPT = re.compile(r"^ckpt-(\d+)\.index$")


def _readable(prefix: str) -> str | None:
  """None if every tensor of checkpoint `prefix` can be read, else why not."""
  try:
    reader = tf.train.load_checkpoint(prefix)
    for name in reader.get_variable_to_shape_map():
      reader.get_tensor(name)
  except Exception as e:   # a damaged file raises whatever its reader hits first
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:160]
  return None


def latest_intact(directory: pathlib.Path, rewrite: bool = True) -> str | None:
  """The newest checkpoint in `directory` whose files all read back.

  Checkpoints are listed from the folder itself (``ckpt-N.index``), newest
  first; damaged ones are skipped with a warning. With `rewrite`,
  TensorFlow's state file is then rewritten to name only intact checkpoints
  inside `directory` (a reader that does not own the folder passes False).

  Raises:
    CheckpointError: if checkpoints exist but none of them is intact (the
      run would otherwise restart over existing progress).
  """
  if not directory.is_dir():
    return None
  numbers = sorted((int(m.group(1)) for p in directory.iterdir()
                    if (m := _CKPT.match(p.name))), reverse=True)
  intact, damaged = [], []
  for number in numbers:
    prefix = str(directory / f"ckpt-{number}")
    why = _readable(prefix)
    (damaged.append((prefix, why)) if why else intact.append(prefix))
  state = directory / "checkpoint"
  named = None
  if state.exists():
    try:
      named = tf.train.get_checkpoint_state(str(directory))
    except Exception:   # garbage in the state file: ignored, rewritten below
      logging.warning("%s is unreadable; checkpoints are taken from the folder", state)
  if named is not None:
    outside = [p for p in named.all_model_checkpoint_paths
               if os.path.dirname(os.path.abspath(os.path.join(directory, p)))
               != os.path.abspath(directory)]
    if outside:
      logging.warning("%s names paths outside %s (%s): ignored, never touched", state,
                      directory, ", ".join(outside[:3]))
  for prefix, why in damaged:
    logging.warning("checkpoint %s is damaged (%s): skipped", prefix, why)
  if not intact:
    if damaged:
      raise CheckpointError(
          f"no intact checkpoint in {directory} ({damaged[0][0]}: {damaged[0][1]}); "
          "nothing was overwritten; delete the folder to start the run over")
    if state.exists() and rewrite:
      state.unlink()
    return None
  newest = intact[0]
  if damaged and int(damaged[0][0].rsplit("-", 1)[1]) > int(newest.rsplit("-", 1)[1]):
    logging.warning("resuming from %s, the newest intact checkpoint", newest)
  if rewrite:   # the format TensorFlow writes, with names relative to `directory`
    lines = [f'model_checkpoint_path: "{os.path.basename(newest)}"']
    lines += [f'all_model_checkpoint_paths: "{os.path.basename(p)}"' for p in reversed(intact)]
    tmp = directory / ".checkpoint.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, state)
  return newest


def restore(state, directory: pathlib.Path, owner: bool = True) -> None:
  """Restores `state` from the newest intact checkpoint in `directory`, if
  any (`owner`: this process may rewrite its state file)."""
  latest = latest_intact(directory, rewrite=owner)
  if latest is None:
    return
  try:
    state.checkpoint.restore(latest).assert_existing_objects_matched()
  except (AssertionError, ValueError, tf.errors.OpError) as e:
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    raise CheckpointError(
        f"checkpoint {latest} does not fit model "
        f"{state.model.spec!r} ({first[:200]}); use a new --workdir") from None
  logging.info("resumed from %s: epoch %d, batch %d, step %d", latest,
               int(state.epoch), int(state.position), state.step_count())

