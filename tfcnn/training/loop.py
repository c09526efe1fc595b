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
import shutil
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
from tfcnn.layers import BatchNorm, Conv2D
from tfcnn.training import distribute, finite as finite_lib, results as results_lib
from tfcnn.training.config import TrainConfig

# Config fields that may change between invocations on one workdir: more
# epochs continue a run (unless the learning-rate schedule is stretched over
# the epochs, as cosine is); the rest only change how it is watched or found.
_RESUMABLE_CHANGES = {"epochs", "log_every_steps", "checkpoint_every_steps",
                      "data_dir", "download", "nonfinite", "steps_per_call"}


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
               steps_per_epoch: int, strategy: tf.distribute.Strategy | None = None):
    self.config = config
    self.steps_per_epoch = steps_per_epoch
    self.strategy = strategy or tf.distribute.get_strategy()
    self.distributed = distribute.is_distributed(self.strategy)
    self.compute_dtype = tf.as_dtype(config.compute_dtype)
    with self.strategy.scope():
      self.model = spec.build(config.model, seed=config.seed, input_shape=input_shape)
      self.optimizer = make_optimizer(config, steps_per_epoch)
      self.optimizer.build(self.model.trainable_variables)
      self.skipped = tf.Variable(0, dtype=tf.int64, trainable=False, name="skipped_batches",
                                 aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
      self.train_loss = metrics.Mean("train_loss")
      self.train_accuracy = metrics.Mean("train_accuracy")
      self.eval_loss = metrics.Mean("eval_loss")
      self.eval_accuracy = metrics.Mean("eval_accuracy")
    # Host-side progress, updated from Python identically on every worker.
    self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
    self.position = tf.Variable(0, dtype=tf.int64, trainable=False, name="position")
    self.history = tf.Variable("[]", dtype=tf.string, trainable=False, name="history")
    self.checkpoint = tf.train.Checkpoint(
        model=self.model, optimizer=self.optimizer, epoch=self.epoch,
        position=self.position, history=self.history, skipped=self.skipped,
        train_loss=self.train_loss, train_accuracy=self.train_accuracy)
    self._signature = [tf.TensorSpec([None, *input_shape], tf.float32, name="images"),
                       tf.TensorSpec([None], tf.int32, name="labels")]
    self._steps_signature = [
        tf.TensorSpec([None, *input_shape], self.compute_dtype, name="images"),
        tf.TensorSpec([None], tf.int32, name="labels"),
        tf.TensorSpec([None], tf.int64, name="order"),
        tf.TensorSpec([], tf.int64, name="first"),
        tf.TensorSpec([], tf.int64, name="count"),
        tf.TensorSpec([], tf.int64, name="epoch")]
    self.eval_step = tf.function(self._eval_step, input_signature=self._signature)
    self.attach_summaries(None)   # compiles the train steps

  def attach_summaries(self, writer: tf.summary.SummaryWriter | None, every_steps: int = 100,
                       gradient_histograms_every: int = 0) -> None:
    """Makes the train step write scalars (and gradient histograms) to `writer`.

    Inside the compiled step, every `every_steps` steps: ``loss``,
    ``accuracy``, ``learning_rate``, ``gradient_norm``; every
    `gradient_histograms_every` steps (0: never) a histogram per gradient.
    The steps are (re)compiled here so that they capture the writer.
    """
    self._writer = writer
    self._summary_every = every_steps
    self._gradient_histograms_every = gradient_histograms_every
    self.train_step = tf.function(self.update, input_signature=self._signature)
    self.train_steps = tf.function(self._train_steps, input_signature=self._steps_signature)
    self.distributed_steps = tf.function(self._distributed_steps)

  @property
  def step(self) -> tf.Variable:
    """The global step (optimiser updates so far)."""
    return self.optimizer.step

  def step_count(self) -> int:
    """The global step as a Python int (also for a distributed variable)."""
    return int(self.optimizer.step.numpy())

  def skipped_count(self) -> int:
    """Batches skipped for a non-finite loss or gradient, as a Python int."""
    return int(self.skipped.numpy())

  @property
  def uses_micro_batches(self) -> bool:
    """Whether batches larger than ``micro_batch_size`` are split.

    Only where it pays and changes nothing: float32 compute (bfloat16 runs on
    matrix units that prefer whole batches), models with conv layers (whose
    large activations are what overflows the caches), and never with batch
    norm (whose batch statistics would change with the split). Measured with
    ``experiments/benchmark.py``.
    """
    layers = self.model.layers
    return (bool(self.config.micro_batch_size)
            and self.config.micro_batch_size < self.config.batch_size
            and self.compute_dtype == tf.float32
            and any(isinstance(l, Conv2D) for l in layers)
            and not any(isinstance(l, BatchNorm) for l in layers))

  def _forward_loss(self, images, labels, weight):
    """Per-example loss, logits, and `weight` x the summed loss (a tape target)."""
    logits = self.model(tf.cast(images, self.compute_dtype), training=True)
    per_example = losses.sparse_softmax_cross_entropy(labels, logits)
    return per_example, logits, tf.reduce_sum(per_example) * weight

  def loss_and_gradients(self, images: tf.Tensor, labels: tf.Tensor):
    """Per-example losses, logits, and gradients of the mean loss + penalty.

    Batches larger than ``micro_batch_size`` are processed in micro-batches
    whose gradients are summed: the same gradient as the whole batch at once
    (up to float rounding), with cache-sized work.
    """
    variables = self.model.trainable_variables
    n = tf.shape(labels)[0]
    # The mean over the *global* batch (tf.nn.compute_average_loss's
    # convention): under a strategy, replicas hold equal slices of it.
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context is not None else 1
    weight = 1.0 / tf.cast(n * replicas, tf.float32)
    if not self.uses_micro_batches:
      with tf.GradientTape() as tape:
        per_example, logits, loss = self._forward_loss(images, labels, weight)
        total = loss + tf.nn.scale_regularization_loss(optimizers.l1_l2_penalty(
            self.model.kernels, self.config.l1, self.config.l2))
      return per_example, logits, tape.gradient(total, variables)
    with tf.GradientTape() as tape:
      penalty = tf.nn.scale_regularization_loss(
          optimizers.l1_l2_penalty(self.model.kernels, self.config.l1, self.config.l2))
    gradients = [tf.zeros_like(v) if g is None else g
                 for v, g in zip(variables, tape.gradient(penalty, variables))]
    size = self.config.micro_batch_size
    chunks = (n + size - 1) // size
    per_example = tf.TensorArray(tf.float32, size=chunks, infer_shape=False)
    logits_all = tf.TensorArray(tf.float32, size=chunks, infer_shape=False)
    for i in tf.range(chunks):
      x, y = images[i * size:(i + 1) * size], labels[i * size:(i + 1) * size]
      with tf.GradientTape() as tape:
        chunk_loss, chunk_logits, loss = self._forward_loss(x, y, weight)
      gradients = [a + g for a, g in zip(gradients, tape.gradient(loss, variables))]
      per_example = per_example.write(i, chunk_loss)
      logits_all = logits_all.write(i, tf.cast(chunk_logits, tf.float32))
    return per_example.concat(), logits_all.concat(), gradients

  def update(self, images: tf.Tensor, labels: tf.Tensor):
    """One update, uncompiled (``train_step`` is it under ``tf.function``);
    returns ``(mean loss, finite)``.

    A batch whose loss or gradients are not finite changes nothing but the
    ``skipped`` counter: the weights never receive NaN or Inf.
    """
    per_example, logits, gradients = self.loss_and_gradients(images, labels)
    variables = self.model.trainable_variables
    # Summed across replicas first, so that every replica takes the same branch.
    gradients = optimizers.all_reduce_gradients(gradients)
    loss = tf.reduce_mean(per_example)
    finite = finite_lib.all_finite(per_example, gradients)

    def record(mask=None):
      correct = metrics.correct(labels, logits)
      self.train_loss.update(per_example, mask=mask)
      self.train_accuracy.update(correct, mask=mask)
      if self._writer is not None:
        self._write_step_summaries(loss, tf.reduce_mean(correct), gradients, variables)

    if self.distributed:
      # Assignments that synchronise replicas cannot sit in a tf.cond:
      # run them all, holding the old values when the batch is not finite.
      self.optimizer.apply(gradients, variables, condition=finite)
      record(mask=finite)
      self.skipped.assign_add(1 - tf.cast(finite, tf.int64))
      return loss, finite

    def update():
      self.optimizer.apply(gradients, variables)
      record()
      return tf.constant(True)

    def skip():
      self.skipped.assign_add(1)
      return tf.constant(False)

    return loss, tf.cond(finite, update, skip)

  def _write_step_summaries(self, loss, accuracy, gradients, variables) -> None:
    step = self.step  # already counts this update
    # Summary tags take the enclosing name scope ("while/cond/loss" inside the
    # multi-step loop); reset it so the tags are the same in every code path.
    with tf.compat.v1.name_scope(None), self._writer.as_default(step=step):
      with tf.summary.record_if(step % self._summary_every == 0):
        tf.summary.scalar("loss", loss)
        tf.summary.scalar("accuracy", accuracy)
        tf.summary.scalar("learning_rate", self.optimizer.learning_rate(step - 1))
        tf.summary.scalar("gradient_norm", tf.linalg.global_norm(gradients))
      if self._gradient_histograms_every:
        with tf.summary.record_if(step % self._gradient_histograms_every == 0):
          for gradient, variable in zip(gradients, variables):
            tf.summary.histogram(f"gradients/{variable.name.split(':')[0]}", gradient)

  def _train_steps(self, images, labels, order, first, count, epoch):
    """Batches ``first .. first + count - 1`` of an epoch in one compiled call.

    Batches are formed in-graph by :func:`tfcnn.data.pipeline.make_batch`
    (the same values as the tf.data pipeline) from the training images held
    in memory already scaled, in the compute precision
    (:meth:`data_tensors`), so there is no Python between steps and no
    per-step cast. In ``nonfinite="stop"`` mode the loop ends at the first
    non-finite batch, which is not applied.
    Returns ``(batches done, finite)``.
    """
    config = self.config
    done = tf.constant(0, tf.int64)
    finite = tf.constant(True)
    for i in tf.range(count):
      x, y = pipeline.make_batch(images, labels, order, first + i, config.batch_size,
                                 config.seed, epoch, config.augment_shift)
      _, finite = self.update(x, y)
      if config.nonfinite == "stop" and not finite:
        break
      done += 1
    return done, finite

  def _distributed_steps(self, iterator, count: tf.Tensor):
    """Like :meth:`_train_steps`, under the strategy, from a distributed iterator."""
    done = tf.constant(0, tf.int64)
    finite = tf.constant(True)
    for _ in tf.range(count):
      images, labels = next(iterator)
      _, per_replica = self.strategy.run(self.update, args=(images, labels))
      # Every replica computed `finite` from all-reduced values: they agree.
      finite = self.strategy.experimental_local_results(per_replica)[0]
      if self.config.nonfinite == "stop" and not finite:
        break
      done += 1
    return done, finite

  def run_steps(self, images: tf.Tensor, labels: tf.Tensor, order: tf.Tensor, first: int,
                count: int, epoch: int) -> tuple[int, bool]:
    """:meth:`train_steps` from Python: batches ``first .. first + count - 1``
    of `epoch`; waits for them and returns ``(batches done, finite)``.

    `images` and `labels` as :meth:`data_tensors` makes them; `order` the
    epoch's example order (:func:`tfcnn.data.pipeline.epoch_order`).
    """
    done, finite = self.train_steps(images, labels, order, tf.constant(first, tf.int64),
                                    tf.constant(count, tf.int64), tf.constant(epoch, tf.int64))
    return int(done), bool(finite)

  def _eval_step(self, images: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    logits = self.model(tf.cast(images, self.compute_dtype), training=False)
    per_example = losses.sparse_softmax_cross_entropy(labels, logits)
    self.eval_loss.update(per_example)
    self.eval_accuracy.update(metrics.correct(labels, logits))
    return tf.reduce_mean(per_example)

  def data_tensors(self, images: np.ndarray, labels: np.ndarray) -> tuple[tf.Tensor, tf.Tensor]:
    """The training arrays as :meth:`train_steps` takes them, made once and kept.

    Images are scaled once into the compute precision: ``[n, h, w, 1]``,
    4 bytes per pixel in float32 (188 MB for MNIST's 60,000 images), 2 in
    bfloat16, instead of uint8's 1. Scaling (and casting) every batch
    instead cost 4% of the `mlp` preset's step at batch 500 in float32 and
    19% in bfloat16, whose cast TensorFlow does slowly on CPUs.
    """
    key = (id(images), id(labels))
    if getattr(self, "_data_key", None) != key:
      self._data = (pipeline.scale(images, self.compute_dtype),
                    tf.constant(labels.astype(np.int32)))
      self._data_key = key
    return self._data

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
