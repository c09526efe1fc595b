"""One run's model, optimiser, metrics, checkpoint and compiled train steps.

A :class:`Trainer` compiles its steps once, with fixed input signatures (no
retracing across batch sizes):

* ``train_step(images, labels)``: one update;
* ``train_steps(images, labels, order, first, count, epoch)``: many updates
  in one call, batches formed in-graph from the training set held in memory;
* ``distributed_steps(iterator, count)``: many updates under a
  ``tf.distribute`` strategy, from a distributed dataset.

Each update is :meth:`Trainer.update`: forward and backward pass (over
batch shards computed side by side, one per core, and within a shard over
micro-batches for large float32 batches; or as one XLA computation with
``jit_compile``), one cross-replica gradient sum, a
NaN/Inf guard, the optimiser step, running metrics and, when attached,
TensorBoard scalars. :func:`tfcnn.training.train` drives it over epochs.
"""

import functools
import json
from typing import Sequence

import numpy as np
import tensorflow as tf

from tfcnn import geometry, losses, metrics, optimizers, spec
from tfcnn.data import pipeline
from tfcnn.layers import BatchNorm, Conv2D
from tfcnn.training import distribute, finite as finite_lib
from tfcnn.training.config import TrainConfig


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
      rows = geometry.layer_geometry(self.model.layers, input_shape)
      self._num_outputs = rows[-1].output_shape[-1]
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
    self._loss_and_gradients = (
        tf.function(self._sharded_loss_and_gradients, jit_compile=True)
        if self.config.jit_compile else self._sharded_loss_and_gradients)
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
  def _may_split(self) -> bool:
    """Whether a batch may be split at all (into shards or micro-batches):
    not with batch norm, whose batch statistics would change with the split,
    nor under XLA (``jit_compile``), which plans the memory of the whole step
    itself and needs static shapes."""
    return not (self.config.jit_compile
                or any(isinstance(l, BatchNorm) for l in self.model.layers))

  @property
  def batch_shards(self) -> int:
    """How many shards each batch is split into, computed side by side:
    ``config.batch_shards`` where a batch may be split, else 1."""
    return self.config.batch_shards if self._may_split else 1

  @property
  def uses_micro_batches(self) -> bool:
    """Whether shards larger than ``micro_batch_size`` are split further.

    Only where it pays and changes nothing: float32 compute (bfloat16 runs on
    matrix units that prefer whole batches), models with conv layers (whose
    large activations are what overflows the caches), and where a batch may
    be split at all (no batch norm, no XLA). Measured with
    ``experiments/benchmark.py``.
    """
    shard_size = -(-self.config.batch_size // self.batch_shards)
    return (bool(self.config.micro_batch_size)
            and self._may_split
            and self.config.micro_batch_size < shard_size
            and self.compute_dtype == tf.float32
            and any(isinstance(l, Conv2D) for l in self.model.layers))

  def _forward_loss(self, images, labels, weight):
    """Per-example loss, float32 logits, and `weight` x the summed loss (a tape target)."""
    logits = self.model(tf.cast(images, self.compute_dtype), training=True)
    per_example = losses.sparse_softmax_cross_entropy(labels, logits)
    return per_example, tf.cast(logits, tf.float32), tf.reduce_sum(per_example) * weight

  def split(self, *tensors: tf.Tensor) -> list[tuple[tf.Tensor, ...]]:
    """The batch `tensors` cut into :attr:`batch_shards` consecutive shards
    (:func:`tfcnn.data.pipeline.split`)."""
    return pipeline.split(tensors, self.batch_shards)

  def _over_shards(self, fn, empty, shards: list[tuple[tf.Tensor, ...]]) -> list:
    """``fn(*shard)`` for each shard of a batch (:meth:`split`), in order:
    independent computations that TensorFlow runs side by side, one per
    inter-op thread (each operation on one intra-op thread: see
    :mod:`tfcnn.threads`). A shard left empty by a batch smaller than the
    shard count gives ``empty()`` instead (TensorFlow's convolutions refuse
    empty batches).
    """
    results = []
    for k, shard in enumerate(shards):
      results.append(fn(*shard) if k == 0 else
                     tf.cond(tf.shape(shard[0])[0] > 0, functools.partial(fn, *shard), empty))
    return results

  def _no_logits(self) -> tf.Tensor:
    return tf.zeros([0, self._num_outputs])

  def logits(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
    """The model's float32 logits for a batch, computed over :attr:`batch_shards`
    side by side (evaluation, and the benchmark's forward phase)."""
    def forward(x):
      return tf.cast(self.model(tf.cast(x, self.compute_dtype), training=training), tf.float32)
    parts = self._over_shards(forward, self._no_logits, self.split(images))
    return tf.concat(parts, 0)   # (of one part: that part)

  def loss_and_gradients(self, images: tf.Tensor, labels: tf.Tensor):
    """Per-example losses, float32 logits, and gradients of the mean loss + penalty.

    The batch is split into :attr:`batch_shards` shards computed side by
    side, and shards larger than ``micro_batch_size`` into micro-batches
    computed one after the other; their gradients are summed: the same
    gradient as the whole batch at once (up to float rounding), with
    cache-sized work spread over the cores.
    """
    return self._sharded_loss_and_gradients(self.split(images, labels))

  def _sharded_loss_and_gradients(self, shards: list[tuple[tf.Tensor, tf.Tensor]]):
    """:meth:`loss_and_gradients` of a batch given as its ``(images, labels)``
    shards (:meth:`split`, or :func:`tfcnn.data.pipeline.make_batch_shards`)."""
    variables = self.model.trainable_variables
    n = tf.add_n([tf.shape(labels)[0] for _, labels in shards])
    # The mean over the *global* batch (tf.nn.compute_average_loss's
    # convention): under a strategy, replicas hold equal slices of it.
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context is not None else 1
    weight = 1.0 / tf.cast(n * replicas, tf.float32)
    with tf.GradientTape() as tape:
      penalty = tf.nn.scale_regularization_loss(
          optimizers.l1_l2_penalty(self.model.kernels, self.config.l1, self.config.l2))

    def shard(x, y):
      return self._shard_loss_and_gradients(x, y, weight)

    def empty():
      return tf.zeros([0]), self._no_logits(), [tf.zeros_like(v) for v in variables]

    parts = self._over_shards(shard, empty, shards)
    gradients = []
    for i, penalty_gradient in enumerate(tape.gradient(penalty, variables)):
      terms = [part[2][i] for part in parts]
      terms += [] if penalty_gradient is None else [penalty_gradient]
      gradients.append(tf.add_n(terms) if len(terms) > 1 else terms[0])
    return (tf.concat([part[0] for part in parts], 0), tf.concat([part[1] for part in parts], 0),
            gradients)

  def _shard_loss_and_gradients(self, images, labels, weight):
    """Per-example losses, float32 logits and `weight` x the gradients of the
    summed loss of one shard, over micro-batches if :attr:`uses_micro_batches`."""
    variables = self.model.trainable_variables
    if not self.uses_micro_batches:
      with tf.GradientTape() as tape:
        per_example, logits, loss = self._forward_loss(images, labels, weight)
      return per_example, logits, list(tape.gradient(loss, variables))
    size = self.config.micro_batch_size
    chunks = (tf.shape(labels)[0] + size - 1) // size
    gradients = [tf.zeros_like(v) for v in variables]
    per_example = tf.TensorArray(tf.float32, size=chunks, infer_shape=False)
    logits_all = tf.TensorArray(tf.float32, size=chunks, infer_shape=False)
    for i in tf.range(chunks):
      x, y = images[i * size:(i + 1) * size], labels[i * size:(i + 1) * size]
      with tf.GradientTape() as tape:
        chunk_loss, chunk_logits, loss = self._forward_loss(x, y, weight)
      gradients = [a + g for a, g in zip(gradients, tape.gradient(loss, variables))]
      per_example = per_example.write(i, chunk_loss)
      logits_all = logits_all.write(i, chunk_logits)
    return per_example.concat(), logits_all.concat(), gradients

  def update(self, images: tf.Tensor, labels: tf.Tensor):
    """One update, uncompiled (``train_step`` is it under ``tf.function``);
    returns ``(mean loss, finite)``.

    A batch whose loss or gradients are not finite changes nothing but the
    ``skipped`` counter: the weights never receive NaN or Inf. With
    ``jit_compile`` the forward and backward pass run as one XLA computation
    (:attr:`_loss_and_gradients`); the cross-replica sum, the optimiser and the
    summaries stay outside it.
    """
    return self._sharded_update(self.split(images, labels))

  def _sharded_update(self, shards: list[tuple[tf.Tensor, tf.Tensor]]):
    """:meth:`update` of a batch given as its ``(images, labels)`` shards."""
    per_example, logits, gradients = self._loss_and_gradients(shards)
    labels = tf.concat([y for _, y in shards], 0)
    variables = self.model.trainable_variables
    # Summed across replicas first, so that every replica takes the same branch.
    gradients = optimizers.all_reduce_gradients(gradients)
    loss = tf.reduce_mean(per_example)
    finite = finite_lib.all_finite(per_example, gradients)
    correct = metrics.correct(labels, logits)
    if self._writer is not None:
      self._write_step_summaries(loss, finite, tf.reduce_mean(correct), gradients)

    def record(mask=None):
      self.train_loss.update(per_example, mask=mask)
      self.train_accuracy.update(correct, mask=mask)

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

  def _write_step_summaries(self, loss, finite, accuracy, gradients) -> None:
    """Scalars (and gradient histograms) of an applied update, every N steps."""
    step = self.step + tf.cast(finite, tf.int64)  # the step this update makes
    every = lambda n: tf.logical_and(finite, step % n == 0)
    # Summary tags take the enclosing name scope ("while/cond/loss" inside the
    # multi-step loop); reset it so the tags are the same in every code path.
    with tf.compat.v1.name_scope(None), self._writer.as_default(step=step):
      with tf.summary.record_if(every(self._summary_every)):
        tf.summary.scalar("loss", loss)
        tf.summary.scalar("accuracy", accuracy)
        tf.summary.scalar("learning_rate", self.optimizer.learning_rate(step - 1))
        tf.summary.scalar("gradient_norm", tf.linalg.global_norm(gradients))
      if self._gradient_histograms_every:
        with tf.summary.record_if(every(self._gradient_histograms_every)):
          for gradient, variable in zip(gradients, self.model.trainable_variables):
            tf.summary.histogram(f"gradients/{variable.name.split(':')[0]}", gradient)

  def _train_steps(self, images, labels, order, first, count, epoch):
    """Batches ``first .. first + count - 1`` of an epoch in one compiled call.

    Batches are formed in-graph, their shards side by side, by
    :func:`tfcnn.data.pipeline.make_batch_shards` (the same values as the
    tf.data pipeline's batches) from the training images held in memory
    already scaled, in the compute precision (:meth:`data_tensors`), so
    there is no Python between steps and no per-step cast. In
    ``nonfinite="stop"`` mode the loop ends at the first non-finite batch,
    which is not applied.
    Returns ``(batches done, finite)``.
    """
    config = self.config
    done = tf.constant(0, tf.int64)
    finite = tf.constant(True)
    for i in tf.range(count):
      shards = pipeline.make_batch_shards(images, labels, order, first + i, config.batch_size,
                                          self.batch_shards, config.seed, epoch,
                                          config.augment_shift)
      _, finite = self._sharded_update(shards)
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
    logits = self.logits(images)
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
