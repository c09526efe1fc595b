"""The hand-written training loop.

:func:`train` drives a :class:`~tfcnn.training.trainer.Trainer` (model,
optimiser, metrics, checkpoint and compiled steps) over epochs:

    restore latest checkpoint (if any) ─► for each remaining epoch:
        batches of the epoch's permutation, skipping those already done
        train_steps: many updates (GradientTape + optimizer.apply) per call
        checkpoint every N steps (model, optimiser, epoch, position, history)
        evaluate on test (and validation) ─► history ─► checkpoint
    ─► SavedModel ─► results.json

Everything a resumed run needs — weights, optimiser slots and step, dropout
generators, epoch, position inside the epoch, running train metrics and the
per-epoch history — is in one ``tf.train.Checkpoint``, and the order of every
epoch is a function of (seed, epoch); so a resumed run continues exactly
where the checkpoint was taken.
"""

import json
import os
import pathlib
import shutil
import signal
import threading
import time
from typing import Protocol, Sequence

import numpy as np
import tensorflow as tf
from absl import logging

from tfcnn import export
from tfcnn.data import pipeline, sources
from tfcnn.errors import CheckpointError, ConfigError, TfcnnError
from tfcnn.training import distribute, results as results_lib
from tfcnn.training.config import TrainConfig
from tfcnn.training.trainer import Trainer

# Config fields that may change between invocations on one workdir: more
# epochs continue a run (unless the learning-rate schedule is stretched over
# the epochs, as cosine is); the rest only change how it is watched or found.
_RESUMABLE_CHANGES = {"epochs", "log_every_steps", "checkpoint_every_steps",
                      "data_dir", "download", "nonfinite", "steps_per_call", "batch_shards"}


class TrainingInterrupted(TfcnnError):
  """SIGTERM or SIGINT arrived; a checkpoint was saved, the run can resume."""


class TrainingDiverged(TfcnnError):
  """A non-finite loss or gradient; the last good checkpoint is kept."""


class Hook(Protocol):
  """Observes a run (TensorBoard summaries are one)."""

  def on_train_begin(self, trainer: "Trainer") -> None: ...
  def on_epoch_end(self, trainer: "Trainer", stats: dict) -> None: ...
  def on_train_end(self, trainer: "Trainer", results: dict) -> None: ...


def _check_workdir_config(workdir: pathlib.Path, config: TrainConfig) -> None:
  path = workdir / "config.json"
  if path.exists():
    old = results_lib.read_json(path)
    new = config.to_dict()
    allowed = _RESUMABLE_CHANGES - ({"epochs"} if config.lr_schedule == "cosine" else set())
    changed = sorted(k for k in new if k not in allowed and old.get(k) != new[k])
    if changed:
      diffs = ", ".join(f"{k}: {old.get(k)!r} -> {new[k]!r}" for k in changed)
      raise ConfigError(f"workdir {workdir} holds a run with another configuration "
                        f"({diffs}); use a new --workdir or delete this one")
  results_lib.write_json(path, config.to_dict())


def _restore(trainer: Trainer, directory: pathlib.Path) -> None:
  latest = tf.train.latest_checkpoint(str(directory))
  if latest is None:
    return
  try:
    trainer.checkpoint.restore(latest).assert_existing_objects_matched()
  except (AssertionError, ValueError, tf.errors.OpError) as e:
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    raise CheckpointError(
        f"checkpoint {latest} does not fit model "
        f"{trainer.model.spec!r} ({first[:200]}); use a new --workdir") from None
  logging.info("resumed from %s: epoch %d, batch %d, step %d", latest,
               int(trainer.epoch), int(trainer.position), trainer.step_count())


def prepare_data(config: TrainConfig, dataset: sources.Dataset | None = None):
  """Loads the dataset and returns ``(dataset, train, validation, test)`` arrays."""
  if dataset is None:
    dataset = sources.load(config.dataset, data_dir=config.data_dir,
                           download_ok=config.download)
  train_x, train_y = dataset.train_images, dataset.train_labels
  test_x, test_y = dataset.test_images, dataset.test_labels
  if config.train_limit:
    train_x, train_y = train_x[:config.train_limit], train_y[:config.train_limit]
  if config.test_limit:
    test_x, test_y = test_x[:config.test_limit], test_y[:config.test_limit]
  (train_x, train_y), val = pipeline.split_validation(
      train_x, train_y, config.validation_fraction, config.seed)
  return dataset, (train_x, train_y), val, (test_x, test_y)


class _StopSignal:
  """Remembers SIGTERM / SIGINT so the loop can checkpoint and stop cleanly."""

  def __init__(self):
    self.signum: int | None = None
    self._previous = {}

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for signum in (signal.SIGTERM, signal.SIGINT):
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def _handle(self, signum, frame):
    del frame
    self.signum = signum

  def __exit__(self, *exc):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)


def _stopped(trainer: Trainer, manager, stop: _StopSignal) -> None:
  manager.save()
  name = signal.Signals(stop.signum).name
  raise TrainingInterrupted(
      f"interrupted by {name} at epoch {int(trainer.epoch) + 1}, batch "
      f"{int(trainer.position)} (step {trainer.step_count()}); checkpoint saved in "
      f"{manager.directory}; run the same command to resume", exit_code=128 + stop.signum)


def _run_epoch(trainer: Trainer, manager: tf.train.CheckpointManager, stop: _StopSignal,
               train_x: np.ndarray, train_y: np.ndarray) -> tuple[float, int]:
  """Trains the rest of the current epoch; returns (seconds, images seen).

  Steps run in compiled chunks of up to ``steps_per_call``, cut at log and
  checkpoint boundaries; signals are honoured between chunks. Under a
  strategy, the batches come from a distributed tf.data pipeline; otherwise
  they are formed in-graph from the in-memory arrays.
  """
  config = trainer.config
  epoch, position = int(trainer.epoch), int(trainer.position)
  if position == 0:
    trainer.train_loss.reset()
    trainer.train_accuracy.reset()
  if trainer.distributed:
    iterator = iter(distribute.distributed_batches(
        trainer.strategy, train_x, train_y, config.batch_size, config.seed, epoch,
        skip=position, shift=config.augment_shift))
    run = lambda first, count: trainer.distributed_steps(iterator, tf.constant(count, tf.int64))
  else:
    images, labels = trainer.data_tensors(train_x, train_y)
    order = tf.constant(pipeline.epoch_order(len(train_x), config.seed, epoch))
    run = lambda first, count: trainer.run_steps(images, labels, order, first, count, epoch)
  steps = trainer.steps_per_epoch
  total_batches = steps * config.epochs
  every = config.checkpoint_every_steps
  start, seen = time.perf_counter(), 0
  while position < steps:
    base = epoch * steps
    count = min(config.steps_per_call, steps - position,
                config.log_every_steps - position % config.log_every_steps)
    if every:
      count = min(count, every - (base + position) % every)
    done, finite = run(position, count)
    done = int(done)
    seen += min((position + done) * config.batch_size, len(train_x)) - \
        min(position * config.batch_size, len(train_x))
    position += done
    trainer.position.assign(position)
    if not bool(finite):
      where = f"epoch {epoch + 1}, batch {position + 1} (after step {trainer.step_count()})"
      if config.nonfinite == "stop":
        last = manager.latest_checkpoint or "none yet"
        raise TrainingDiverged(
            f"non-finite loss or gradient at {where}; stopped without saving, the last good "
            f"checkpoint ({last}) is kept; lower the learning rate, or pass "
            "--nonfinite=skip to skip such batches")
      logging.warning("skipped %d batch(es) with a non-finite loss or gradient so far",
                      trainer.skipped_count())
    batches_done = base + position
    if every and batches_done % every == 0 and position < steps:
      manager.save()
      logging.info("checkpoint saved at epoch %d, batch %d", epoch + 1, position)
    if stop.signum is not None:
      _stopped(trainer, manager, stop)
    if position % config.log_every_steps == 0:
      elapsed = time.perf_counter() - start
      rate = seen / max(elapsed, 1e-9)
      logging.info("epoch %d/%d batch %d/%d step %d: loss %.4f accuracy %.4f, "
                   "%.0f images/s, ETA %.0f s", epoch + 1, config.epochs, position, steps,
                   trainer.step_count(), float(trainer.train_loss.result()),
                   float(trainer.train_accuracy.result()), rate,
                   (total_batches - batches_done) * config.batch_size / max(rate, 1e-9))
  return time.perf_counter() - start, seen


def train(config: TrainConfig, workdir: str | os.PathLike,
          dataset: sources.Dataset | None = None,
          hooks: Sequence[Hook] = (),
          strategy: tf.distribute.Strategy | None = None) -> dict:
  """Trains (or resumes) the run of `config` in `workdir`; returns its results.

  Writes ``config.json``, ``ckpt/``, ``saved_model/`` and ``results.json``
  into `workdir`. A finished run invoked again re-exports and returns the
  same results without training further.

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
  if config.deterministic:
    tf.config.experimental.enable_op_determinism()
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  strategy = strategy or tf.distribute.get_strategy()
  chief = distribute.is_chief(strategy)
  if chief:
    _check_workdir_config(workdir, config)
  else:
    hooks = ()

  dataset, (train_x, train_y), (val_x, val_y), (test_x, test_y) = prepare_data(config, dataset)
  if distribute.is_distributed(strategy):
    steps_per_epoch = len(train_x) // config.batch_size   # whole global batches only
  else:
    steps_per_epoch = pipeline.num_batches(len(train_x), config.batch_size)
  if steps_per_epoch < 1:
    raise ConfigError("no training batch: fewer training examples than the batch size, or none "
                      "left after --train_limit and --validation_fraction")
  trainer = Trainer(config, dataset.image_shape, steps_per_epoch, strategy=strategy)
  # Numbered by save count, never by step: a save never overwrites the
  # checkpoint the state file points to.
  ckpt_dir = workdir / "ckpt" if chief else workdir / f".worker{distribute.task_id(strategy)}-ckpt"
  manager = tf.train.CheckpointManager(trainer.checkpoint, str(ckpt_dir), max_to_keep=3)
  _restore(trainer, workdir / "ckpt")
  for hook in hooks:
    hook.on_train_begin(trainer)

  with _StopSignal() as stop:
    while int(trainer.epoch) < config.epochs:
      epoch = int(trainer.epoch)
      seconds, seen = _run_epoch(trainer, manager, stop, train_x, train_y)
      test_loss, test_accuracy = trainer.evaluate(test_x, test_y)
      stats = {"epoch": epoch + 1, "step": trainer.step_count(),
               "train_loss": float(trainer.train_loss.result()),
               "train_accuracy": float(trainer.train_accuracy.result()),
               "test_loss": test_loss, "test_accuracy": test_accuracy,
               "seconds": seconds, "images_per_second": seen / max(seconds, 1e-9),
               "skipped_batches": trainer.skipped_count()}
      if len(val_x):
        stats["validation_loss"], stats["validation_accuracy"] = trainer.evaluate(val_x, val_y)
      trainer.history.assign(json.dumps(trainer.epoch_history() + [stats]))
      trainer.epoch.assign_add(1)
      trainer.position.assign(0)
      manager.save()
      logging.info("epoch %d/%d: train loss %.4f accuracy %.4f | test loss %.4f "
                   "accuracy %.4f | %.1f s, %.0f images/s", epoch + 1, config.epochs,
                   stats["train_loss"], stats["train_accuracy"], test_loss, test_accuracy,
                   seconds, stats["images_per_second"])
      for hook in hooks:
        hook.on_epoch_end(trainer, stats)
      if stop.signum is not None:
        _stopped(trainer, manager, stop)
    results = _finish(trainer, workdir, dataset, config, len(train_x), test_x, test_y, hooks,
                      chief)
  if not chief:
    shutil.rmtree(ckpt_dir, ignore_errors=True)
  return results


def _finish(trainer: Trainer, workdir: pathlib.Path, dataset: sources.Dataset,
            config: TrainConfig, num_train: int, test_x, test_y, hooks, chief: bool) -> dict:
  test_loss, test_accuracy = trainer.evaluate(test_x, test_y)
  if chief:
    export.export_saved_model(trainer.model, workdir / "saved_model")
  summary = trainer.model.summary(print_fn=None)
  results = {
      "dataset": dataset.name,
      "requested_dataset": config.dataset,
      "dataset_source": dataset.source,
      "model": trainer.model.spec,
      "num_parameters": summary.num_params,
      "num_trainable_parameters": summary.num_trainable_params,
      "seed": config.seed,
      "deterministic": config.deterministic,
      "replicas": trainer.strategy.num_replicas_in_sync,
      "strategy": type(trainer.strategy).__name__,
      "train_examples": num_train,
      "test_examples": len(test_x),
      "steps": trainer.step_count(),
      "skipped_batches": trainer.skipped_count(),
      "test_loss": test_loss,
      "test_accuracy": test_accuracy,
      "weights_sha256": results_lib.weights_sha256(trainer.model.trainable_variables),
      "epochs": trainer.epoch_history(),
  }
  if chief:
    results_lib.write_json(workdir / "results.json", results)
  for hook in hooks:
    hook.on_train_end(trainer, results)
  return results
