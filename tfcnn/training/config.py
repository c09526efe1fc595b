"""The training configuration: one frozen dataclass, checked up front."""

import dataclasses

from tfcnn import optimizers
from tfcnn.data import sources
from tfcnn.errors import ConfigError

SCHEDULES = ("constant", "exponential", "cosine")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """Everything that determines a training run.

  Scripts build it from flags; library code never reads flags. It is written
  next to the results, so a run can be understood and repeated from its
  workdir alone.
  """
  model: str = "seed_cnn"          # preset name or spec (see tfcnn.spec)
  dataset: str = "mnist_sample"
  data_dir: str | None = None
  epochs: int = 10
  batch_size: int = 32
  optimizer: str = "adam"
  learning_rate: float = 2e-3
  momentum: float = 0.9            # for momentum / nesterov
  lr_schedule: str = "cosine"      # constant | exponential | cosine
  augment_shift: int = 2           # random shifts of up to N pixels (0: none)
  l1: float = 0.0
  l2: float = 0.0
  seed: int = 0
  deterministic: bool = False
  validation_fraction: float = 0.0
  train_limit: int = 0             # use only the first N training images (0: all)
  test_limit: int = 0              # use only the first N test images (0: all)
  checkpoint_every_steps: int = 0  # 0: checkpoint at the end of each epoch only
  log_every_steps: int = 200
  download: bool = True
  nonfinite: str = "stop"          # on a NaN/Inf loss or gradient: "stop" or "skip" the batch
  compute_dtype: str = "float32"   # "float32" or "bfloat16" (weights stay float32)
  micro_batch_size: int = 128      # split larger batches, summing gradients (0: never)
  batch_shards: int = 1            # shards of a batch computed side by side (tfcnn.threads)
  steps_per_call: int = 50         # train steps per compiled call (fewer Python round trips)
  jit_compile: bool = False        # XLA for forward + backward: for GPUs; slower on the dev CPU

  def validate(self) -> "TrainConfig":
    """Returns self, or raises ConfigError naming the first bad value."""
    def need(ok: bool, message: str):
      if not ok:
        raise ConfigError(message)
    need(self.dataset in sources.DATASETS,
         f"unknown dataset {self.dataset!r}; known: {', '.join(sources.DATASETS)}")
    need(self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}")
    need(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}")
    need(self.optimizer in optimizers.NAMES,
         f"unknown optimizer {self.optimizer!r}; known: {', '.join(optimizers.NAMES)}")
    need(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
    need(0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}")
    need(self.lr_schedule in SCHEDULES,
         f"unknown lr_schedule {self.lr_schedule!r}; known: {', '.join(SCHEDULES)}")
    need(0 <= self.augment_shift <= 8, f"augment_shift must be in [0, 8], got {self.augment_shift}")
    need(self.l1 >= 0 and self.l2 >= 0, f"l1 and l2 must be >= 0, got {self.l1}, {self.l2}")
    need(0 <= self.seed < 2**31, f"seed must be in [0, 2**31), got {self.seed}")
    need(0 <= self.validation_fraction < 1,
         f"validation_fraction must be in [0, 1), got {self.validation_fraction}")
    need(self.train_limit >= 0 and self.test_limit >= 0, "limits must be >= 0")
    need(self.checkpoint_every_steps >= 0, "checkpoint_every_steps must be >= 0")
    need(self.log_every_steps >= 1, "log_every_steps must be >= 1")
    need(self.compute_dtype in ("float32", "bfloat16"),
         f"compute_dtype must be float32 or bfloat16, got {self.compute_dtype!r}")
    need(self.micro_batch_size >= 0, "micro_batch_size must be >= 0")
    need(self.batch_shards >= 1, "batch_shards must be >= 1")
    need(self.steps_per_call >= 1, "steps_per_call must be >= 1")
    need(self.nonfinite in ("stop", "skip"),
         f"nonfinite must be 'stop' or 'skip', got {self.nonfinite!r}")
    return self

  def to_dict(self) -> dict:
    """A JSON-serialisable copy."""
    return dataclasses.asdict(self)
