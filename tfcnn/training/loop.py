"""The hand-written training loop.

    restore the latest checkpoint (if any) ─► for each remaining epoch:
        for each batch of the epoch's order (from where the checkpoint was):
            the train step (tfcnn.training.step), in calls of several batches
            watchers between calls: non-finite guard, checkpoint, signals, progress
        evaluate on test (and validation) ─► history ─► checkpoint ─► hooks
    ─► SavedModel ─► results.json

Everything a resumed run needs is in one checkpoint
(:class:`~tfcnn.training.state.TrainState`), and the order of every epoch is
a function of (seed, epoch); so a resumed run continues exactly where the
checkpoint was taken.
"""

import contextlib
import json
import os
import pathlib
import shutil
from typing import Callable, Protocol, Sequence

import numpy as np
import tensorflow as tf

from tfcnn import export, fast, geometry
from tfcnn.data import pipeline, sources
from tfcnn.errors import ConfigError, ShapeError
from tfcnn.training import display, distribute, hooks as hooks_lib, results as results_lib, \
    workdir as workdir_lib
from tfcnn.training.config import RunConfig, TrainConfig
from tfcnn.training.evaluate import Evaluator
from tfcnn.training.hooks import TrainingDiverged, TrainingInterrupted
from tfcnn.training.state import TrainState

__all__ = ["Hook", "TrainingDiverged", "TrainingInterrupted", "prepare_data", "run_epoch",
           "train"]


class Hook(Protocol):
  """Observes a run (TensorBoard summaries are one).

  A hook may also have a ``step_summaries`` attribute, set by
  ``on_train_begin``: a callable the compiled step calls with its scalars
  (:class:`tfcnn.summaries.StepSummaries`).
  """

  def on_train_begin(self, state: TrainState) -> None: ...
  def on_epoch_end(self, state: TrainState, stats: dict) -> None: ...
  def on_train_end(self, state: TrainState, results: dict) -> None: ...
  # Optional: on_progress(info: display.ProgressInfo), progress_every(batches) -> int.


def prepare_data(config: TrainConfig, dataset: sources.Dataset | None = None,
                 run: RunConfig | None = None):
  """Loads the dataset and returns ``(dataset, train, validation, test)`` arrays.

  Raises:
    ConfigError: if a given `dataset` is not the one `config` names.
  """
  expected = {config.dataset} | ({"mnist_sample"} if config.dataset == "mnist" else set())
  if dataset is not None and dataset.name not in expected:   # (mnist may fall back)
    raise ConfigError(f"the configuration says dataset {config.dataset!r} but the data given is "
                      f"{dataset.name!r}; set TrainConfig(dataset={dataset.name!r})")
  if dataset is None:
    run = run or RunConfig()
    dataset = sources.load(config.dataset, data_dir=run.data_dir, download_ok=run.download,
                           verify=run.verify_data)
  train_x, train_y = dataset.train_images, dataset.train_labels
  test_x, test_y = dataset.test_images, dataset.test_labels
  if config.train_limit:
    train_x, train_y = train_x[:config.train_limit], train_y[:config.train_limit]
  if config.test_limit:
    test_x, test_y = test_x[:config.test_limit], test_y[:config.test_limit]
  (train_x, train_y), val = pipeline.split_validation(
      train_x, train_y, config.validation_fraction, config.order_seed)
  return dataset, (train_x, train_y), val, (test_x, test_y)


def run_epoch(state: TrainState, runner, watchers: Sequence[hooks_lib.Watcher],
              progress: hooks_lib.Progress) -> tuple[float, int]:
  """Trains the rest of the current epoch; returns (seconds, images seen).

  For each batch, the step: `runner` runs as many batches per call as the
  watchers allow before one of them must look.
  """
  position = int(state.position)
  if position == 0:
    state.train_loss.reset()
    state.train_accuracy.reset()
  progress.begin_epoch(position, state)
  while position < state.steps_per_epoch:
    count = min([state.steps_per_epoch - position] +
                [w.batches_until_next(state, position) for w in watchers])
    done, finite = runner.run(int(state.epoch), position, count)
    position += done
    state.position.assign(position)
    for watcher in watchers:
      watcher.after(state, position, finite)
  return progress.elapsed(), progress.seen(state, position)


def _steps_per_epoch(config: TrainConfig, num_examples: int, distributed: bool) -> int:
  if distributed:
    steps = num_examples // config.batch_size   # whole global batches only
  else:
    steps = pipeline.num_batches(num_examples, config.batch_size)
  if steps < 1:
    raise ConfigError("no training batch: fewer training examples than the batch size, or none "
                      "left after --train_limit and --validation_fraction")
  return steps


def train(config: TrainConfig, workdir: str | os.PathLike,
          dataset: sources.Dataset | None = None, hooks: Sequence[Hook] = (),
          strategy: tf.distribute.Strategy | None = None,
          run: RunConfig | None = None,
          progress: bool | Callable[[display.ProgressInfo], None] = True) -> dict:
  """Trains (or resumes) the run of `config` in `workdir`; returns its results.

  `run` says how (shards, steps per call, cadences; default
  :class:`RunConfig`'s); on one CPU device it changes only speed. Writes ``config.json``, ``run.json``, ``ckpt/``, ``saved_model/`` and
  ``results.json`` into `workdir`. A finished run invoked again re-exports
  and returns the same results without training further.

  `progress`: True shows it on stderr (:class:`display.ConsoleProgress`: a
  live bar on a terminal, a line every ``run.log_every_steps`` batches
  otherwise, and one line per epoch); a callable receives every
  :class:`display.ProgressInfo` instead; False shows nothing. Any hook with
  an ``on_progress(info)`` method receives them too.

  Under a `strategy` the model, optimiser and metrics live in its scope and
  every step runs on all replicas; `config.batch_size` is the global batch.
  With several workers, all of them restore from ``workdir/ckpt`` (a shared
  folder), but only the chief writes there and runs the hooks; the others
  save their part of each checkpoint into a temporary folder, as
  ``MultiWorkerMirroredStrategy`` requires, and delete it at the end.

  Raises:
    TrainingInterrupted: on SIGTERM/SIGINT, after saving a checkpoint.
    TrainingDiverged: on a non-finite loss or gradient (``nonfinite="stop"``),
      without saving: the last good checkpoint stays the latest.
  """
  config.validate()
  run = (run or RunConfig()).validate()
  if config.deterministic and run.jit_compile:
    raise ConfigError("--jit_compile cannot be --deterministic: XLA has no deterministic "
                      "max-pool gradient, and its kernels round unlike TensorFlow's")
  if config.deterministic:
    tf.config.experimental.enable_op_determinism()
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  strategy = strategy or tf.distribute.get_strategy()
  chief = distribute.is_chief(strategy)
  with (workdir_lib.Lock(workdir) if chief else contextlib.nullcontext()):
    if progress is True:
      hooks = [*hooks, display.ConsoleProgress(run.log_every_steps)]
    elif callable(progress):
      hooks = [*hooks, display.CallbackProgress(progress)]
    return _train_locked(config, run, workdir, dataset, hooks if chief else (), strategy, chief)


def _train_locked(config: TrainConfig, run: RunConfig, workdir: pathlib.Path,
                  dataset: sources.Dataset | None, hooks: Sequence[Hook],
                  strategy: tf.distribute.Strategy, chief: bool) -> dict:
  """:func:`train`, once this process holds the workdir (or is not the chief)."""
  # Everything is checked before anything is written: a refused run leaves
  # the workdir as it found it.
  dataset, (train_x, train_y), (val_x, val_y), (test_x, test_y) = prepare_data(
      config, dataset, run)
  data = workdir_lib.data_record(dataset)
  if chief:
    workdir_lib.check_config(workdir, config, data)
  steps = _steps_per_epoch(config, len(train_x), distribute.is_distributed(strategy))
  state = TrainState(config, dataset.image_shape, steps, strategy=strategy)
  _check_outputs(state, len(dataset.class_names))
  # Numbered by save count, never by step: a save never overwrites the
  # checkpoint the state file points to.
  ckpt_dir = workdir / "ckpt" if chief else workdir / f".worker{distribute.task_id(strategy)}-ckpt"
  workdir_lib.restore(state, workdir / "ckpt", owner=chief)
  if chief:
    workdir_lib.remove_leftovers(workdir)
    workdir_lib.write_configs(workdir, config, run, data)
  manager = tf.train.CheckpointManager(state.checkpoint, str(ckpt_dir), max_to_keep=3)
  for hook in hooks:
    hook.on_train_begin(state)
  summaries = next((h.step_summaries for h in hooks if getattr(h, "step_summaries", None)),
                   None)
  runner = fast.make_runner(state, run, train_x, train_y, summaries)
  state.step_graph = getattr(runner, "graph", None)
  evaluate = Evaluator(state, shards=1 if distribute.is_distributed(strategy)
                       else run.batch_shards)
  every = min([run.log_every_steps] + [h.progress_every(steps) for h in hooks
                                       if hasattr(h, "progress_every")])
  progress = hooks_lib.Progress(every, len(train_x),
                                [h.on_progress for h in hooks if hasattr(h, "on_progress")])

  with hooks_lib.StopSignal(manager) as stop:
    watchers = [hooks_lib.NonFiniteGuard(run.nonfinite, manager),
                hooks_lib.StepCheckpoints(manager, run.checkpoint_every_steps), stop, progress]
    while int(state.epoch) < config.epochs:
      epoch = int(state.epoch)
      seconds, seen = run_epoch(state, runner, watchers, progress)
      test_loss, test_accuracy = evaluate(test_x, test_y)
      stats = {"epoch": epoch + 1, "step": state.step_count(),
               "train_loss": float(state.train_loss.result()),
               "train_accuracy": float(state.train_accuracy.result()),
               "test_loss": test_loss, "test_accuracy": test_accuracy,
               "seconds": seconds, "images_per_second": seen / max(seconds, 1e-9),
               "skipped_batches": state.skipped_count()}
      if len(val_x):
        stats["validation_loss"], stats["validation_accuracy"] = evaluate(val_x, val_y)
      state.history.assign(json.dumps(state.epoch_history() + [stats]))
      state.epoch.assign_add(1)
      state.position.assign(0)
      manager.save()
      for hook in hooks:
        hook.on_epoch_end(state, stats)
      stop.after(state, 0, True)
    results = _finish(state, workdir, dataset, evaluate, len(train_x), test_x, test_y, hooks,
                      chief)
  if not chief:
    shutil.rmtree(ckpt_dir, ignore_errors=True)
  return results


def _check_outputs(state: TrainState, classes: int) -> None:
  """The model must end in one logit per class."""
  rows = geometry.layer_geometry(state.model.layers, state.input_shape)
  shape = tuple(rows[-1].output_shape)
  if shape != (classes,):
    raise ShapeError(f"model {state.model.spec!r} ends in outputs of shape {shape}, but "
                     f"the loss needs one logit per class, ({classes},): end the spec with "
                     f"flatten-dense{classes}" if len(shape) > 1 else
                     f"model {state.model.spec!r} ends in {shape[0]} outputs, but the dataset "
                     f"has {classes} classes: end the spec with dense{classes}")


def _finish(state: TrainState, workdir: pathlib.Path, dataset: sources.Dataset,
            evaluate: Evaluator, num_train: int, test_x: np.ndarray, test_y: np.ndarray,
            hooks: Sequence[Hook], chief: bool) -> dict:
  config = state.config
  test_loss, test_accuracy = evaluate(test_x, test_y)
  if chief:
    export.export_saved_model(state.model, workdir / "saved_model")
  summary = state.model.summary(print_fn=None)
  results = {
      "dataset": dataset.name,
      "requested_dataset": config.dataset,
      "dataset_source": dataset.source,
      "dataset_verified": dataset.verified,
      "model": state.model.spec,
      "num_parameters": summary.num_params,
      "num_trainable_parameters": summary.num_trainable_params,
      "seed": config.seed,
      "init_seed": config.weights_seed,
      "data_seed": config.order_seed,
      "deterministic": config.deterministic,
      "unit_size": state.unit_size,
      "replicas": state.strategy.num_replicas_in_sync,
      "strategy": type(state.strategy).__name__,
      "train_examples": num_train,
      "test_examples": len(test_x),
      "steps": state.step_count(),
      "skipped_batches": state.skipped_count(),
      "test_loss": test_loss,
      "test_accuracy": test_accuracy,
      "weights_sha256": results_lib.weights_sha256(state.model.trainable_variables),
      "epochs": state.epoch_history(),
  }
  if chief:
    results_lib.write_json(workdir / "results.json", results)
  for hook in hooks:
    hook.on_train_end(state, results)
  return results
