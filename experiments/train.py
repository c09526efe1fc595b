r"""Train a CNN on MNIST-like data with tfcnn's hand-written loop.

With no flags it trains the seed CNN on the embedded MNIST sample:

  python -m experiments.train

Everything goes into --workdir: flags.json, config.json, ckpt/, saved_model/,
results.json (and tb/ and images/ for TensorBoard). Running the same command
again resumes from the latest checkpoint; a finished run is not retrained.
"""


from absl import app, flags, logging

from experiments import common
from tfcnn import optimizers, spec, summaries, training
from tfcnn.training import distribute
from tfcnn.data import sources
from tfcnn.training.config import SCHEDULES

_DATASET = common.define_dataset_flag(" mnist falls back to mnist_sample when unavailable.")
_DATA_DIR = flags.DEFINE_string("data_dir", None,
                                "Folder with the IDX files (default: $TFCNN_DATA_DIR, the "
                                "cache, system folders, then a download).")
_MODEL = flags.DEFINE_string("model", "seed_cnn",
                             f"Preset ({', '.join(spec.PRESETS)}) or architecture spec.")
_EPOCHS = flags.DEFINE_integer("epochs", 10, "Epochs to train.", lower_bound=1)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 32, "Batch size.", lower_bound=1)
_OPTIMIZER = flags.DEFINE_enum("optimizer", "adam", list(optimizers.NAMES), "Optimiser.")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", 2e-3, "Learning rate.", lower_bound=1e-12)
_MOMENTUM = flags.DEFINE_float("momentum", 0.9, "Momentum (momentum/nesterov).",
                               lower_bound=0.0, upper_bound=0.999999)
_LR_SCHEDULE = flags.DEFINE_enum("lr_schedule", "cosine", list(SCHEDULES),
                                 "Learning-rate schedule (cosine decays to 0 over the run).")
_AUGMENT_SHIFT = flags.DEFINE_integer("augment_shift", 2,
                                      "Shift training images by up to N pixels (0: off).",
                                      lower_bound=0, upper_bound=8)
_L1 = flags.DEFINE_float("l1", 0.0, "L1 penalty on kernels.", lower_bound=0.0)
_L2 = flags.DEFINE_float("l2", 0.0, "L2 penalty on kernels.", lower_bound=0.0)
_SEED = flags.DEFINE_integer("seed", 0, "Run seed: the default of --init_seed and --data_seed.",
                             lower_bound=0, upper_bound=2**31 - 1)
_INIT_SEED = flags.DEFINE_integer("init_seed", None, "Seed of the initial weights (and dropout "
                                  "masks); unset: --seed.", lower_bound=0,
                                  upper_bound=2**31 - 1)
_DATA_SEED = flags.DEFINE_integer("data_seed", None, "Seed of the example order, augmentation "
                                  "and validation split; unset: --seed.", lower_bound=0,
                                  upper_bound=2**31 - 1)
_WORKDIR = flags.DEFINE_string("workdir", None,
                               "Output folder (default: runs/<dataset>-<model>-seed<seed>).")
_DETERMINISTIC = flags.DEFINE_boolean("deterministic", False,
                                      "Bitwise-reproducible ops (slower).")
_VALIDATION_FRACTION = flags.DEFINE_float("validation_fraction", 0.0,
                                          "Fraction of train held out for validation.",
                                          lower_bound=0.0, upper_bound=0.99)
_TRAIN_LIMIT = flags.DEFINE_integer("train_limit", 0, "Use only the first N train images.",
                                    lower_bound=0)
_TEST_LIMIT = flags.DEFINE_integer("test_limit", 0, "Use only the first N test images.",
                                   lower_bound=0)
_CHECKPOINT_EVERY = flags.DEFINE_integer("checkpoint_every_steps", 0,
                                         "Also checkpoint every N steps (0: per epoch).",
                                         lower_bound=0)
_LOG_EVERY = flags.DEFINE_integer("log_every_steps", 200, "Progress line every N steps.",
                                  lower_bound=1)
_DOWNLOAD = flags.DEFINE_boolean("download", True, "Download missing datasets.")
_VERIFY_DATA = flags.DEFINE_boolean(
    "verify_data", True, "Refuse dataset files that match none of the dataset's pinned SHA-256 "
    "sums; false: train on your own copy anyway (results.json records it).")
_COMPUTE_DTYPE = flags.DEFINE_enum("compute_dtype", "float32", ["float32", "bfloat16"],
                                   "Compute precision; weights stay float32.")
_UNIT_SIZE = flags.DEFINE_integer("unit_size", 0,
                                  "Examples per gradient unit: a batch's gradient is the sum of "
                                  "its units' gradients, added in order (0: half the batch, "
                                  "8 to 256 examples, 32 at most for float32 conv models; the "
                                  "batch size: one unit).", lower_bound=0)
_STEPS_PER_CALL = flags.DEFINE_integer("steps_per_call", 50,
                                       "Train steps per compiled call.", lower_bound=1)
_JIT_COMPILE = flags.DEFINE_boolean(
    "jit_compile", False, "Compile each forward and backward pass with XLA. For GPUs; on the "
    "2-core development CPU it made a step 2-3x slower, so it is off by default.")
_STRATEGY = flags.DEFINE_enum("strategy", "default", list(distribute.STRATEGIES),
                              "default: one device; mirrored: all local GPUs (or "
                              "--num_cpu_devices CPU devices); multi_worker: the cluster in "
                              "TF_CONFIG.")
_NUM_CPU_DEVICES = flags.DEFINE_integer("num_cpu_devices", 1,
                                        "Split the CPU into N logical devices (to try "
                                        "mirrored training without GPUs).", lower_bound=1)
_NONFINITE = flags.DEFINE_enum("nonfinite", "stop", ["stop", "skip"],
                               "On a NaN/Inf loss or gradient: stop (keeping the last good "
                               "checkpoint) or skip the batch (counted in results).")
_TENSORBOARD = flags.DEFINE_boolean("tensorboard", True,
                                    "Log to <workdir>/tb and PNGs to <workdir>/images.")
_SUMMARY_EVERY = flags.DEFINE_integer("summary_every_steps", 100,
                                      "Step scalars every N steps.", lower_bound=1)
_IMAGES_EVERY = flags.DEFINE_integer("images_every_epochs", 2,
                                     "Feature maps, filters, histograms every N epochs.",
                                     lower_bound=1)
_FILTERS_PER_LAYER = flags.DEFINE_integer("filters_per_layer", 4,
                                          "Output filters shown per deeper conv layer.",
                                          lower_bound=0)
_PROBES_PER_CLASS = flags.DEFINE_integer("probes_per_class", 1,
                                         "Probe test images per class for feature maps.",
                                         lower_bound=1, upper_bound=10)
_HISTOGRAMS = flags.DEFINE_boolean("histograms", True,
                                   "Histograms of weights, gradients, activations.")

_INTER_OP_THREADS, _INTRA_OP_THREADS, _BATCH_SHARDS = common.define_thread_flags()
flags.adopt_module_key_flags(common)   # so that --help lists the speed flags
FLAG_NAMES = common.flag_names(globals())   # all of the above, recorded with each run


common.register_spec_validator("model")


@flags.multi_flags_validator(["optimizer", "momentum"],
                             message="--momentum only applies to --optimizer=momentum or nesterov")
def _momentum_needs_a_momentum_optimizer(values) -> bool:
  return values["optimizer"] in ("momentum", "nesterov") or not flags.FLAGS["momentum"].present


@flags.multi_flags_validator(["tensorboard", "summary_every_steps"],
                             message="--summary_every_steps needs --tensorboard")
def _summaries_need_tensorboard(values) -> bool:
  return values["tensorboard"] or not flags.FLAGS["summary_every_steps"].present


def config_from_flags() -> training.TrainConfig:
  """What the flags say is learned."""
  return training.TrainConfig(
      model=_MODEL.value, dataset=_DATASET.value, epochs=_EPOCHS.value,
      batch_size=_BATCH_SIZE.value, unit_size=_UNIT_SIZE.value, optimizer=_OPTIMIZER.value,
      learning_rate=_LEARNING_RATE.value, momentum=_MOMENTUM.value,
      lr_schedule=_LR_SCHEDULE.value, augment_shift=_AUGMENT_SHIFT.value, l1=_L1.value,
      l2=_L2.value, seed=_SEED.value, init_seed=_INIT_SEED.value, data_seed=_DATA_SEED.value,
      deterministic=_DETERMINISTIC.value,
      validation_fraction=_VALIDATION_FRACTION.value, train_limit=_TRAIN_LIMIT.value,
      test_limit=_TEST_LIMIT.value, compute_dtype=_COMPUTE_DTYPE.value).validate()


def run_from_flags(batch_shards: int) -> training.RunConfig:
  """How the flags say the run runs, with `batch_shards` from the thread plan."""
  return training.RunConfig(
      batch_shards=batch_shards, steps_per_call=_STEPS_PER_CALL.value,
      jit_compile=_JIT_COMPILE.value, log_every_steps=_LOG_EVERY.value,
      checkpoint_every_steps=_CHECKPOINT_EVERY.value, nonfinite=_NONFINITE.value,
      data_dir=_DATA_DIR.value, download=_DOWNLOAD.value,
      verify_data=_VERIFY_DATA.value).validate()


def default_workdir(config: training.TrainConfig) -> str:
  """``runs/<dataset>-<model>-seed<seed>-<digest>``: the digest is over everything learned
  (:meth:`TrainConfig.digest`), so two configurations never share a default folder and
  changing a hyper-parameter starts a new run; custom specs are named ``custom``."""
  model = config.model if config.model in spec.PRESETS else "custom"
  return f"runs/{config.dataset}-{model}-seed{config.seed}-{config.digest()}"


@common.user_errors
def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  config = config_from_flags()
  # Loading runs no TensorFlow: the thread pools (sized for this model on
  # these images) and a multi-worker strategy must come before anything that does.
  dataset = sources.load(config.dataset, data_dir=_DATA_DIR.value, download_ok=_DOWNLOAD.value,
                         verify=_VERIFY_DATA.value)
  plan = common.configure_threads(
      _INTER_OP_THREADS, _INTRA_OP_THREADS, _BATCH_SHARDS, config,
      one_cpu_device=_STRATEGY.value != "multi_worker" and _NUM_CPU_DEVICES.value <= 1)
  run = run_from_flags(plan.batch_shards)
  strategy = distribute.make_strategy(_STRATEGY.value, _NUM_CPU_DEVICES.value)
  chief = distribute.is_chief(strategy)
  workdir = common.prepare_workdir(_WORKDIR.value or default_workdir(config))
  logging.info("training %s on %s into %s", config.model, dataset.name, workdir)
  hooks = [common.FlagsRecord(workdir, FLAG_NAMES)]
  if _TENSORBOARD.value and chief:
    probe_images, probe_labels = summaries.probes.one_per_class(
        dataset.test_images, dataset.test_labels, _PROBES_PER_CLASS.value)
    hooks.append(summaries.TensorBoardLogger(
        workdir, probe_images, probe_labels, hparams=config.to_dict(),
        flags={name: flags.FLAGS[name].value for name in FLAG_NAMES},
        summary_every_steps=_SUMMARY_EVERY.value, images_every_epochs=_IMAGES_EVERY.value,
        filters_per_layer=_FILTERS_PER_LAYER.value, histograms=_HISTOGRAMS.value,
        class_names=dataset.class_names))
  results = training.train(config, workdir, dataset=dataset, hooks=hooks, strategy=strategy,
                           run=run)
  print(f"{results['dataset']}: test accuracy {results['test_accuracy']:.4f}, "
        f"test loss {results['test_loss']:.4f}, weights {results['weights_sha256'][:12]}, "
        f"workdir {workdir}")
  if _TENSORBOARD.value and chief:
    print(f"TensorBoard: tensorboard --logdir {workdir / 'tb'}")


if __name__ == "__main__":
  app.run(main, flags_parser=common.parse_flags)
