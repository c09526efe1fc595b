r"""Do independent training runs learn the same filters, in the same order?

Trains one run per seed (plus a repeat of the first seed, to check bitwise
determinism), compares every pair of runs layer by layer, and writes into
--workdir:

  runs/seed<k>/        each run's own workdir (tb/ included: HParams across runs)
  report.json          every number, per layer and pair
  report.md            the tables a person reads
  figures/             matched filters side by side; similarity and CKA heatmaps

  python -m experiments.reproducibility --runs=3 --epochs=3

Finished runs are not retrained, so an interrupted study resumes where it stopped.
"""

import itertools
import pathlib

import numpy as np
from absl import app, flags, logging

from experiments import common
from tfcnn import analysis, spec, summaries, training
from tfcnn.analysis import figures, seeds as seeds_lib
from tfcnn.data import pipeline, sources
from tfcnn.errors import ConfigError
from tfcnn.training import results as results_lib

_RUNS = flags.DEFINE_integer("runs", 3, "Number of independent runs (seeds 1..N).",
                             lower_bound=2)
_SEEDS = flags.DEFINE_list("seeds", None, "Explicit seeds (overrides --runs).")
_EPOCHS = flags.DEFINE_integer("epochs", 3, "Epochs per run.", lower_bound=1)
_DATASET = flags.DEFINE_enum("dataset", "mnist_sample", list(sources.DATASETS), "Dataset.")
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


def _train_runs(workdir: pathlib.Path, dataset, seeds: list[int],
                batch_shards: int) -> dict[str, dict]:
  names = [(f"seed{s}", s) for s in seeds] + [(f"seed{seeds[0]}_repeat", seeds[0])]
  results = {}
  for number, (name, seed) in enumerate(names, 1):
    run_dir = workdir / "runs" / name
    config = training.TrainConfig(
        model=_MODEL.value, dataset=_DATASET.value, epochs=_EPOCHS.value,
        batch_size=_BATCH_SIZE.value, seed=seed, deterministic=True,
        train_limit=_TRAIN_LIMIT.value, test_limit=_TEST_LIMIT.value).validate()
    run = training.RunConfig(batch_shards=batch_shards, data_dir=_DATA_DIR.value).validate()
    if (run_dir / "results.json").exists() and (run_dir / "config.json").exists() and \
        results_lib.read_json(run_dir / "config.json") == config.to_dict():
      logging.info("run %d/%d (%s): finished earlier, not retrained", number, len(names), name)
      results[name] = results_lib.read_json(run_dir / "results.json")
      continue
    logging.info("run %d/%d (%s): training %d epochs", number, len(names), name, _EPOCHS.value)
    hooks = []
    if _TENSORBOARD.value:
      images, labels = summaries.probes.one_per_class(dataset.test_images, dataset.test_labels)
      hooks.append(summaries.TensorBoardLogger(
          run_dir, images, labels, hparams={**config.to_dict(), "run": name},
          summary_every_steps=100, images_every_epochs=max(1, _EPOCHS.value), histograms=False))
    results[name] = training.train(config, run_dir, dataset=dataset, hooks=hooks, run=run)
  return results


def _predictions(net, images: np.ndarray) -> np.ndarray:
  return np.concatenate([np.argmax(net(images[i:i + 1000]).numpy(), axis=1)
                         for i in range(0, len(images), 1000)])


def _strip(report: dict) -> dict:
  """The JSON part of a comparison (without the aligned model and matrices)."""
  return {k: v for k, v in report.items()
          if k not in ("aligned_model", "activation_correlations")}


def _figures(folder: pathlib.Path, name: str, net_a, net_b, report: dict, probe: np.ndarray):
  acts_a, acts_b = analysis.outputs(net_a, probe), analysis.outputs(net_b, probe)
  for entry in report["layers"]:
    i = entry["index"]
    matched = entry["activations"]
    perm = np.asarray(matched["permutation"])
    kernel_a = net_a.layers[i].kernel.numpy()
    if kernel_a.shape[2] == 1:   # first layer on grey images: the kernels themselves
      tiles_a, tiles_b = kernel_a[:, :, 0, :], net_b.layers[i].kernel.numpy()[:, :, 0, :]
      what = "kernels"
    else:                        # deeper: what each filter makes of probe image 0
      tiles_a, tiles_b = acts_a[i][0], acts_b[i][0]
      what = "maps on probe 0"
    corr = report["activation_correlations"][i]
    sims = corr[np.arange(len(perm)), perm]
    figures.matched_filters(tiles_a, tiles_b, perm, sims,
                            folder / f"{name}_{entry['name']}_matched_filters.png",
                            f"{entry['name']} ({what}): {name}")
    figures.heatmap(corr[:, perm], folder / f"{name}_{entry['name']}_correlation.png",
                    f"{entry['name']}: activation correlation, B reordered by the matching",
                    "run B filter (matched order)", "run A filter", vmin=-1, vmax=1)
  if "cka" in report:
    layers = report["cka"]["layers"]
    figures.heatmap(np.array(report["cka"]["linear_matrix"]), folder / f"{name}_cka.png",
                    f"linear CKA across runs ({name})", "run B layer", "run A layer",
                    layers, layers)


def _table(rows: list[list], header: list[str]) -> str:
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
  return "\n".join(lines)


def _markdown(report: dict) -> str:
  d = report["determinism"]
  parts = [f"# Reproducibility study: {report['model']} on {report['dataset']}",
           f"{report['epochs']} epochs per run, seeds {report['seeds']}, probe set "
           f"{report['probe_size']} test images. Command: `{report['command']}`",
           "## Determinism",
           f"Same seed twice: weights {'IDENTICAL' if d['same_seed_identical'] else 'DIFFERENT'} "
           f"(`{d['sha256'][0][:16]}…`). Different seeds give distinct weights: "
           f"{d['different_seeds_distinct']}.",
           "## Seed variation",
           _table([[f"{s['mean']:.4f}", f"{s['std']:.4f}", f"{s['min']:.4f}", f"{s['max']:.4f}"]
                   for s in [report["seed_variance"]["test_accuracy"]]],
                  ["mean test accuracy", "std", "min", "max"]),
           _table([[p, f"{v:.4f}"] for p, v in report["seed_variance"]["disagreement"].items()],
                  ["pair", "fraction of test images predicted differently"])]
  for pair, comp in report["pairs"].items():
    null = report["null_baseline"]
    rows = []
    for entry, base in zip(comp["layers"], null["layers"]):
      for kind in ("weights", "activations"):
        s, b = entry[kind], base[kind]
        rows.append([entry["name"], kind, f"{s['mean']:.3f}", f"{s['median']:.3f}",
                     f"{s['fraction_above_0.5']:.2f}", f"{s['fraction_above_0.8']:.2f}",
                     f"{s['fraction_above_0.9']:.2f}",
                     f"{s['same_order_fraction']:.3f} (chance {s['same_order_chance']:.3f})",
                     f"{b['mean']:.3f}"])
    parts += [f"## Filter matching, {pair}",
              _table(rows, ["layer", "by", "mean", "median", ">0.5", ">0.8", ">0.9",
                            "same order", "null mean"]),
              _table([[e["name"], f"{e['weight_distance']['before_alignment']:.3f}",
                       f"{e['weight_distance']['after_alignment']:.3f}"] for e in comp["layers"]],
                     ["layer", "‖A−B‖/‖A‖ before alignment", "after alignment"]),
              f"Permutation check: max |Δ logits| of B after alignment = "
              f"{comp['permutation_check']['max_abs_logit_change']:.2e}."]
    if "cka" in comp:
      parts += [_table([[l["layer"], f"{l['linear_cka']:.3f}", f"{l['rbf_cka']:.3f}",
                         f"{l['minibatch_cka']:.3f}", f"{l['svcca']:.3f}"]
                        for l in comp["cka"]["per_layer"]],
                       ["layer", "linear CKA", "RBF CKA", "minibatch CKA", "SVCCA"]),
                f"Kornblith sanity test accuracy: {comp['cka']['sanity_accuracy']:.2f}"]
  parts += ["## Figures", "See `figures/`: `*_matched_filters.png` (A best-matched first, "
            "B matched, B unmatched), `*_correlation.png`, `*_cka.png`."]
  return "\n\n".join(parts) + "\n"


@common.user_errors
def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  seeds = _seeds()
  dataset = sources.load(_DATASET.value, data_dir=_DATA_DIR.value)   # runs no TensorFlow
  plan = common.configure_threads(_INTER_OP_THREADS, _INTRA_OP_THREADS, _BATCH_SHARDS,
                                  training.TrainConfig(model=_MODEL.value,
                                                       batch_size=_BATCH_SIZE.value,
                                                       deterministic=True))
  model_name = _MODEL.value if _MODEL.value in spec.PRESETS else "custom"
  workdir = common.prepare_workdir(_WORKDIR.value or f"runs/repro-{_DATASET.value}-{model_name}")
  common.write_flags(workdir, FLAG_NAMES)
  results = _train_runs(workdir, dataset, seeds, plan.batch_shards)

  test_x = dataset.test_images[:_TEST_LIMIT.value or None]
  probes = pipeline.scale(test_x[:_PROBE_SIZE.value]).numpy()
  test_images = pipeline.scale(test_x).numpy()
  nets = {s: training.load_model(workdir / "runs" / f"seed{s}") for s in seeds}
  predictions = {s: _predictions(net, test_images) for s, net in nets.items()}

  first = seeds[0]
  repeat = results[f"seed{first}_repeat"]["weights_sha256"]
  shas = [results[f"seed{s}"]["weights_sha256"] for s in seeds]
  figures_dir = workdir / "figures"
  figures_dir.mkdir(exist_ok=True)
  report = {
      "model": spec.canonical(_MODEL.value), "dataset": results[f"seed{first}"]["dataset"],
      "epochs": _EPOCHS.value, "seeds": seeds, "probe_size": len(probes),
      "command": "python -m experiments.reproducibility " + " ".join(argv[0:0] + [
          f"--{n}={flags.FLAGS[n].value}" for n in ("runs", "epochs", "dataset", "model")]),
      "determinism": {"same_seed_identical": shas[0] == repeat, "sha256": shas + [repeat],
                      "different_seeds_distinct": len(set(shas)) == len(shas)},
      "seed_variance": {
          "test_accuracy": seeds_lib.accuracy_spread([results[f"seed{s}"]["test_accuracy"]
                                                      for s in seeds]),
          "disagreement": {
              f"seed{a}-seed{b}": seeds_lib.disagreement(predictions[a], predictions[b])
              for a, b in itertools.combinations(seeds, 2)}},
      "within_run_cka": analysis.within_run_cka(nets[first], probes),
      "pairs": {}}
  for a, b in itertools.combinations(seeds, 2):
    name = f"seed{a}-seed{b}"
    logging.info("comparing %s", name)
    comparison = analysis.compare(nets[a], nets[b], probes)
    if (a, b) == (seeds[0], seeds[1]):
      _figures(figures_dir, name, nets[a], nets[b], comparison, probes[:1])
    report["pairs"][name] = _strip(comparison)
  untrained = spec.build(_MODEL.value, seed=NULL_SEED_OFFSET + first)
  report["null_baseline"] = _strip(analysis.compare(nets[first], untrained, probes,
                                                    with_representations=False))
  layers = report["within_run_cka"]["layers"]
  figures.heatmap(np.array(report["within_run_cka"]["linear_matrix"]),
                  figures_dir / f"seed{first}_within_run_cka.png",
                  f"linear CKA between layers of run seed{first}", "layer", "layer",
                  layers, layers)
  results_lib.write_json(workdir / "report.json", report)
  (workdir / "report.md").write_text(_markdown(report))
  first_pair = next(iter(report["pairs"].values()))
  identical = report["determinism"]["same_seed_identical"]
  print(f"determinism: {'identical' if identical else 'DIFFERENT'}"
        f"; first conv layer, activations: mean matched correlation "
        f"{first_pair['layers'][0]['activations']['mean']:.3f}, same order "
        f"{first_pair['layers'][0]['activations']['same_order_fraction']:.3f}; report: "
        f"{workdir / 'report.md'}")


if __name__ == "__main__":
  app.run(main, flags_parser=common.parse_flags)
