"""The hand-written training loop.

One :class:`Trainer` owns a run's model, optimiser, metrics and checkpoint,
and two step functions compiled once with fixed input signatures (no
retracing across batch sizes). :func:`train` drives it over epochs:

    restore latest checkpoint (if any) ─► for each remaining epoch:
        batches of the epoch's permutation, skipping those already done
        train_step (GradientTape + optimizer.apply) per batch
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
import signal
import threading
import time
from typing import Protocol, Sequence

import numpy as np
import tensorflow as tf
from absl import logging

from tfcnn import export, losses, metrics, optimizers, spec
from tfcnn.data import pipeline, sources
from tfcnn.errors import CheckpointError, ConfigError, TfcnnError
from tfcnn.training import results as results_lib
from tfcnn.training.config import TrainConfig

# Config fields that may change between invocations on one workdir: more
# epochs continue a run (unless the learning-rate schedule is stretched over
# the epochs, as cosine is); the rest only change how it is watched or found.
_RESUMABLE_CHANGES = {"epochs", "log_every_steps", "checkpoint_every_steps",
                      "data_dir", "download", "nonfinite"}


class TrainingInterrupted(TfcnnError):
  """SIGTERM or SIGINT arrived; a checkpoint was saved, the run can resume."""


class TrainingDiverged(TfcnnError):
  """A non-finite loss or gradient; the last good checkpoint is kept."""


class Hook(Protocol):
  """Observes a run (TensorBoard summaries are one)."""

  def on_train_begin(self, trainer: "Trainer") -> None: ...
  def on_epoch_end(self, trainer: "Trainer", stats: dict) -> None: ...
  def on_train_end(self, trainer: "Trainer", results: dict) -> None: ...


def make_optimizer(config: TrainConfig, steps_per_epoch: int) -> optimizers.Optimizer:
  """The optimiser and learning-rate schedule that `config` asks for."""
  total = max(1, steps_per_epoch * config.epochs)
  lr = config.learning_rate
  if config.lr_schedule == "exponential":
    lr = optimizers.ExponentialDecay(lr, decay_steps=steps_per_epoch, decay_rate=0.9)
  elif config.lr_schedule == "cosine":
    lr = optimizers.CosineDecay(lr, decay_steps=total)
  return optimizers.make(config.optimizer, lr, momentum=config.momentum)


class Trainer:
  """Model, optimiser, metrics, checkpoint and compiled steps of one run."""

  def __init__(self, config: TrainConfig, input_shape: Sequence[int],
               steps_per_epoch: int):
    self.config = config
    self.steps_per_epoch = steps_per_epoch
    self.model = spec.build(config.model, seed=config.seed, input_shape=input_shape)
    self.optimizer = make_optimizer(config, steps_per_epoch)
    self.optimizer.build(self.model.trainable_variables)
    self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
    self.position = tf.Variable(0, dtype=tf.int64, trainable=False, name="position")
    self.history = tf.Variable("[]", dtype=tf.string, trainable=False, name="history")
    self.skipped = tf.Variable(0, dtype=tf.int64, trainable=False, name="skipped_batches")
    self.train_loss = metrics.Mean("train_loss")
    self.train_accuracy = metrics.Mean("train_accuracy")
    self.eval_loss = metrics.Mean("eval_loss")
    self.eval_accuracy = metrics.Mean("eval_accuracy")
    self.checkpoint = tf.train.Checkpoint(
        model=self.model, optimizer=self.optimizer, epoch=self.epoch,
        position=self.position, history=self.history, skipped=self.skipped,
        train_loss=self.train_loss, train_accuracy=self.train_accuracy)
    self._signature = [tf.TensorSpec([None, *input_shape], tf.float32, name="images"),
                       tf.TensorSpec([None], tf.int32, name="labels")]
    self.attach_summaries(None)
    self.eval_step = tf.function(self._eval_step, input_signature=self._signature)

  def attach_summaries(self, writer: tf.summary.SummaryWriter | None, every_steps: int = 100,
                       gradient_histograms_every: int = 0) -> None:
    """Makes the train step write scalars (and gradient histograms) to `writer`.

    Inside the compiled step, every `every_steps` steps: ``loss``,
    ``accuracy``, ``learning_rate``, ``gradient_norm``; every
    `gradient_histograms_every` steps (0: never) a histogram per gradient.
    The step is recompiled so that it captures the writer.
    """
    self._writer = writer
    self._summary_every = every_steps
    self._gradient_histograms_every = gradient_histograms_every
    self.train_step = tf.function(self._train_step, input_signature=self._signature)

  @property
  def step(self) -> tf.Variable:
    """The global step (optimiser updates so far)."""
    return self.optimizer.step

  def loss_and_gradients(self, images: tf.Tensor, labels: tf.Tensor):
    """Per-example losses, logits, and gradients of the mean loss + penalty."""
    variables = self.model.trainable_variables
    with tf.GradientTape() as tape:
      logits = self.model(images, training=True)
      per_example = losses.sparse_softmax_cross_entropy(labels, logits)
      total = tf.reduce_mean(per_example) + optimizers.l1_l2_penalty(
          self.model.kernels, self.config.l1, self.config.l2)
    return per_example, logits, tape.gradient(total, variables)

  def _train_step(self, images: tf.Tensor, labels: tf.Tensor):
    """One update; returns ``(mean loss, finite)``.

    A batch whose loss or gradients are not finite changes nothing but the
    ``skipped`` counter: the weights never receive NaN or Inf.
    """
    per_example, logits, gradients = self.loss_and_gradients(images, labels)
    variables = self.model.trainable_variables
    loss = tf.reduce_mean(per_example)
    finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in gradients]
                           + [tf.math.is_finite(loss)])

    def update():
      self.optimizer.apply(gradients, variables)
      correct = metrics.correct(labels, logits)
      self.train_loss.update(per_example)
      self.train_accuracy.update(correct)
      if self._writer is not None:
        self._write_step_summaries(loss, tf.reduce_mean(correct), gradients, variables)
      return tf.constant(True)

    def skip():
      self.skipped.assign_add(1)
      return tf.constant(False)

    return loss, tf.cond(finite, update, skip)

  def _write_step_summaries(self, loss, accuracy, gradients, variables) -> None:
    step = self.step  # already counts this update
    with self._writer.as_default(step=step):
      with tf.summary.record_if(step % self._summary_every == 0):
        tf.summary.scalar("loss", loss)
        tf.summary.scalar("accuracy", accuracy)
        tf.summary.scalar("learning_rate", self.optimizer.learning_rate(step - 1))
        tf.summary.scalar("gradient_norm", tf.linalg.global_norm(gradients))
      if self._gradient_histograms_every:
        with tf.summary.record_if(step % self._gradient_histograms_every == 0):
          for gradient, variable in zip(gradients, variables):
            tf.summary.histogram(f"gradients/{variable.name.split(':')[0]}", gradient)

  def _eval_step(self, images: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    logits = self.model(images, training=False)
    per_example = losses.sparse_softmax_cross_entropy(labels, logits)
    self.eval_loss.update(per_example)
    self.eval_accuracy.update(metrics.correct(labels, logits))
    return tf.reduce_mean(per_example)

  def evaluate(self, images: np.ndarray, labels: np.ndarray,
               batch_size: int = 1000) -> tuple[float, float]:
    """``(mean loss, accuracy)`` of the model on (images, labels)."""
    self.eval_loss.reset()
    self.eval_accuracy.reset()
    for x, y in pipeline.eval_batches(images, labels, batch_size):
      self.eval_step(x, y)
    return float(self.eval_loss.result()), float(self.eval_accuracy.result())

  def epoch_history(self) -> list[dict]:
    """The statistics of every finished epoch (kept in the checkpoint)."""
    return json.loads(self.history.numpy().decode())


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


def _restore(trainer: Trainer, manager: tf.train.CheckpointManager) -> None:
  if manager.latest_checkpoint is None:
    return
  try:
    trainer.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
  except (AssertionError, ValueError, tf.errors.OpError) as e:
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    raise CheckpointError(
        f"checkpoint {manager.latest_checkpoint} does not fit model "
        f"{trainer.model.spec!r} ({first[:200]}); use a new --workdir") from None
  logging.info("resumed from %s: epoch %d, batch %d, step %d", manager.latest_checkpoint,
               int(trainer.epoch), int(trainer.position), int(trainer.step))


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
      f"{int(trainer.position)} (step {int(trainer.step)}); checkpoint saved in "
      f"{manager.directory}; run the same command to resume", exit_code=128 + stop.signum)


def _run_epoch(trainer: Trainer, manager: tf.train.CheckpointManager, stop: _StopSignal,
               train_x: np.ndarray, train_y: np.ndarray) -> tuple[float, int]:
  """Trains the rest of the current epoch; returns (seconds, images seen)."""
  config = trainer.config
  epoch, skip = int(trainer.epoch), int(trainer.position)
  if skip == 0:
    trainer.train_loss.reset()
    trainer.train_accuracy.reset()
  start, seen = time.perf_counter(), 0
  total_batches = trainer.steps_per_epoch * config.epochs
  for images, labels in pipeline.train_batches(train_x, train_y, config.batch_size, config.seed,
                                               epoch, skip=skip, shift=config.augment_shift):
    _, finite = trainer.train_step(images, labels)
    if not bool(finite):
      where = (f"epoch {epoch + 1}, batch {int(trainer.position) + 1} "
               f"(after step {int(trainer.step)})")
      if config.nonfinite == "stop":
        last = manager.latest_checkpoint or "none yet"
        raise TrainingDiverged(
            f"non-finite loss or gradient at {where}; stopped without saving, the last good "
            f"checkpoint ({last}) is kept; lower the learning rate, or pass "
            "--nonfinite=skip to skip such batches")
      logging.warning("skipped a batch with a non-finite loss or gradient at %s", where)
    seen += int(images.shape[0])
    trainer.position.assign_add(1)
    position = int(trainer.position)
    batches_done = epoch * trainer.steps_per_epoch + position
    if config.checkpoint_every_steps and batches_done % config.checkpoint_every_steps == 0 \
        and position < trainer.steps_per_epoch:
      manager.save()
      logging.info("checkpoint saved at epoch %d, batch %d", epoch + 1, position)
    if stop.signum is not None:
      _stopped(trainer, manager, stop)
    if position % config.log_every_steps == 0:
      elapsed = time.perf_counter() - start
      rate = seen / max(elapsed, 1e-9)
      logging.info("epoch %d/%d batch %d/%d step %d: loss %.4f accuracy %.4f, "
                   "%.0f images/s, ETA %.0f s", epoch + 1, config.epochs, position,
                   trainer.steps_per_epoch, int(trainer.step),
                   float(trainer.train_loss.result()), float(trainer.train_accuracy.result()),
                   rate, (total_batches - batches_done) * config.batch_size / max(rate, 1e-9))
  return time.perf_counter() - start, seen


def train(config: TrainConfig, workdir: str | os.PathLike,
          dataset: sources.Dataset | None = None,
          hooks: Sequence[Hook] = ()) -> dict:
  """Trains (or resumes) the run of `config` in `workdir`; returns its results.

  Writes ``config.json``, ``ckpt/``, ``saved_model/`` and ``results.json``
  into `workdir`. A finished run invoked again re-exports and returns the
  same results without training further.

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
  _check_workdir_config(workdir, config)

  dataset, (train_x, train_y), (val_x, val_y), (test_x, test_y) = prepare_data(config, dataset)
  if not len(train_x):
    raise ConfigError("no training examples left after --train_limit and --validation_fraction")
  steps_per_epoch = pipeline.num_batches(len(train_x), config.batch_size)
  trainer = Trainer(config, dataset.image_shape, steps_per_epoch)
  # Numbered by save count, never by step: a save never overwrites the
  # checkpoint the state file points to.
  manager = tf.train.CheckpointManager(trainer.checkpoint, str(workdir / "ckpt"), max_to_keep=3)
  _restore(trainer, manager)
  for hook in hooks:
    hook.on_train_begin(trainer)

  with _StopSignal() as stop:
    while int(trainer.epoch) < config.epochs:
      epoch = int(trainer.epoch)
      seconds, seen = _run_epoch(trainer, manager, stop, train_x, train_y)
      test_loss, test_accuracy = trainer.evaluate(test_x, test_y)
      stats = {"epoch": epoch + 1, "step": int(trainer.step),
               "train_loss": float(trainer.train_loss.result()),
               "train_accuracy": float(trainer.train_accuracy.result()),
               "test_loss": test_loss, "test_accuracy": test_accuracy,
               "seconds": seconds, "images_per_second": seen / max(seconds, 1e-9),
               "skipped_batches": int(trainer.skipped)}
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
    return _finish(trainer, workdir, dataset, config, len(train_x), test_x, test_y, hooks)


def _finish(trainer: Trainer, workdir: pathlib.Path, dataset: sources.Dataset,
            config: TrainConfig, num_train: int, test_x, test_y, hooks) -> dict:
  test_loss, test_accuracy = trainer.evaluate(test_x, test_y)
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
      "train_examples": num_train,
      "test_examples": len(test_x),
      "steps": int(trainer.step),
      "skipped_batches": int(trainer.skipped),
      "test_loss": test_loss,
      "test_accuracy": test_accuracy,
      "weights_sha256": results_lib.weights_sha256(trainer.model.trainable_variables),
      "epochs": trainer.epoch_history(),
  }
  results_lib.write_json(workdir / "results.json", results)
  for hook in hooks:
    hook.on_train_end(trainer, results)
  return results
