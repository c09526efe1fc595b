"""A run's state: model, optimiser, running metrics, progress, one checkpoint.

Everything a resumed run needs lives in :attr:`TrainState.checkpoint`:
weights, optimiser slots and step, dropout generators, the epoch and the
position inside it, the running train metrics and the per-epoch history.
"""

import json
from typing import Callable, Sequence

import tensorflow as tf

from tfcnn import metrics, optimizers, spec
from tfcnn.training.config import TrainConfig, unit_size_for


def make_optimizer(config: TrainConfig, steps_per_epoch: int) -> optimizers.Optimizer:
  """The optimiser and learning-rate schedule that `config` asks for."""
  total = max(1, steps_per_epoch * config.epochs)
  lr = config.learning_rate
  if config.lr_schedule == "exponential":
    lr = optimizers.ExponentialDecay(lr, decay_steps=steps_per_epoch, decay_rate=0.9)
  elif config.lr_schedule == "cosine":
    lr = optimizers.CosineDecay(lr, decay_steps=total)
  return optimizers.make(config.optimizer, lr, momentum=config.momentum)


class TrainState:
  """The model, optimiser, metrics and progress counters of one run.

  Built inside the strategy's scope (if any), so that variables are mirrored.
  """

  def __init__(self, config: TrainConfig, input_shape: Sequence[int], steps_per_epoch: int,
               strategy: tf.distribute.Strategy | None = None):
    self.config = config
    self.input_shape = tuple(input_shape)
    self.steps_per_epoch = steps_per_epoch
    self.strategy = strategy or tf.distribute.get_strategy()
    self.compute_dtype = tf.as_dtype(config.compute_dtype)
    with self.strategy.scope():
      self.model = spec.build(config.model, seed=config.weights_seed,
                              input_shape=input_shape)
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
    # The graph of the compiled step loop, once a runner has traced it
    # (set by the loop; for TensorBoard).
    self.step_graph: Callable[[], tf.Graph] | None = None
    self.unit_size = unit_size_for(config, self.model.layers)

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

  def epoch_history(self) -> list[dict]:
    """The statistics of every finished epoch (kept in the checkpoint)."""
    return json.loads(self.history.numpy().decode())

  def batch_spec(self) -> list[tf.TensorSpec]:
    """The signature of one batch: float32 images and int32 labels, any batch size."""
    return [tf.TensorSpec([None, *self.input_shape], tf.float32, name="images"),
            tf.TensorSpec([None], tf.int32, name="labels")]
