"""The seed series' MLP figure: the `mlp` preset, 35 epochs at batch 500.

The seed series trained its numpy MLP 35 epochs over 60,000 images at batch
500 in 7.3 s on its author's machine. :func:`figures` times tfcnn doing that
work, per precision and thread setting, and a plain-numpy MLP doing the same
(:mod:`benchmarks.numpy_mlp`: the seed's kind of code, timed on this
machine), each measurement in a fresh process.
"""

import multiprocessing
import statistics
import time

import numpy as np

from benchmarks import benchmark_goals, numpy_mlp
from tfcnn import fast, training
from tfcnn.fast import threads
from tfcnn.data import pipeline, sources

# The mlp figure's Adam learning rate (tfcnn's default), for tfcnn and numpy alike.
LEARNING_RATE = 2e-3


def thread_plan(setting: str) -> threads.Plan:
  """The threads and batch shards of an --mlp_threads setting (see the flag)."""
  if setting == "auto":
    return threads.plan(training.TrainConfig(model="mlp", batch_size=500))
  return threads.Plan(threads.Threads(inter_op=int(setting), intra_op=int(setting)), 1)


def time_tfcnn(dataset_name: str, dtype: str, setting: str) -> tuple[float, float]:
  """``(seconds, train accuracy in the last epoch)`` of the mlp preset
  trained 35 epochs over the training set at batch 500 (training only), with
  the threads and shards of --mlp_threads `setting`. Runs in a fresh process
  (see :func:`figures`)."""
  plan = thread_plan(setting)
  threads.configure(plan.threads)
  dataset = sources.load(dataset_name)
  images, labels = dataset.train_images, dataset.train_labels
  config = training.TrainConfig(model="mlp", batch_size=500, augment_shift=0,
                                lr_schedule="constant", learning_rate=LEARNING_RATE,
                                epochs=35, compute_dtype=dtype)
  run = training.RunConfig(batch_shards=plan.batch_shards, steps_per_call=10**6)
  steps = pipeline.num_batches(len(labels), 500)
  state = training.TrainState(config, (28, 28, 1), steps)
  runner = fast.make_runner(state, run, images, labels)
  runner.run(0, 0, 2)  # trace
  start = time.perf_counter()
  for epoch in range(35):
    state.train_accuracy.reset()   # so that the result is the last epoch's
    runner.run(epoch, 0, steps)
  return time.perf_counter() - start, float(state.train_accuracy.result())


def time_numpy(dataset_name: str) -> tuple[float, float]:
  """``(seconds, train accuracy in the last epoch)`` of the plain-numpy MLP
  (:mod:`benchmarks.numpy_mlp`) doing :func:`time_tfcnn`'s work: 35 epochs
  at batch 500 over the same images in the same orders, float32, Adam,
  images scaled once beforehand (by tfcnn's own :func:`pipeline.scale`, so
  the pixels are the same). numpy's own (OpenBLAS) threads."""
  dataset = sources.load(dataset_name)
  labels = dataset.train_labels.astype(np.int64)
  images = pipeline.scale(dataset.train_images).numpy().reshape(len(labels), -1)
  orders = [pipeline.epoch_order(len(labels), 0, e) for e in range(35)]
  numpy_mlp.NumpyMLP().train_epoch(images[:1000], labels[:1000], np.arange(1000), 500)  # warm-up
  mlp = numpy_mlp.NumpyMLP(seed=0, learning_rate=LEARNING_RATE)
  start = time.perf_counter()
  for order in orders:
    _, accuracy = mlp.train_epoch(images, labels, order, 500)
  return time.perf_counter() - start, accuracy


def figures(dataset_name: str, num_images: int, dtypes: list[str], settings: list[str],
            repeats: int, numpy_reference: bool) -> list[dict]:
  """The mlp figure per precision and thread setting, median of `repeats`,
  and (with `numpy_reference`) the plain-numpy MLP's figure.

  Each measurement runs in a fresh process, because TensorFlow sizes its
  thread pools once per process; the contenders are alternated. tfcnn's
  entries carry ``numpy_seconds / seconds``: how many times faster than the
  numpy MLP on this machine, in this run.
  """
  # (implementation, precision, threads as reported) -> (function, arguments)
  jobs = {("tfcnn", d, t if t == "auto" else int(t) or "tensorflow"):
          (time_tfcnn, (dataset_name, d, t)) for d in dtypes for t in settings}
  if numpy_reference:
    jobs[("numpy", "float32", "openblas")] = (time_numpy, (dataset_name,))
  runs = {key: [] for key in jobs}
  context = multiprocessing.get_context("spawn")
  for _ in range(repeats):
    for key, results in runs.items():
      with context.Pool(1) as pool:
        results.append(pool.apply(*jobs[key]))
  found = [{"implementation": implementation, "epochs": 35, "images": num_images,
            "batch_size": 500, "dtype": d, "threads": t,
            "seconds": statistics.median(s for s, _ in results),
            "seconds_all": [s for s, _ in results],
            "train_accuracy_last_epoch": [a for _, a in results],
            "seed_series_seconds": benchmark_goals.MLP_SECONDS_GOAL}
           for (implementation, d, t), results in runs.items()]
  for figure in found:
    if figure["implementation"] == "tfcnn":
      auto = figure["threads"] == "auto"
      figure["batch_shards"] = thread_plan("auto").batch_shards if auto else 1
  if numpy_reference:
    numpy_seconds = found[-1]["seconds"]
    for figure in found[:-1]:
      figure["speed_relative_to_numpy"] = numpy_seconds / figure["seconds"]
  return found
