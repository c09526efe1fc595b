"""Running the training loop under ``tf.distribute`` — TensorFlow's own engine.

- :func:`make_strategy` builds the strategy a script asks for by name:
  ``default`` (one device), ``mirrored`` (all local GPUs, or N logical CPU
  devices for testing), ``multi_worker`` (``MultiWorkerMirroredStrategy``,
  which reads the cluster from ``TF_CONFIG``).
- :func:`is_chief` says whether this process writes the run's outputs.
- :func:`distributed_batches` shards each global batch across replicas so that
  replica ``r`` of ``R`` sees rows ``[r * b / R, (r + 1) * b / R)`` of the
  global batch ``b`` a single device would see: the same update, split.
"""

import json
import os

import numpy as np
import tensorflow as tf

from tfcnn.data import pipeline
from tfcnn.errors import ConfigError

STRATEGIES = ("default", "mirrored", "multi_worker")


def split_cpu(num_devices: int) -> None:
  """Splits the CPU into `num_devices` logical devices (before TF starts its runtime)."""
  if num_devices <= 1:
    return
  cpu = tf.config.list_physical_devices("CPU")[0]
  try:
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * num_devices)
  except RuntimeError as e:
    raise ConfigError(f"cannot split the CPU into {num_devices} devices: {e}") from None


def make_strategy(name: str, num_cpu_devices: int = 1) -> tf.distribute.Strategy:
  """The strategy called `name` (see the module docstring)."""
  if name not in STRATEGIES:
    raise ConfigError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
  if name == "multi_worker":
    if "TF_CONFIG" not in os.environ:
      raise ConfigError("--strategy=multi_worker needs TF_CONFIG describing the cluster")
    try:
      json.loads(os.environ["TF_CONFIG"])
    except ValueError:
      raise ConfigError("TF_CONFIG is not valid JSON") from None
    split_cpu(num_cpu_devices)
    return tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING))
  split_cpu(num_cpu_devices)
  if name == "default":
    return tf.distribute.get_strategy()
  gpus = tf.config.list_logical_devices("GPU")
  devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
  return tf.distribute.MirroredStrategy(devices=devices,
                                        cross_device_ops=tf.distribute.ReductionToOneDevice()
                                        if not gpus else None)


def is_distributed(strategy: tf.distribute.Strategy) -> bool:
  """Whether `strategy` is anything but TensorFlow's default single-device one."""
  return type(strategy).__name__ != "_DefaultDistributionStrategy"


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Whether this process writes checkpoints, summaries, the SavedModel and results."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return True
  if resolver.task_type == "chief":
    return True
  has_chief = "chief" in resolver.cluster_spec().as_dict()
  return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def task_id(strategy: tf.distribute.Strategy) -> int:
  """This worker's index (0 without a cluster)."""
  resolver = getattr(strategy, "cluster_resolver", None)
  return int(resolver.task_id or 0) if resolver is not None and resolver.task_type else 0


def distributed_batches(strategy: tf.distribute.Strategy, images: np.ndarray, labels: np.ndarray,
                        global_batch: int, seed: int, epoch: int, skip: int, shift: int):
  """Per-replica slices of the global batches of `epoch`, from batch `skip` on.

  Only whole global batches are used (the last partial one is dropped), so
  every replica does equal work.
  """
  replicas = strategy.num_replicas_in_sync
  if global_batch % replicas:
    raise ConfigError(f"batch size {global_batch} is not divisible by the {replicas} replicas")
  per_replica = global_batch // replicas
  order = pipeline.epoch_order(len(images), seed, epoch)
  order = order[:len(order) // global_batch * global_batch]

  def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
    pipelines = context.num_input_pipelines
    local = replicas // pipelines           # replicas fed by this input pipeline
    first = context.input_pipeline_id * local * per_replica
    batches = pipeline.ordered_batches(images, labels, order, global_batch, seed=seed,
                                       epoch=epoch, shift=shift, skip=skip)
    return (batches.map(lambda x, y: (x[first:first + local * per_replica],
                                      y[first:first + local * per_replica]))
            .unbatch().batch(per_replica, drop_remainder=True))

  return strategy.distribute_datasets_from_function(dataset_fn)
