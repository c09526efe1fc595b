"""A run's workdir: its learned configuration, its run options, its checkpoints."""

import pathlib

import tensorflow as tf
from absl import logging

from tfcnn.errors import CheckpointError, ConfigError
from tfcnn.training import results as results_lib
from tfcnn.training.config import RunConfig, TrainConfig


def check_config(workdir: pathlib.Path, config: TrainConfig) -> None:
  """Refuses a workdir that holds a run of another learned configuration,
  then writes ``config.json``.

  More epochs continue a run, unless the learning-rate schedule is stretched
  over the epochs (as cosine is). How a run runs (:class:`RunConfig`) may
  change freely: it is not compared.
  """
  path = workdir / "config.json"
  new = config.to_dict()
  if path.exists():
    old = results_lib.read_json(path)
    allowed = set() if config.lr_schedule == "cosine" else {"epochs"}
    changed = sorted(k for k in new if k not in allowed and old.get(k) != new[k])
    if changed:
      diffs = ", ".join(f"{k}: {old.get(k)!r} -> {new[k]!r}" for k in changed)
      raise ConfigError(f"workdir {workdir} holds a run with another configuration "
                        f"({diffs}); use a new --workdir or delete this one")
  results_lib.write_json(path, new)


def write_run(workdir: pathlib.Path, run: RunConfig) -> None:
  """Writes ``run.json``: how this invocation runs (for the record only)."""
  results_lib.write_json(workdir / "run.json", run.to_dict())


def restore(state, directory: pathlib.Path) -> None:
  """Restores `state` from the latest checkpoint in `directory`, if any."""
  latest = tf.train.latest_checkpoint(str(directory))
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
