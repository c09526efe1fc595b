r"""Training speed of tfcnn against Keras (the reference), on the same data.

For each batch size and precision it times tfcnn's training and a Keras
model of the identical architecture and optimiser, alternating the two, and
reports the median of --repeats: images/s, the ratio tfcnn/Keras, GFLOP/s and
the fraction of this machine's peak, peak memory, and a per-phase breakdown
of tfcnn's step (forward, backward, update). Warm-up (tracing, first calls)
is excluded. Each contender runs in a process of its own, with the thread
pools it trains with by default (TensorFlow fixes them per process): tfcnn
those experiments.train chooses (tfcnn/fast/threads.py: batch shards side by
side, one intra-op thread), Keras TensorFlow's own. The processes are
alternated, never run at once. It also trains the `mlp` preset 35 epochs at
batch 500 (the seed series' figure to beat: 7.3 s), in a fresh process per
thread setting, and a plain-numpy MLP doing the same work
(benchmarks/mlp_figure.py, benchmarks/numpy_mlp.py: the seed's kind of
code, timed on this machine), alternating them. With --one_core (on by
default) it also times tfcnn on one core alone (one shard, one thread per
pool): how well the cores scale, and the rate all of them would give if each
trained as fast as one core alone does, beside the rate each ratio goal
needs.

  python -m benchmarks.benchmark                      # the full table
  python -m benchmarks.benchmark --batch_sizes=500 --repeats=1 --images=4000  # quick

Writes benchmark.json (--out) and prints a table. Benchmarks are not tests:
figures depend on the machine and on what else it is doing.
"""

import dataclasses
import json
import os
import statistics
import tempfile
import time

import numpy as np
import tensorflow as tf
from absl import app, flags, logging

from benchmarks import (benchmark_goals, benchmark_machine, keras_twin, layer_times, mlp_figure,
                        whole_process, worker_process)
from experiments import common
from tfcnn import fast, geometry, spec, training
from tfcnn.fast import threads
from tfcnn.training import step
from tfcnn.data import pipeline, sources
from tfcnn.errors import ConfigError

_BATCH_SIZES = flags.DEFINE_list("batch_sizes", ["64", "500", "20000"], "Batch sizes.")
_DTYPES = flags.DEFINE_list("dtypes", ["float32", "bfloat16"], "Compute precisions.")
_MODEL = flags.DEFINE_string("model", "seed_cnn", "Preset or spec.")
_DATASET = flags.DEFINE_string("dataset", "fashion_mnist",
                               "Dataset (falls back to mnist_sample when unavailable).")
_IMAGES = flags.DEFINE_integer("images", 20000, "Images per timed measurement (at least "
                               "3 batches).", lower_bound=1)
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed repeats per configuration.", lower_bound=1)
_KERAS = flags.DEFINE_boolean("keras", True, "Also time the Keras reference.")
_KERAS_JIT = flags.DEFINE_list(
    "keras_jit", ["false", "auto"],
    "Keras compile(jit_compile=...) settings to time: 'false' (XLA off, Keras's fastest on "
    "CPUs) and/or 'auto' (Keras's default). The ratio is reported against each.")
_TFCNN_XLA = flags.DEFINE_boolean(
    "tfcnn_xla", False, "Also time tfcnn with jit_compile=True (each forward and backward "
    "pass one XLA computation), alternating with the default, and report its relative speed.")
_PHASES = flags.DEFINE_boolean("phases", True, "Per-phase breakdown of tfcnn's step.")
_MLP = flags.DEFINE_boolean("mlp", True, "Time the mlp preset, 35 epochs at batch 500.")
_MLP_NUMPY = flags.DEFINE_boolean(
    "mlp_numpy", True, "With --mlp, also train a plain-numpy MLP doing the same work "
    "(benchmarks/numpy_mlp.py), alternating with tfcnn: the seed series' figure came from a "
    "numpy MLP on another machine; this one is timed on this machine.")
_MLP_THREADS = flags.DEFINE_list(
    "mlp_threads", ["auto", "0", "1"], "Thread settings for the mlp figure, each timed in a "
    "fresh process: auto = what experiments.train chooses (batch shards side by side, "
    "tfcnn/fast/threads.py), 0 = TensorFlow's choice and no shards, N = N inter-op and N intra-op "
    "threads and no shards.")
_UNIT_SIZE = flags.DEFINE_integer("unit_size", 0,
                                  "tfcnn's gradient unit (0: automatic, as experiments.train).",
                                  lower_bound=0)
_ONE_CORE = flags.DEFINE_boolean(
    "one_core", True, "Also time tfcnn on one core alone (one batch shard, one inter-op and "
    "one intra-op thread, in a process of its own): how well the cores scale, and cores x that "
    "rate, the most the cores give if none trains faster than one alone.")
_LAYER_TIMES = flags.DEFINE_integer(
    "layer_times", 0, "Also time each layer of the model alone, forward and backward, on one "
    "core, at this batch size (the gradient unit a large batch is split into is a natural "
    "choice), per precision (benchmarks/layer_times.py); 0: skip.", lower_bound=0)
_OUT = flags.DEFINE_string("out", "benchmark.json", "Where to write the JSON results.")
_SUMMARY_OVERHEAD = flags.DEFINE_boolean(
    "summary_overhead", True, "Measure what TensorBoard logging costs the train step (the "
    "default training configuration, logging as experiments.train does).")
_WHOLE_PROCESS = flags.DEFINE_integer(
    "whole_process", 3, "Rounds of whole-process timings (benchmarks/whole_process.py): the "
    "default job and the main Fashion-MNIST job with and without TensorBoard, and the main job "
    "against a plain Keras script; 0: skip.", lower_bound=0)
_ACCURACY_EPOCHS = flags.DEFINE_integer(
    "accuracy_epochs", 0, "Also train tfcnn and Keras this many epochs at each batch size "
    "and precision and compare test accuracy (0: skip).", lower_bound=0)
_ACCURACY_SEEDS = flags.DEFINE_list(
    "accuracy_seeds", ["0"], "Seeds of the --accuracy_epochs runs: each comparison is repeated "
    "once per seed and the means are compared (a single run differs from the next by a few "
    "tenths of a point).")
flags.register_validator("accuracy_seeds", lambda seeds: all(s.isdigit() for s in seeds),
                         "--accuracy_seeds must be non-negative integers")
flags.register_validator("mlp_threads",
                         lambda values: all(v == "auto" or v.isdigit() for v in values),
                         "--mlp_threads must be 'auto' or non-negative integers")
flags.register_validator("dtypes", lambda dtypes: bool(dtypes) and all(
    d in ("float32", "bfloat16") for d in dtypes), "--dtypes must be float32 and/or bfloat16")
flags.register_validator("batch_sizes", lambda sizes: all(s.isdigit() and int(s) > 0
                                                          for s in sizes),
                         "--batch_sizes must be positive integers")

# tfcnn on one core alone: one shard, one thread per pool.
ONE_CORE_PLAN = threads.Plan(threads.Threads(inter_op=1, intra_op=1), batch_shards=1)

_INTER_OP_THREADS, _INTRA_OP_THREADS, _BATCH_SHARDS = common.define_thread_flags()
flags.adopt_module_key_flags(common)   # so that --help lists the speed flags


class _TfcnnRunner:
  """Times tfcnn's training path (the one experiments.train uses)."""

  def __init__(self, model_spec, batch, dtype, images, labels, unit_size, batch_shards,
               jit_compile=False):
    self.config = training.TrainConfig(
        model=model_spec, batch_size=batch, compute_dtype=dtype, augment_shift=0,
        lr_schedule="constant", learning_rate=1e-3, unit_size=unit_size)
    self.run_config = training.RunConfig(batch_shards=batch_shards, jit_compile=jit_compile,
                                         steps_per_call=10**6)
    self.state = training.TrainState(self.config, (28, 28, 1),
                                     pipeline.num_batches(len(labels), batch))
    self.runner = fast.make_runner(self.state, self.run_config, images, labels)
    self.images, self.labels = self.runner.images, self.runner.labels

  def run(self, steps: int) -> None:
    self.runner.run(0, 0, steps)


_LOADED = {}   # a process's datasets by name, loaded once


def _load_images(dataset_name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
  """The first `n` training images and labels of `dataset_name` (loaded once
  per process)."""
  if dataset_name not in _LOADED:
    _LOADED[dataset_name] = sources.load(dataset_name)
  dataset = _LOADED[dataset_name]
  return dataset.train_images[:n], dataset.train_labels[:n]


class _TfcnnSide:
  """tfcnn's contenders, one batch size and precision at a time, in a process
  of its own (a :class:`worker_process.Worker`) with the thread pools of `plan`."""

  def __init__(self, plan: threads.Plan):
    threads.configure(plan.threads)
    self.plan = plan
    self.runners = {}

  def setup(self, model_spec: str, batch: int, dtype: str, dataset_name: str, n: int,
            unit_size: int, xla: bool) -> None:
    """Builds and warms up tfcnn (and with `xla`, tfcnn under XLA) at `batch`
    in `dtype` on the first `n` training images of `dataset_name`."""
    self.runners = {}
    images, labels = _load_images(dataset_name, n)
    self.steps = n // batch
    self.runners["tfcnn"] = _TfcnnRunner(model_spec, batch, dtype, images, labels,
                                         unit_size, self.plan.batch_shards)
    if xla:
      self.runners["xla"] = _TfcnnRunner(model_spec, batch, dtype, images, labels,
                                         unit_size, self.plan.batch_shards, jit_compile=True)
    for runner in self.runners.values():
      runner.run(min(self.steps, 2))  # trace + warm up

  def time(self, name: str) -> float:
    """Seconds for the set-up's training steps of runner `name`."""
    return _time(lambda: self.runners[name].run(self.steps))

  def layer_times(self, model_spec: str, batch: int, dtype: str) -> list[dict]:
    """Each layer of `model_spec` timed alone (see :mod:`benchmarks.layer_times`)."""
    return layer_times.layer_times(model_spec, (28, 28, 1), batch, dtype)

  def phases(self) -> dict:
    return _phases(self.runners["tfcnn"], max(2, min(self.steps, 20)))

  def info(self) -> dict:
    runner = self.runners["tfcnn"]
    return {"unit_size": runner.state.unit_size,
            "batch_shards": runner.run_config.batch_shards,
            "threads": dataclasses.asdict(threads.current()),
            "peak_rss_mb": benchmark_machine.peak_rss_mb()}


class _KerasSide:
  """The Keras reference, one batch size and precision at a time, for each
  ``jit_compile`` setting asked for, in a process of its own on TensorFlow's
  default threads (what a Keras user gets)."""

  def __init__(self):
    self.models = {}

  def setup(self, model_spec: str, batch: int, dtype: str, dataset_name: str, n: int,
            jits: list[str]) -> None:
    """Builds and warms up a Keras model per setting in `jits`."""
    self.models = {}
    images, labels = _load_images(dataset_name, n)
    self.x = pipeline.scale(images).numpy()
    self.y = labels.astype(np.int32)
    self.batch = batch
    self.timed = n // batch * batch
    for jit in jits:
      self.models[jit] = keras_twin.keras_model(model_spec, dtype, jit)
      self.models[jit].fit(self.x[:2 * batch], self.y[:2 * batch], batch_size=batch, epochs=1,
                           verbose=0)  # warm-up: build, trace, compile

  def time(self, jit: str) -> float:
    """Seconds for one epoch of ``fit`` over the set-up's images."""
    return _time(lambda: self.models[jit].fit(
        self.x[:self.timed], self.y[:self.timed], batch_size=self.batch, epochs=1, verbose=0,
        shuffle=False))

  def info(self) -> dict:
    return {"threads": dataclasses.asdict(threads.current()),
            "peak_rss_mb": benchmark_machine.peak_rss_mb()}


def _accuracy(dataset, batch: int, dtype: str, epochs: int, seeds: list[int],
              workdir: str, batch_shards: int) -> dict:
  """Test accuracy of tfcnn and (with --keras) of Keras after the same epochs,
  same optimiser, once per seed; with their means."""
  entry = {"batch_size": batch, "dtype": dtype, "epochs": epochs, "seeds": seeds,
           "tfcnn_test_accuracy": []}
  if _KERAS.value:   # the images tfcnn trains on, scaled once for every seed
    train_x, test_x = (pipeline.scale(a).numpy() for a in (dataset.train_images,
                                                           dataset.test_images))
  for seed in seeds:
    config = training.TrainConfig(
        model=_MODEL.value, dataset=dataset.name, batch_size=batch, compute_dtype=dtype,
        augment_shift=0, lr_schedule="constant", learning_rate=1e-3, epochs=epochs, seed=seed,
        unit_size=_UNIT_SIZE.value)
    run = training.RunConfig(batch_shards=batch_shards, log_every_steps=10**6)
    ours = training.train(config, os.path.join(workdir, f"tfcnn-{batch}-{dtype}-{seed}"),
                          dataset=dataset, run=run)
    entry["tfcnn_test_accuracy"].append(ours["test_accuracy"])
    if _KERAS.value:
      import keras
      keras.utils.set_random_seed(seed)
      model = keras_twin.keras_model(_MODEL.value, dtype, "false")
      model.fit(train_x, dataset.train_labels.astype(np.int32), batch_size=batch,
                epochs=epochs, verbose=0, shuffle=True)
      _, keras_accuracy = model.evaluate(test_x, dataset.test_labels.astype(np.int32),
                                         verbose=0)
      entry.setdefault("keras_test_accuracy", []).append(keras_accuracy)
  for who in ("tfcnn", "keras"):
    if f"{who}_test_accuracy" in entry:
      entry[f"{who}_mean"] = statistics.mean(entry[f"{who}_test_accuracy"])
  return entry


def _summary_overhead(images: np.ndarray, labels: np.ndarray, repeats: int,
                      batch_shards: int) -> dict:
  """Train-step throughput with and without TensorBoard logging, alternated.

  The logging run writes what experiments.train writes by default: step
  scalars every 100 steps and gradient histograms once per epoch from inside
  the step, and at each epoch end the feature maps, filters and histograms
  (timed separately: they run between epochs, not in the step).
  """
  from tfcnn import summaries
  # The defaults of experiments.train, with the shards it would choose.
  config = training.TrainConfig(model=_MODEL.value)
  run = training.RunConfig(batch_shards=batch_shards, steps_per_call=10**6)
  n = min(len(labels), 8000, max(_IMAGES.value, 64))
  steps = pipeline.num_batches(n, config.batch_size)
  plain = training.TrainState(config, (28, 28, 1), steps)
  logged = training.TrainState(config, (28, 28, 1), steps)
  probe_x, probe_y = summaries.probes.one_per_class(images[:n], labels[:n])
  plain_t, logged_t, epoch_end_t = [], [], []
  with tempfile.TemporaryDirectory(prefix="tfcnn-tb-", ignore_cleanup_errors=True) as logdir:
    logger = summaries.TensorBoardLogger(logdir, probe_x, probe_y)
    logger.on_train_begin(logged)
    plain_runner = fast.make_runner(plain, run, images[:n], labels[:n])
    logged_runner = fast.make_runner(logged, run, images[:n], labels[:n], logger.step_summaries)
    for runner in (plain_runner, logged_runner):
      runner.run(0, 0, steps)   # warm up
    for _ in range(repeats):
      plain_t.append(_time(lambda: plain_runner.run(0, 0, steps)))
      logged_t.append(_time(lambda: logged_runner.run(0, 0, steps)))
      epoch_end_t.append(_time(lambda: logger.log_images(logged.step_count())))
  step_cost = statistics.median(logged_t) / statistics.median(plain_t) - 1
  return {"batch_size": config.batch_size, "steps_per_epoch": steps,
          "train_step_overhead": step_cost,
          "epoch_seconds_without_logging": statistics.median(plain_t),
          "epoch_end_logging_seconds": statistics.median(epoch_end_t)}


def _time(fn) -> float:
  start = time.perf_counter()
  fn()
  return time.perf_counter() - start


def _phases(runner: _TfcnnRunner, steps: int) -> dict:
  """Seconds per batch of forward, backward and update, from three compiled
  loops: the forward pass of the whole batch; forward and backward unit by
  unit, one shard (the plain step's way); the whole step as the run takes it."""
  state, batch = runner.state, runner.config.batch_size
  x = runner.images[:batch]
  y = runner.labels[:batch]
  size = state.unit_size

  def forward_body():
    logits = state.model(tf.cast(x, state.compute_dtype), training=True)
    return tf.reduce_sum(tf.cast(logits, tf.float32))

  def forward_backward_body():
    total = tf.constant(0.0)
    for i in range(-(-batch // size)):
      totals = step.unit_gradients(state.model, x[i * size:(i + 1) * size],
                                   y[i * size:(i + 1) * size], 1.0 / batch, state.compute_dtype)
      total += tf.add_n([tf.reduce_sum(g) for g in totals.gradients])
    return total

  def step_body():
    return runner.runner.step_fn(x, y)[0]

  forward, forward_backward, full = (layer_times.serial_loop(body, steps) for body in (
      forward_body, forward_backward_body, step_body))
  loops = {"forward": forward, "forward_backward": forward_backward, "step": full}
  for fn in loops.values():
    float(fn())  # trace and warm up
  times = {name: [] for name in loops}
  for _ in range(3):   # alternated, the fastest of each: the least disturbed
    for name, fn in loops.items():
      times[name].append(_time(lambda: float(fn())))
  result = {name: min(t) / steps for name, t in times.items()}
  return {"forward_s": result["forward"],
          "backward_s": max(result["forward_backward"] - result["forward"], 0.0),
          "update_s": max(result["step"] - result["forward_backward"], 0.0),
          "step_s": result["step"]}


class _Workers:
  """The run's worker processes (see :mod:`benchmarks.worker_process`):
  tfcnn's, one per thread plan (TensorFlow fixes the pools per process;
  usually one plan serves every batch size, and one more times tfcnn on one
  core alone), and Keras's. Each starts when first asked for and serves every
  later request for its role; :meth:`close` ends them all."""

  def __init__(self):
    self._started = {}

  def tfcnn(self, plan: threads.Plan) -> worker_process.Worker:
    return self._get(("tfcnn", plan), _TfcnnSide, plan)

  def keras(self) -> worker_process.Worker:
    return self._get(("keras",), _KerasSide)

  def _get(self, role, make, *args) -> worker_process.Worker:
    if role not in self._started:
      self._started[role] = worker_process.Worker(make, *args)
    return self._started[role]

  def close(self) -> None:
    for worker in self._started.values():
      worker.close()
    self._started = {}


def _speed_results(dataset, batch_sizes: list[int], plan, machine: dict,
                   flops_per_image: float, workers: _Workers) -> list[dict]:
  """Times the contenders at each precision and batch size, alternating
  them; prints a row and returns an entry per pair.

  `plan(batch)` gives tfcnn's threads and shards at `batch`. Each contender
  trains in a worker process of its own (`workers`): tfcnn on that plan,
  tfcnn on one core alone (with --one_core), Keras.
  """
  results = []
  for dtype in _DTYPES.value:
    for batch in batch_sizes:
      steps = max(3, -(-_IMAGES.value // batch))
      n = min(steps * batch, len(dataset.train_labels))
      steps = n // batch
      timed_images = steps * batch
      logging.info("batch %d, %s: %d steps per measurement", batch, dtype, steps)
      batch_plan = plan(batch)
      ours = workers.tfcnn(batch_plan)
      ours.setup(_MODEL.value, batch, dtype, dataset.name, n, _UNIT_SIZE.value,
                 _TFCNN_XLA.value)
      # (name in the report, process, runner in that process)
      contenders = [("tfcnn", ours, "tfcnn")]
      if _TFCNN_XLA.value:
        contenders.append(("xla", ours, "xla"))
      if _ONE_CORE.value and batch_plan != ONE_CORE_PLAN:
        alone = workers.tfcnn(ONE_CORE_PLAN)
        alone.setup(_MODEL.value, batch, dtype, dataset.name, n, _UNIT_SIZE.value, False)
        contenders.append(("one_core", alone, "tfcnn"))
      keras = workers.keras() if _KERAS.value else None
      if keras is not None:
        keras.setup(_MODEL.value, batch, dtype, dataset.name, n, _KERAS_JIT.value)
        contenders += [(jit, keras, jit) for jit in _KERAS_JIT.value]
      times = {name: [] for name, _, _ in contenders}
      for _ in range(_REPEATS.value):   # alternate the contenders
        for name, process, runner in contenders:
          times[name].append(process.time(runner))
      info = ours.info()
      rate = timed_images / statistics.median(times["tfcnn"])
      entry = {"batch_size": batch, "dtype": dtype, "images_timed": timed_images,
               "unit_size": info["unit_size"],
               "batch_shards": info["batch_shards"], "threads": info["threads"],
               "tfcnn_images_per_second": rate,
               "tfcnn_gflops": rate * flops_per_image / 1e9,
               "tfcnn_fraction_of_peak": _fraction(rate * flops_per_image / 1e9,
                                                   machine["peak_gflops"][dtype]),
               "tfcnn_seconds": times["tfcnn"], "peak_rss_mb": info["peak_rss_mb"]}
      if _TFCNN_XLA.value:
        xla_rate = timed_images / statistics.median(times["xla"])
        entry["tfcnn_xla"] = {"images_per_second": xla_rate, "seconds": times["xla"],
                              "speed_relative_to_default": xla_rate / rate}
      if _ONE_CORE.value:
        alone_seconds = times.get("one_core", times["tfcnn"])
        alone_rate = timed_images / statistics.median(alone_seconds)
        entry["tfcnn_one_core"] = {"images_per_second": alone_rate, "seconds": alone_seconds,
                                   "threads": dataclasses.asdict(ONE_CORE_PLAN.threads),
                                   "batch_shards": ONE_CORE_PLAN.batch_shards,
                                   "scaling": rate / alone_rate,
                                   "cores_times_one_core": machine["cores"] * alone_rate}
      entry["keras"] = {}
      if keras is not None:
        keras_info = keras.info()
        entry["keras_threads"] = keras_info["threads"]
        entry["keras_peak_rss_mb"] = keras_info["peak_rss_mb"]
      for jit in _KERAS_JIT.value if keras is not None else []:
        keras_rate = timed_images / statistics.median(times[jit])
        entry["keras"][f"jit_compile={jit}"] = {"images_per_second": keras_rate,
                                                "seconds": times[jit], "ratio": rate / keras_rate}
      if _PHASES.value:
        entry["phases"] = ours.phases()
      results.append(entry)
      print(_row(entry), flush=True)
  return results


@common.user_errors
def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  batch_sizes = [int(b) for b in _BATCH_SIZES.value]
  out_dir = os.path.dirname(os.path.abspath(_OUT.value))
  if not os.path.isdir(out_dir) or not os.access(out_dir, os.W_OK) or os.path.isdir(_OUT.value):
    raise ConfigError(f"--out={_OUT.value}: cannot write there (checked before measuring)")

  def plan(batch: int) -> threads.Plan:
    """What experiments.train would choose at `batch` (or the flags say)."""
    return threads.plan(training.TrainConfig(model=_MODEL.value, batch_size=batch,
                                             unit_size=_UNIT_SIZE.value),
                        shards=_BATCH_SHARDS.value, inter_op=_INTER_OP_THREADS.value,
                        intra_op=_INTRA_OP_THREADS.value)

  # This process trains for the summary overhead and the accuracy comparison:
  # with the threads experiments.train would choose at its default batch size.
  own_plan = common.configure_threads(_INTER_OP_THREADS, _INTRA_OP_THREADS, _BATCH_SHARDS,
                                      training.TrainConfig(model=_MODEL.value))
  dataset = sources.load(_DATASET.value, fallback_to_sample=True) \
      if _DATASET.value != "fashion_mnist" else _load_fashion_or_sample()
  images, labels = dataset.train_images, dataset.train_labels
  flops_per_image = geometry.train_flops(spec.parse(_MODEL.value), (28, 28, 1))
  cores = threads.cpu_cores()
  report = {"machine": benchmark_machine.describe(cores, tf.__version__),
            "dataset": dataset.name, "model": spec.canonical(_MODEL.value),
            "train_flops_per_image": flops_per_image}
  workers = _Workers()
  try:
    report["results"] = _speed_results(dataset, batch_sizes, plan, report["machine"],
                                       flops_per_image, workers)
    if _LAYER_TIMES.value:
      report["layer_times"] = _layer_times(report["machine"], workers.tfcnn(ONE_CORE_PLAN))
  finally:
    workers.close()   # before the stages below, which train in this process or fresh ones
  if "float32" in _DTYPES.value and "bfloat16" in _DTYPES.value:
    f32 = {r["batch_size"]: r["tfcnn_images_per_second"] for r in report["results"]
           if r["dtype"] == "float32"}
    report["bfloat16_speedup"] = {str(r["batch_size"]): r["tfcnn_images_per_second"] /
                                  f32[r["batch_size"]] for r in report["results"]
                                  if r["dtype"] == "bfloat16" and r["batch_size"] in f32}
  if _SUMMARY_OVERHEAD.value:
    report["summary_overhead"] = _summary_overhead(images, labels, max(3, _REPEATS.value),
                                                   own_plan.batch_shards)
    o = report["summary_overhead"]
    print(f"TensorBoard logging: train step {o['train_step_overhead']:+.1%}; epoch-end images "
          f"{o['epoch_end_logging_seconds']:.2f} s per {o['epoch_seconds_without_logging']:.2f} s "
          "epoch", flush=True)
  if _ACCURACY_EPOCHS.value:
    seeds = [int(s) for s in _ACCURACY_SEEDS.value]
    report["accuracy"] = []
    with tempfile.TemporaryDirectory(prefix="tfcnn-benchmark-") as workdir:
      for dtype in _DTYPES.value:
        for batch in batch_sizes:
          entry = _accuracy(dataset, batch, dtype, _ACCURACY_EPOCHS.value, seeds, workdir,
                            plan(batch).batch_shards)
          report["accuracy"].append(entry)
          print(f"accuracy after {entry['epochs']} epochs, batch {batch}, {dtype}, mean of "
                f"{len(seeds)} seed(s): " + ", ".join(
                    f"{who} {entry[who + '_mean']:.4f} ("
                    + " ".join(f"{a:.4f}" for a in entry[who + "_test_accuracy"]) + ")"
                    for who in ("tfcnn", "keras") if who + "_mean" in entry), flush=True)
    means = {(e["batch_size"], e["dtype"]): e["tfcnn_mean"] for e in report["accuracy"]}
    report["accuracy_bfloat16_minus_float32"] = {
        str(b): means[(b, "bfloat16")] - means[(b, "float32")]
        for b, d in means if d == "float32" and (b, "bfloat16") in means}
  if _MLP.value:
    report["mlp_35_epochs"] = mlp_figure.figures(dataset.name, len(labels), _DTYPES.value,
                                                 _MLP_THREADS.value, _REPEATS.value,
                                                 _MLP_NUMPY.value)
    for figure in report["mlp_35_epochs"]:
      relative = (f", {figure['speed_relative_to_numpy']:.2f}x numpy's speed"
                  if "speed_relative_to_numpy" in figure else "")
      print(f"mlp, 35 epochs x {len(labels)} images at batch 500, {figure['implementation']} "
            f"{figure['dtype']}, threads {figure['threads']}: {figure['seconds']:.2f} s{relative} "
            f"(median of {len(figure['seconds_all'])}; seed series' numpy MLP on its machine: "
            f"{figure['seed_series_seconds']} s)", flush=True)
  if _WHOLE_PROCESS.value:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    whole = whole_process.measure(_WHOLE_PROCESS.value, dataset.name, root,
                                  log=lambda line: print(line, flush=True))
    report["whole_process"] = whole
    print(f"whole process, medians of {whole['rounds']}: " + ", ".join(
        f"{name} {s:.1f} s" for name, s in whole["median_seconds"].items()), flush=True)
  report["goals"] = benchmark_goals.goals(report)
  for goal in report["goals"]:
    needs = ""
    if "needs_images_per_second" in goal:
      needs = f" (needs {goal['needs_images_per_second']:.0f} images/s"
      if "cores_times_one_core" in goal:
        needs += f"; {cores} cores x one core alone: {goal['cores_times_one_core']:.0f}"
      needs += ")"
    print(f"goal {goal['goal']}: {goal['measured']:.2f} -> "
          f"{'met' if goal['met'] else 'NOT met'}{needs}", flush=True)
  with open(_OUT.value, "w") as f:
    json.dump(report, f, indent=2)
  print(f"wrote {_OUT.value}")


def _layer_times(machine: dict, alone: worker_process.Worker) -> list[dict]:
  """--layer_times: each layer timed alone on one core (in `alone`, a tfcnn
  worker on :data:`ONE_CORE_PLAN`); prints a table per precision and returns
  an entry per precision."""
  found = []
  for dtype in _DTYPES.value:
    core_peak = machine["peak_gflops"][dtype] and machine["peak_gflops"][dtype] / machine["cores"]
    rows = alone.layer_times(_MODEL.value, _LAYER_TIMES.value, dtype)
    for row in rows:
      row["fraction_of_core_peak"] = (_fraction(row["gflops"], core_peak)
                                      if row["train_flops"] else None)
    found.append({"dtype": dtype, "batch_size": _LAYER_TIMES.value,
                  "threads": dataclasses.asdict(ONE_CORE_PLAN.threads),
                  "core_peak_gflops": core_peak, "layers": rows})
    total = sum(r["forward_backward_s"] for r in rows)
    print(f"layers timed alone on one core, batch {_LAYER_TIMES.value}, {dtype} "
          f"(forward / forward+backward, share of the layers' total, GFLOP/s of the products):",
          flush=True)
    for r in rows:
      speed = ("" if not r["train_flops"] else f"  {r['gflops']:6.1f} GFLOP/s" + (
          "" if r["fraction_of_core_peak"] is None
          else f" ({r['fraction_of_core_peak']:.0%} of one core's peak)"))
      print(f"  {r['layer']:24s} {r['forward_s'] * 1e3:8.3f} / "
            f"{r['forward_backward_s'] * 1e3:8.3f} ms  {r['forward_backward_s'] / total:5.1%}"
            f"{speed}", flush=True)
  return found


def _fraction(gflops: float, peak: float | None) -> float | None:
  """`gflops` as a fraction of `peak`; None where the peak is unknown."""
  return gflops / peak if peak else None


def _row(e: dict) -> str:
  fraction = ("?" if e["tfcnn_fraction_of_peak"] is None
              else f"{e['tfcnn_fraction_of_peak']:.1%}")
  others = [f"keras[{k}] {v['images_per_second']:6.0f}/s ratio {v['ratio']:.2f}"
            for k, v in e.get("keras", {}).items()]
  if "tfcnn_one_core" in e:
    alone = e["tfcnn_one_core"]
    others.insert(0, f"one core {alone['images_per_second']:6.0f}/s "
                     f"(scaling {alone['scaling']:.2f}x)")
  if "tfcnn_xla" in e:
    others.insert(0, f"tfcnn[XLA] {e['tfcnn_xla']['images_per_second']:6.0f}/s "
                     f"({e['tfcnn_xla']['speed_relative_to_default']:.2f}x)")
  phases = ""
  if "phases" in e:
    p = e["phases"]
    phases = (f"  fwd {p['forward_s'] * 1e3:.1f} ms bwd {p['backward_s'] * 1e3:.1f} ms "
              f"upd {p['update_s'] * 1e3:.1f} ms")
  return (f"batch {e['batch_size']:6d} {e['dtype']:9s} tfcnn {e['tfcnn_images_per_second']:8.0f}/s "
          f"{e['tfcnn_gflops']:6.1f} GFLOP/s ({fraction} of peak)  "
          f"{'  '.join(others)}{phases}  rss {e['peak_rss_mb']:.0f} MB")


def _load_fashion_or_sample():
  try:
    return sources.load("fashion_mnist")
  except sources.DatasetUnavailable as e:
    logging.warning("fashion_mnist unavailable (%s); benchmarking on mnist_sample", e)
    return sources.load("mnist_sample")


if __name__ == "__main__":
  app.run(main, flags_parser=common.parse_flags)
