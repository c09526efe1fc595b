"""What a run learns, apart from how it runs: two frozen dataclasses.

* :class:`TrainConfig` is everything that fixes the weights: model, data,
  optimiser, schedule, seeds, augmentation, regularisation, epochs, batch and
  unit size, compute precision. It is written to ``config.json``, and a
  workdir is resumed only with the same one (more epochs excepted).
* :class:`RunConfig` is how the run is carried out: batch shards, steps per
  compiled call, XLA, logging and checkpoint cadence, where the data lives.
  It may change freely between invocations; on a CPU it changes only speed
  (XLA excepted: its kernels round differently).

Scripts build both from flags; library code never reads flags.
"""

import dataclasses
import hashlib
import json
import math
from typing import Sequence

from tfcnn import optimizers, spec
from tfcnn.data import sources
from tfcnn.errors import ConfigError
from tfcnn.layers import BatchNorm, Conv2D

SCHEDULES = ("constant", "exponential", "cosine")

# The automatic gradient unit: half the batch, at least MIN_AUTO_UNIT examples
# and at most MAX_AUTO_UNIT, or MAX_AUTO_UNIT_CONV_FLOAT32 for float32 models
# with convolutions, whose large activations are what overflows the caches
# (figures: docs/performance.md).
MIN_AUTO_UNIT, MAX_AUTO_UNIT, MAX_AUTO_UNIT_CONV_FLOAT32 = 8, 256, 32


def _need(ok: bool, message: str) -> None:
  if not ok:
    raise ConfigError(message)


def _finite(name: str, value: float) -> None:
  _need(math.isfinite(value), f"{name} must be a finite number, got {value!r}")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """Everything that determines the weights a run learns.

  It is written next to the results, so a run can be understood and repeated
  from its workdir alone.
  """
  model: str = "seed_cnn"          # preset name or spec (see tfcnn.spec)
  dataset: str = "mnist_sample"
  epochs: int = 10
  batch_size: int = 32
  unit_size: int = 0               # examples per gradient unit (0: auto, see unit_size_for)
  optimizer: str = "adam"
  learning_rate: float = 2e-3
  momentum: float = 0.9            # for momentum / nesterov
  lr_schedule: str = "cosine"      # constant | exponential | cosine
  augment_shift: int = 2           # random shifts of up to N pixels (0: none)
  l1: float = 0.0
  l2: float = 0.0
  seed: int = 0                    # the default of the two seeds below
  init_seed: int | None = None     # initial weights (and dropout masks); None: seed
  data_seed: int | None = None     # example order, augmentation, validation split; None: seed
  deterministic: bool = False
  validation_fraction: float = 0.0
  train_limit: int = 0             # use only the first N training images (0: all)
  test_limit: int = 0              # use only the first N test images (0: all)
  compute_dtype: str = "float32"   # "float32" or "bfloat16" (weights stay float32)

  def validate(self) -> "TrainConfig":
    """Returns self, or raises ConfigError naming the first bad value."""
    _need(isinstance(self.dataset, str) and self.dataset.strip() != "",
          f"dataset must be a name ({', '.join(sources.DATASETS)}), npz:PATH, or the name of "
          f"arrays passed to train(), got {self.dataset!r}")
    _need(self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}")
    _need(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")
    _need(self.unit_size >= 0, f"unit_size must be >= 0 (0: auto), got {self.unit_size}")
    _need(self.optimizer in optimizers.NAMES,
          f"unknown optimizer {self.optimizer!r}; known: {', '.join(optimizers.NAMES)}")
    for name in ("learning_rate", "momentum", "l1", "l2", "validation_fraction"):
      _finite(name, getattr(self, name))
    _need(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
    _need(0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}")
    _need(self.lr_schedule in SCHEDULES,
          f"unknown lr_schedule {self.lr_schedule!r}; known: {', '.join(SCHEDULES)}")
    _need(0 <= self.augment_shift <= 8,
          f"augment_shift must be in [0, 8], got {self.augment_shift}")
    _need(self.l1 >= 0 and self.l2 >= 0, f"l1 and l2 must be >= 0, got {self.l1}, {self.l2}")
    for name in ("seed", "init_seed", "data_seed"):
      value = getattr(self, name)
      _need(value is None or 0 <= value < 2**31, f"{name} must be in [0, 2**31), got {value}")
    _need(0 <= self.validation_fraction < 1,
          f"validation_fraction must be in [0, 1), got {self.validation_fraction}")
    _need(self.train_limit >= 0 and self.test_limit >= 0, "limits must be >= 0")
    _need(self.compute_dtype in ("float32", "bfloat16"),
          f"compute_dtype must be float32 or bfloat16, got {self.compute_dtype!r}")
    return self

  @property
  def weights_seed(self) -> int:
    """The seed of the initial weights (and dropout masks): `init_seed`, else `seed`."""
    return self.seed if self.init_seed is None else self.init_seed

  @property
  def order_seed(self) -> int:
    """The seed of the example order, the augmentation and the validation
    split: `data_seed`, else `seed`."""
    return self.seed if self.data_seed is None else self.data_seed

  def to_dict(self) -> dict:
    """A JSON-serialisable copy."""
    return dataclasses.asdict(self)

  def digest(self, length: int = 8) -> str:
    """A short hex digest of everything learned: equal configs, equal digests.

    The model is taken in canonical form, so a preset and its spec agree.
    """
    learned = {**self.to_dict(), "model": spec.canonical(self.model)}
    text = json.dumps(learned, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def unit_size_for(config: TrainConfig, layers: Sequence) -> int:
  """Examples per gradient unit of `config` with the model's `layers`: the
  batch's gradient is the sum, in order, of the gradients of its consecutive
  units (:mod:`tfcnn.training.step`).

  ``config.unit_size``, or automatically half the batch (two units: two
  cores can share a batch), at least :data:`MIN_AUTO_UNIT` examples and at
  most :data:`MAX_AUTO_UNIT` (:data:`MAX_AUTO_UNIT_CONV_FLOAT32` for a
  float32 model with convolutions). A model with batch norm takes the whole
  batch as one unit: its batch statistics are over the batch. All of it
  follows from what is learned, never from the machine.
  """
  if any(isinstance(l, BatchNorm) for l in layers):
    return config.batch_size
  if config.unit_size:
    return min(config.unit_size, config.batch_size)
  has_conv = any(isinstance(l, Conv2D) for l in layers)
  cap = MAX_AUTO_UNIT_CONV_FLOAT32 if has_conv and config.compute_dtype == "float32" \
      else MAX_AUTO_UNIT
  half = -(-config.batch_size // 2)
  return min(config.batch_size, max(MIN_AUTO_UNIT, min(cap, half)))


@dataclasses.dataclass(frozen=True)
class RunConfig:
  """How a run is carried out; on one CPU device it changes only speed.

  Written to ``run.json`` on each invocation, never checked on resume.
  """
  batch_shards: int = 1            # gradient units computed side by side (tfcnn.fast)
  steps_per_call: int = 50         # train steps per compiled call (fewer Python round trips)
  jit_compile: bool = False        # XLA for each unit's forward + backward pass
  log_every_steps: int = 200
  checkpoint_every_steps: int = 0  # 0: checkpoint at the end of each epoch only
  nonfinite: str = "stop"          # on a NaN/Inf loss or gradient: "stop" or "skip" the batch
  data_dir: str | None = None
  download: bool = True
  verify_data: bool = True         # files found on disk must match the dataset's pins

  def validate(self) -> "RunConfig":
    """Returns self, or raises ConfigError naming the first bad value."""
    _need(self.batch_shards >= 1, "batch_shards must be >= 1")
    _need(self.steps_per_call >= 1, "steps_per_call must be >= 1")
    _need(self.log_every_steps >= 1, "log_every_steps must be >= 1")
    _need(self.checkpoint_every_steps >= 0, "checkpoint_every_steps must be >= 0")
    _need(self.nonfinite in ("stop", "skip"),
          f"nonfinite must be 'stop' or 'skip', got {self.nonfinite!r}")
    return self

  def to_dict(self) -> dict:
    """A JSON-serialisable copy."""
    return dataclasses.asdict(self)
