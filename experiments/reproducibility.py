r"""Do independent training runs learn the same filters, in the same order — and why not?

A designed study (see :mod:`tfcnn.analysis.study`): for each source of
randomness in --vary (init, data, both, none) and each width in --widths,
trains --runs runs that differ only in that source, compares every pair of
runs layer by layer, compares each run with --null_nets untrained networks
(the null), and follows the statistics through the epochs. Writes into
--workdir:

  runs/<run>/          each run's own workdir, with snapshots/ (weights per epoch)
  report.md            aggregate tables with intervals, nulls and tests; per-pair appendix
  report.json          every number
  figures/summary.png  "same filters? same order?" at a glance; per-cell figures beside it
  tb/                  the study in TensorBoard: an HParams session per condition and width
                       (per-layer matched similarity, same order, CKA as metrics), the figures

  python -m experiments.reproducibility            # the default study, mnist_sample

Finished runs are not retrained, so an interrupted study resumes where it stopped.
"""

import itertools
import pathlib
import sys

import numpy as np
from absl import app, flags, logging

from experiments import common
from tfcnn import analysis, spec, summaries, training
from tfcnn.analysis import report as report_lib, snapshots, statistics, study, study_tensorboard
from tfcnn.analysis import seeds as seeds_lib
from tfcnn.data import pipeline, sources
from tfcnn.errors import ConfigError
from tfcnn.training import results as results_lib

_VARY = flags.DEFINE_list("vary", ["init", "data", "both", "none"],
                          f"Sources of randomness to vary, one condition each: "
                          f"{', '.join(study.CONDITIONS)}.")
_RUNS = flags.DEFINE_integer("runs", 5, "Runs per condition (seeds 1..N).", lower_bound=2)
_SEEDS = flags.DEFINE_list("seeds", None, "Explicit seeds (overrides --runs); the first is "
                           "the one held fixed.")
_WIDTHS = flags.DEFINE_list("widths", ["1"], "Width factors for the model's filters and "
                            "hidden units, e.g. 0.5,1,2.")
_NULL_NETS = flags.DEFINE_integer("null_nets", 4, "Untrained networks for the null.",
                                  lower_bound=1)
_EPOCHS = flags.DEFINE_integer("epochs", 3, "Epochs per run.", lower_bound=1)
_DATASET = common.define_dataset_flag()
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Folder with the IDX files.")
_MODEL = flags.DEFINE_string("model", "seed_cnn", "Preset or architecture spec.")
_WORKDIR = flags.DEFINE_string("workdir", None,
                               "Study folder (default runs/repro-<dataset>-<model>).")
_PROBE_SIZE = flags.DEFINE_integer("probe_size", 500, "Test images used as the probe set.",
                                   lower_bound=10)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 32, "Batch size.", lower_bound=1)
_TRAIN_LIMIT = flags.DEFINE_integer("train_limit", 0, "Use only the first N train images.",
                                    lower_bound=0)
_TEST_LIMIT = flags.DEFINE_integer("test_limit", 0, "Use only the first N test images.",
                                   lower_bound=0)
_TENSORBOARD = flags.DEFINE_boolean("tensorboard", True, "TensorBoard logs per run.")

NULL_SEED_OFFSET = 100_000
_INTER_OP_THREADS, _INTRA_OP_THREADS, _BATCH_SHARDS = common.define_thread_flags()
flags.adopt_module_key_flags(common)   # so that --help lists the speed flags
FLAG_NAMES = common.flag_names(globals())   # all of the above, recorded with the study


common.register_spec_validator("model")


def _seeds() -> list[int]:
  if not _SEEDS.value:
    return list(range(1, _RUNS.value + 1))
  try:
    seeds = [int(s) for s in _SEEDS.value]
  except ValueError:
    raise ConfigError(f"--seeds must be integers, got {','.join(_SEEDS.value)}") from None
  if len(set(seeds)) < 2 or len(set(seeds)) != len(seeds) or min(seeds) < 0:
    raise ConfigError("--seeds needs at least two distinct non-negative seeds")
  if max(seeds) >= 2**31:   # checked before any run trains
    raise ConfigError(f"--seeds must be below 2**31, got {max(seeds)}")
  return seeds


def _design() -> list[study.Cell]:
  try:
    widths = [float(w) for w in _WIDTHS.value]
  except ValueError:
    raise ConfigError(f"--widths must be numbers, got {','.join(_WIDTHS.value)}") from None
  try:
    return study.design(_VARY.value, _seeds(), widths)
  except ValueError as e:
    raise ConfigError(f"--vary/--seeds/--widths: {e}") from None


def _config(run: study.Run) -> training.TrainConfig:
  return training.TrainConfig(
      model=spec.widen(_MODEL.value, run.width), dataset=_DATASET.value, epochs=_EPOCHS.value,
      batch_size=_BATCH_SIZE.value, seed=run.init_seed, init_seed=run.init_seed,
      data_seed=run.data_seed, deterministic=True, train_limit=_TRAIN_LIMIT.value,
      test_limit=_TEST_LIMIT.value).validate()


def _train(workdir: pathlib.Path, dataset, runs: list[study.Run], batch_shards: int) -> dict:
  results = {}
  for number, run in enumerate(runs, 1):
    run_dir, config = workdir / "runs" / run.name, _config(run)
    recorded = results_lib.read_json(run_dir / "config.json") \
        if (run_dir / "config.json").exists() else {}
    if (run_dir / "results.json").exists() and \
        {k: recorded.get(k) for k in config.to_dict()} == config.to_dict() and \
        snapshots.path(run_dir / "snapshots", _EPOCHS.value).exists():
      logging.info("run %d/%d (%s): finished earlier, not retrained", number, len(runs),
                   run.name)
      results[run] = results_lib.read_json(run_dir / "results.json")
      continue
    logging.info("run %d/%d (%s): training %d epochs", number, len(runs), run.name,
                 _EPOCHS.value)
    hooks = [snapshots.EpochSnapshots(run_dir / "snapshots")]
    if _TENSORBOARD.value:
      images, labels = summaries.probes.one_per_class(dataset.test_images, dataset.test_labels)
      hooks.append(summaries.TensorBoardLogger(
          run_dir, images, labels, hparams={**config.to_dict(), "run": run.name},
          summary_every_steps=100, images_every_epochs=max(1, _EPOCHS.value), histograms=False,
          class_names=dataset.class_names))
    results[run] = training.train(
        config, run_dir, dataset=dataset, hooks=hooks,
        run=training.RunConfig(batch_shards=batch_shards, data_dir=_DATA_DIR.value).validate())
  return results


def _predictions(net, images: np.ndarray) -> np.ndarray:
  return np.concatenate([np.argmax(net(images[i:i + 1000]).numpy(), axis=1)
                         for i in range(0, len(images), 1000)])


class _Comparisons:
  """Profiles and comparisons, each computed once and shared by the cells that need it."""

  def __init__(self, workdir: pathlib.Path, probes: np.ndarray):
    self.workdir, self.probes = workdir, probes
    self.input_shape = tuple(probes.shape[1:])
    self.nets, self.profiles, self.cache = {}, {}, {}

  def net(self, key):
    if key not in self.nets:
      if isinstance(key, study.Run):
        self.nets[key] = training.load_model(self.workdir / "runs" / key.name)
      else:   # ("untrained", width, j)
        self.nets[key] = spec.build(spec.widen(_MODEL.value, key[1]),
                                    seed=NULL_SEED_OFFSET + key[2], input_shape=self.input_shape)
    return self.nets[key]

  def profile(self, key) -> analysis.Profile:
    if key not in self.profiles:
      self.profiles[key] = analysis.profile(self.net(key), self.probes)
    return self.profiles[key]

  def compare(self, a, b) -> dict:
    if (a, b) not in self.cache:
      self.cache[(a, b)] = analysis.compare_profiles(self.profile(a), self.profile(b))
    return self.cache[(a, b)]


def _dynamics(workdir: pathlib.Path, cell: study.Cell, probes: np.ndarray) -> dict:
  runs = []
  for run in cell.runs:
    model = spec.widen(_MODEL.value, run.width)
    runs.append([analysis.profile(snapshots.load(
        snapshots.path(workdir / "runs" / run.name / "snapshots", e), model,
        input_shape=tuple(probes.shape[1:])), probes,
        with_representations=False) for e in range(_EPOCHS.value + 1)])
  return study.dynamics(runs)


def _analyse_cell(cell: study.Cell, comparisons: _Comparisons, results: dict,
                  predictions: dict, workdir: pathlib.Path, figures_dir: pathlib.Path) -> dict:
  runs = list(cell.runs)
  pairs = {(a, b): comparisons.compare(runs[a], runs[b])
           for a, b in itertools.combinations(range(len(runs)), 2)}
  shas = [results[r]["weights_sha256"] for r in runs]
  accuracies = [results[r]["test_accuracy"] for r in runs]
  disagreement = {(a, b): seeds_lib.disagreement(predictions[runs[a]], predictions[runs[b]])
                  for a, b in pairs}
  entry = {"width": cell.width, "condition": cell.condition,
           "meaning": study.CONDITIONS[cell.condition],
           "model": spec.widen(_MODEL.value, cell.width),
           "runs": [{"name": r.name, "init_seed": r.init_seed, "data_seed": r.data_seed,
                     "weights_sha256": s, "test_accuracy": acc}
                    for r, s, acc in zip(runs, shas, accuracies)],
           "distinct_weights": len(set(shas)),
           "test_accuracy": {**seeds_lib.accuracy_spread(accuracies),
                             "interval": list(statistics.bootstrap_interval(accuracies))},
           "disagreement": {"mean": float(np.mean(list(disagreement.values()))),
                            "interval": list(statistics.pairwise_interval(disagreement))},
           "permutation_check": analysis.permutation_check(
               comparisons.net(runs[1]), pairs[(0, 1)], comparisons.probes),
           "pairs": {f"{runs[a].name} vs {runs[b].name}": c for (a, b), c in pairs.items()}}
  if cell.condition == "none":
    entry["summary"] = study.summarize(pairs, [])
    return entry
  nulls = [comparisons.compare(run, ("untrained", cell.width, j))
           for run in runs for j in range(_NULL_NETS.value)]
  entry["summary"] = study.summarize(pairs, nulls)
  logging.info("%s: training dynamics from the snapshots", cell.name)
  entry["dynamics"] = _dynamics(workdir, cell, comparisons.probes)
  report_lib.cell_figures(figures_dir, cell.name, comparisons.net(runs[0]),
                          comparisons.net(runs[1]), pairs[(0, 1)], comparisons.probes)
  return entry


@common.user_errors
def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  cells = _design()
  dataset = sources.load(_DATASET.value, data_dir=_DATA_DIR.value)   # runs no TensorFlow
  plan = common.configure_threads(_INTER_OP_THREADS, _INTRA_OP_THREADS, _BATCH_SHARDS,
                                  training.TrainConfig(model=_MODEL.value,
                                                       batch_size=_BATCH_SIZE.value,
                                                       deterministic=True))
  model_name = _MODEL.value if _MODEL.value in spec.PRESETS else "custom"
  workdir = common.prepare_workdir(_WORKDIR.value or f"runs/repro-{_DATASET.value}-{model_name}")
  common.write_flags(workdir, FLAG_NAMES)
  runs = list(dict.fromkeys(r for cell in cells for r in cell.runs))
  results = _train(workdir, dataset, runs, plan.batch_shards)

  test_x = dataset.test_images[:_TEST_LIMIT.value or None]
  probes = pipeline.scale(test_x[:_PROBE_SIZE.value]).numpy()
  test_images = pipeline.scale(test_x).numpy()
  comparisons = _Comparisons(workdir, probes)
  predictions = {r: _predictions(comparisons.net(r), test_images) for r in runs}
  figures_dir = workdir / "figures"
  figures_dir.mkdir(exist_ok=True)
  report = {"command": "python -m experiments.reproducibility " + " ".join(sys.argv[1:]),
            "model": spec.canonical(_MODEL.value), "dataset": _DATASET.value,
            "epochs": _EPOCHS.value, "batch_size": _BATCH_SIZE.value,
            "probe_size": len(probes), "null_nets": _NULL_NETS.value,
            "null_seeds": [NULL_SEED_OFFSET + j for j in range(_NULL_NETS.value)],
            "cells": {}}
  for cell in cells:
    logging.info("analysing %s (%d runs)", cell.name, len(cell.runs))
    report["cells"][cell.name] = _analyse_cell(cell, comparisons, results, predictions,
                                               workdir, figures_dir)
  first = comparisons.net(runs[0])
  report["within_run_cka"] = analysis.within_run_cka(first, probes)
  results_lib.write_json(workdir / "report.json", report)
  report_lib.summary_figure(report, figures_dir / "summary.png")
  study_tensorboard.write(report, workdir / "tb", figures_dir)
  (workdir / "report.md").write_text(report_lib.markdown(report))
  print(report_lib.headline(report))
  print(f"report: {workdir / 'report.md'}; figures: {figures_dir}; TensorBoard (the study, "
        f"and every run): tensorboard --logdir {workdir}")


if __name__ == "__main__":
  app.run(main, flags_parser=common.parse_flags)
