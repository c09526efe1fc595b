r"""What does each layer see? Feature maps, activation maximisation, top patches.

Reads a trained workdir (from experiments.train) and writes PNG grids into
--out (default <workdir>/visualize) and TensorBoard images into <out>/tb:

  feature_maps/<layer>_image<i>_class<c>.png  a test image, its true and predicted class,
                                              and every map of a layer, numbered by filter
  explained/image<i>_class<c>.png             the same image's saliency, Grad-CAM and maps
  activation_max/<layer>.png                  one synthetic input per filter
  top_patches/<layer>_filter<f>.png           the k test crops a filter likes most
  cards/<layer>_filter<f>.png, cards/index.html   a card per filter (weights, pattern,
                                              patches, statistics; with --study, its
                                              partner in other runs of the study)
  activation_max.json                         achieved activation vs the test set's best

  python -m experiments.visualize --workdir=runs/mnist_sample-seed_cnn-seed0-35641965
  python -m experiments.visualize --workdir=runs/repro-mnist_sample-seed_cnn/runs/w1-init1-data1 \
      --study=runs/repro-mnist_sample-seed_cnn
"""

import json
import pathlib

import numpy as np
import tensorflow as tf
from absl import app, flags, logging

from experiments import common
from tfcnn import training, visualize
from tfcnn.data import pipeline, sources
from tfcnn.errors import ConfigError
from tfcnn.layers import Conv2D
from tfcnn.summaries import grids, panels
from tfcnn.training import results as results_lib
from tfcnn.analysis import partners as partners_lib
from tfcnn.visualize import cards, explained, unit_max

_WORKDIR = flags.DEFINE_string("workdir", None, "A trained run's workdir.", required=True)
_OUT = flags.DEFINE_string("out", None, "Output folder (default <workdir>/visualize).")
_IMAGES = flags.DEFINE_list("images", [], "Test image indices for feature maps.")
_CLASSES = flags.DEFINE_list("classes", [],
                             "Classes: the first test image of each is shown (default: every "
                             "class of the dataset).")
_LAYERS = flags.DEFINE_list("layers", [], "Conv layer names (default: all conv layers).")
_STEPS = flags.DEFINE_integer("steps", 200, "Gradient-ascent steps.", lower_bound=1)
_CONTRAST = flags.DEFINE_float(
    "contrast", 0.6, "Activation maximisation: the pattern's distance from mid-grey, as a "
    "fraction of the largest possible (1: black and white allowed).", lower_bound=0.05,
    upper_bound=1.0)
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the starting noise.", lower_bound=0)
_TOP_K = flags.DEFINE_integer("top_k", 9, "Top patches per filter.", lower_bound=1)
_MAX_FILTERS = flags.DEFINE_integer("max_filters", 16,
                                    "Filters per layer given a top-patch image.", lower_bound=0)
_TEST_LIMIT = flags.DEFINE_integer("test_limit", 2000, "Test images searched.", lower_bound=1)
_STUDY = flags.DEFINE_string(
    "study", None, "A reproducibility study folder (experiments.reproducibility) whose runs "
    "include --workdir's model: each filter card then shows the filter's partner in other runs.")
_PARTNER_RUNS = flags.DEFINE_integer("partner_runs", 6, "With --study: other runs shown per "
                                     "card, taken in turn from same init / same data / both "
                                     "differ.", lower_bound=1)


def _write_png(path: pathlib.Path, image) -> None:
  path.parent.mkdir(parents=True, exist_ok=True)
  tf.io.write_file(str(path), grids.encode_png(image))


def _explain(net, images, labels, indices, outputs, probabilities, class_names, convs,
             out) -> None:
  """Per image: true and predicted class, saliency, Grad-CAM at the last conv layer and every
  conv layer's maps with filter indices, as ``explained/*.png`` and in TensorBoard."""
  predicted = probabilities.argmax(axis=1)
  saliency = visualize.saliency(net, images, predicted)
  cams = visualize.grad_cam(net, convs[-1], images, predicted)
  (out / "explained").mkdir(parents=True, exist_ok=True)
  for j, index in enumerate(indices):
    png = explained.figure(
        images[j], class_names[labels[j]], class_names[predicted[j]],
        float(probabilities[j, predicted[j]]), saliency[j], cams[j], net.layers[convs[-1]].name,
        [(net.layers[i].name, outputs[i][j].numpy()) for i in convs])
    (out / "explained" / f"image{index}_class{labels[j]}.png").write_bytes(png)
    tf.summary.image(f"explained/image{index}", tf.image.decode_png(png, channels=3)[tf.newaxis])


def _study_partners(study_dir: pathlib.Path, workdir: pathlib.Path, net, dataset) -> dict:
  """Each conv filter's partner in up to --partner_runs other runs of the study, matched
  on the study's own probe images (the first ``probe_size`` test images)."""
  runs_dir = study_dir / "runs"
  if not runs_dir.is_dir():
    raise ConfigError(f"--study={study_dir}: not a study folder (it has no runs/)")
  report = study_dir / "report.json"
  probe_size = results_lib.read_json(report).get("probe_size", 500) if report.exists() else 500
  candidates = {d.name: results_lib.read_json(d / "config.json")
                for d in sorted(runs_dir.iterdir())
                if (d / "results.json").exists() and d.resolve() != workdir.resolve()}
  chosen = partners_lib.choose_runs(results_lib.read_json(workdir / "config.json"), candidates,
                                    _PARTNER_RUNS.value)
  if not chosen:
    raise ConfigError(f"--study={study_dir}: no other finished run of this model there")
  logging.info("partners from %s", ", ".join(chosen))
  others = {f"{name}\n{kind}": training.load_model(runs_dir / name)
            for name, kind in chosen.items()}
  probes = pipeline.scale(dataset.test_images[:probe_size]).numpy()
  return partners_lib.partners(net, others, probes)


def _cards(folder, layer: str, kernel, preferred, crops, stats: dict,
           partners: list | None) -> list[str]:
  """One card per filter of `layer` (PNG files, and in TensorBoard); returns the file names."""
  folder.mkdir(parents=True, exist_ok=True)
  scale = float(np.abs(kernel).max())
  names, decoded = [], []
  for f in range(kernel.shape[-1]):
    one = {key: stats[key][f] for key in ("firing", "achieved", "test_median", "test_best",
                                          "dead")}
    png = cards.card(layer, f, kernel[..., f], scale, preferred[f], crops[f], one,
                     partners[f] if partners else ())
    names.append(f"{layer}_filter{f:03d}.png")
    (folder / names[-1]).write_bytes(png)
    decoded.append(tf.image.decode_png(png, channels=3))
  height = 230 if not partners else 370
  tf.summary.image(f"cards/{layer}", tf.stack([tf.image.resize_with_pad(
      d, height, 640) for d in decoded]) / 255.0, max_outputs=len(decoded))
  return names


@common.user_errors
def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  workdir = pathlib.Path(_WORKDIR.value)
  net = training.load_model(workdir)
  config = results_lib.read_json(workdir / "config.json")
  # Where the data was: run.json (older workdirs kept it in config.json).
  run = results_lib.read_json(workdir / "run.json") if (workdir / "run.json").exists() else config
  dataset = sources.load(config["dataset"], data_dir=run.get("data_dir"),
                         verify=run.get("verify_data", True))
  # Logged at the trained model's step, beside training's own images.
  step = (results_lib.read_json(workdir / "results.json").get("steps", 0)
          if (workdir / "results.json").exists() else 0)
  out = common.prepare_workdir(_OUT.value or str(workdir / "visualize"))
  test = pipeline.scale(dataset.test_images[:_TEST_LIMIT.value]).numpy()
  labels = dataset.test_labels[:_TEST_LIMIT.value]

  try:
    chosen = [int(i) for i in _IMAGES.value]
    classes = [int(c) for c in _CLASSES.value] if not chosen else []
    if not chosen and not classes:
      classes = sorted(set(int(c) for c in labels))
  except ValueError:
    raise ConfigError("--images and --classes take integers") from None
  for c in classes:
    hits = np.flatnonzero(labels == c)
    if not len(hits):
      raise ConfigError(f"class {c} does not occur in the first {len(labels)} test images")
    chosen.append(int(hits[0]))
  if any(not 0 <= i < len(test) for i in chosen):
    raise ConfigError(f"--images must be in [0, {len(test)})")

  conv_layers = {layer.name: i for i, layer in enumerate(net.layers) if isinstance(layer, Conv2D)}
  names = _LAYERS.value or list(conv_layers)
  unknown = [n for n in names if n not in conv_layers]
  if unknown:
    raise ConfigError(f"unknown conv layer(s) {', '.join(unknown)}; "
                      f"this model has {', '.join(conv_layers)}")

  study_partners = (_study_partners(pathlib.Path(_STUDY.value), workdir, net, dataset)
                    if _STUDY.value else {})
  writer = tf.summary.create_file_writer(str(out / "tb"))
  outputs = net.call_with_outputs(tf.constant(test[chosen]), training=False)
  probabilities = tf.nn.softmax(outputs[-1]).numpy()
  predicted = probabilities.argmax(axis=1)
  class_names = dataset.class_names
  (out / "feature_maps").mkdir(parents=True, exist_ok=True)
  with writer.as_default(step=step):
    for i, layer in enumerate(net.layers):
      if not layer.window:
        continue
      stack = []
      for j, index in enumerate(chosen):
        picture = panels.feature_maps(test[index], outputs[i][j].numpy(), layer.name,
                                      class_names[labels[index]], class_names[predicted[j]],
                                      float(probabilities[j, predicted[j]])).image
        filename = f"{layer.name}_image{index}_class{labels[index]}.png"
        (out / "feature_maps" / filename).write_bytes(tf.io.encode_png(picture).numpy())
        stack.append(picture)
      tf.summary.image(f"feature_maps/{layer.name}", panels.pad_to_same_size(stack),
                       max_outputs=len(stack))
    _explain(net, test[chosen], labels[chosen], chosen, outputs, probabilities, class_names,
             list(conv_layers.values()), out)

    report, card_files = {}, {}
    config = unit_max.UnitMaxConfig(steps=_STEPS.value, seed=_SEED.value,
                                    contrast=_CONTRAST.value)
    for name in names:
      index = conv_layers[name]
      logging.info("activation maximisation for %s", name)
      images, achieved = unit_max.maximize_units(net, index, config)
      median, best, firing = unit_max.test_unit_activations(net, index, test)
      report[name] = unit_max.report(images, achieved, median, best, firing)
      grid = unit_max.grid(images, dead=np.asarray(report[name]["dead"], bool))
      _write_png(out / "activation_max" / f"{name}.png", grid)
      tf.summary.image(f"activation_max/{name}", grids.grid_to_uint8(grid)[tf.newaxis])
      crops, _, _ = visualize.top_patches(net, index, test, k=_TOP_K.value)
      card_files[name] = _cards(out / "cards", name, net.layers[index].kernel.numpy(), images,
                                crops, report[name], study_partners.get(name))
      for f in range(min(_MAX_FILTERS.value, crops.shape[0])):
        tile = grids.tile_images(crops[f])
        _write_png(out / "top_patches" / f"{name}_filter{f}.png", tile)
  writer.flush()
  cards.index_page(out / "cards", card_files)
  (out / "activation_max.json").write_text(json.dumps(report, indent=2) + "\n")
  for n, r in report.items():
    print(f"activation maximisation, {n}: {r['saturation']:.0%} of pixels black or white; "
          f"above the median test image for {r['fraction_above_test_median']:.0%} and above "
          f"the best for {r['fraction_above_test_best']:.0%} of live filters; "
          f"{sum(r['dead'])} dead")
  print(f"outputs: {out}; TensorBoard: tensorboard --logdir {out / 'tb'}")


if __name__ == "__main__":
  app.run(main, flags_parser=common.parse_flags)
