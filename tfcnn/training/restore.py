"""Loading a trained model back from a run's workdir."""

import os
import pathlib

import tensorflow as tf

from tfcnn import model as model_lib, spec
from tfcnn.errors import CheckpointError, ConfigError
from tfcnn.training import workdir as workdir_lib


def load_model(workdir: str | os.PathLike,
               input_shape: tuple[int, int, int] | None = None) -> model_lib.Sequential:
  """The model of the run in `workdir`, with its latest checkpointed weights.

  The input shape is the one ``config.json`` records for the run's data
  (older workdirs without it: `input_shape`, by default 28x28x1).

  Raises:
    CheckpointError: if the workdir has no config or checkpoint, or they do
      not fit together.
  """
  workdir = pathlib.Path(workdir)
  try:
    config = workdir_lib.read_config(workdir)
  except ConfigError as e:
    raise CheckpointError(str(e)) from None
  if config is None:
    raise CheckpointError(f"{workdir} is not a training workdir (no config.json)")
  if not isinstance(config.get("model"), str) or not isinstance(config.get("seed"), int):
    raise CheckpointError(f"{workdir / 'config.json'} lacks the model spec or the seed")
  seed = config["seed"] if config.get("init_seed") is None else config["init_seed"]
  recorded = (config.get("data") or {}).get("input_shape")
  if input_shape is None:
    input_shape = tuple(recorded) if recorded else (28, 28, 1)
  net = spec.build(config["model"], seed=seed, input_shape=input_shape)
  latest = workdir_lib.latest_intact(workdir / "ckpt", rewrite=False)
  if latest is None:
    raise CheckpointError(f"{workdir} has no checkpoint in ckpt/")
  try:
    tf.train.Checkpoint(model=net).read(latest).expect_partial().assert_existing_objects_matched()
  except (AssertionError, ValueError, tf.errors.OpError) as e:
    raise CheckpointError(f"{latest} does not fit model {net.spec!r}: "
                          f"{str(e).splitlines()[0][:200]}") from None
  return net
