"""A study in TensorBoard: one HParams session per (width, condition), the summary figure
and the first pair's matched-filter figures as images.

Each session's hyper-parameters are the condition (which seed varied) and
the width; its metrics are, per layer, the matched activation correlation,
the same-order fraction, the live-pair matched correlation and linear CKA
(means over pairs), so the HParams table compares conditions and widths at
a glance and the Time Series tab shows the figures.
"""

import os
import pathlib

import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

_LAYER_METRICS = ("matched_activations", "matched_activations_live", "same_order_fraction",
                  "matched_weights")


def _metrics(cell: dict) -> dict[str, float]:
  values = {}
  for layer in cell["summary"]["layers"]:
    for name in _LAYER_METRICS:
      values[f"study/{layer['name']}/{name}"] = layer["statistics"][name]["mean"]
  for row in cell["summary"]["representations"]:
    values[f"study/{row['name']}/linear_cka"] = row["linear_cka"]["mean"]
  values["study/test_accuracy"] = cell["test_accuracy"]["mean"]
  return values


def write(report: dict, logdir: str | os.PathLike, figures_dir: str | os.PathLike) -> None:
  """Writes the study `report` (as the reproducibility script builds it) under `logdir`."""
  logdir, figures_dir = pathlib.Path(logdir), pathlib.Path(figures_dir)
  cells = {name: c for name, c in report["cells"].items() if c["condition"] != "none"}
  if not cells:
    return
  metric_names = sorted({m for c in cells.values() for m in _metrics(c)})
  with tf.summary.create_file_writer(str(logdir)).as_default():
    hp.hparams_config(hparams=[hp.HParam("condition", hp.Discrete(sorted(
                                   {c["condition"] for c in cells.values()}))),
                               hp.HParam("width", hp.Discrete(sorted(
                                   {float(c["width"]) for c in cells.values()})))],
                      metrics=[hp.Metric(m) for m in metric_names])
  for name, cell in cells.items():
    with tf.summary.create_file_writer(str(logdir / name)).as_default(step=0):
      hp.hparams({"condition": cell["condition"], "width": float(cell["width"])}, trial_id=name)
      for metric, value in _metrics(cell).items():
        tf.summary.scalar(metric, value)
      for png in sorted(figures_dir.glob(f"{name}_*_matched_filters.png")):
        layer = png.name[len(name) + 1:-len("_matched_filters.png")]
        tf.summary.image(f"matched_filters/{layer}",
                         tf.image.decode_png(png.read_bytes(), channels=3)[tf.newaxis])
  summary = figures_dir / "summary.png"
  if summary.exists():
    with tf.summary.create_file_writer(str(logdir / "summary")).as_default(step=0):
      tf.summary.image("study/summary", tf.image.decode_png(summary.read_bytes(),
                                                            channels=3)[tf.newaxis])
