"""TensorBoard logging of a training run: scalars, histograms, labelled pictures.

:class:`TensorBoardLogger` is a training hook. It writes under ``<workdir>/tb``,
with tags grouped so that TensorBoard's Time Series tab (which orders groups by
the name before the first "/") opens on the curves, then the pictures, then
the histograms:

- ``tb/train``: ``batch/loss``, ``batch/accuracy``, ``batch/learning_rate``,
  ``batch/gradient_norm`` (written inside the compiled train step every
  `summary_every_steps`); per epoch ``epoch/loss``, ``epoch/accuracy``,
  ``epoch/images_per_second``, ``epoch/skipped_batches`` (non-finite batches
  skipped); before training, every `images_every_epochs` epochs and at the end:
  ``feature_maps/<layer>`` (per probe image: the image with its true and
  predicted class and probability beside the layer's maps, numbered by filter;
  :func:`tfcnn.summaries.panels.feature_maps`), ``filters/<layer>`` (weights,
  red positive, blue negative, one scale per layer, numbered tiles and a colour
  bar; :func:`tfcnn.summaries.panels.weights`) and
  ``histograms/{weights,gradients,activations}/...`` (gradients of the mean
  loss on the probe images, in inference mode); the model summary and the
  flags as text; the graph of the compiled loop that trains (written after the
  first epoch, once traced; the plain step of :mod:`tfcnn.training.step` is
  inside it).
- ``tb/test`` (and ``tb/validation``): ``epoch/loss``, ``epoch/accuracy`` — on
  the same cards as the training curves.
- ``tb/``: the HParams session (hyper-parameters and final metrics).

The same pictures are written as PNG files under ``<workdir>/images/step<N>/``,
before training and at its end (every epoch's are in TensorBoard).
"""

import json
import os
import pathlib
from typing import Mapping, Sequence

import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hp
from tensorboard.plugins.image import metadata as image_metadata

from tfcnn import losses
from tfcnn.data import pipeline
from tfcnn.layers import Conv2D
from tfcnn.summaries import panels, step_scalars

HPARAM_METRICS = ("hparams/test_accuracy", "hparams/test_loss")


def _tag(name: str) -> str:
  return name.split(":")[0]


class TensorBoardLogger:
  """A training hook that logs a run for TensorBoard and as PNG files."""

  def __init__(self, workdir: str | os.PathLike, probe_images: np.ndarray,
               probe_labels: np.ndarray, hparams: Mapping[str, object] | None = None,
               flags: Mapping[str, object] | None = None, summary_every_steps: int = 100,
               images_every_epochs: int = 1, filters_per_layer: int = 4,
               histograms: bool = True, write_pngs: bool = True, min_tile: int = 24,
               class_names: Sequence[str] | None = None):
    if summary_every_steps < 1 or images_every_epochs < 1 or filters_per_layer < 0:
      raise ValueError("summary_every_steps and images_every_epochs must be >= 1, "
                       "filters_per_layer >= 0")
    self.workdir = pathlib.Path(workdir)
    self.logdir = self.workdir / "tb"
    self.image_dir = self.workdir / "images"
    self.probes = pipeline.scale(probe_images)
    self.probe_labels = np.asarray(probe_labels)
    self.probe_label_tensor = tf.constant(self.probe_labels.astype(np.int32))
    self.class_names = list(class_names) if class_names is not None else None
    self.hparams = dict(hparams or {})
    self.flags = dict(flags or {})
    self.summary_every_steps = summary_every_steps
    self.images_every_epochs = images_every_epochs
    self.filters_per_layer = filters_per_layer
    self.histograms = histograms
    self.write_pngs = write_pngs
    self.min_tile = min_tile
    self._last_image_step = self._last_png_step = -1
    self._last_grids = {}
    self._graph_written = False

  # -- hook ---------------------------------------------------------------------

  def on_train_begin(self, state) -> None:
    self.state = state
    self.train_writer = tf.summary.create_file_writer(str(self.logdir / "train"))
    self.test_writer = tf.summary.create_file_writer(str(self.logdir / "test"))
    self.validation_writer = None  # created when there is a validation split
    self.session_writer = tf.summary.create_file_writer(str(self.logdir))
    # Only scalars inside the compiled step: histograms there cost seconds of
    # tracing; gradient histograms are drawn with the images instead.
    self.step_summaries = step_scalars.StepSummaries(self.train_writer,
                                                     self.summary_every_steps)
    step = state.step_count()
    if step == 0:
      self._write_run_description(state)
    self.log_images(step)

  def on_epoch_end(self, state, stats: dict) -> None:
    step = state.step_count()
    with self.train_writer.as_default(step=step):
      tf.summary.scalar("epoch/loss", stats["train_loss"])
      tf.summary.scalar("epoch/accuracy", stats["train_accuracy"])
      tf.summary.scalar("epoch/images_per_second", stats["images_per_second"])
      tf.summary.scalar("epoch/skipped_batches", stats.get("skipped_batches", 0))
    with self.test_writer.as_default(step=step):
      tf.summary.scalar("epoch/loss", stats["test_loss"])
      tf.summary.scalar("epoch/accuracy", stats["test_accuracy"])
    if "validation_loss" in stats:
      if self.validation_writer is None:
        self.validation_writer = tf.summary.create_file_writer(str(self.logdir / "validation"))
      with self.validation_writer.as_default(step=step):
        tf.summary.scalar("epoch/loss", stats["validation_loss"])
        tf.summary.scalar("epoch/accuracy", stats["validation_accuracy"])
    if stats["epoch"] % self.images_every_epochs == 0:
      self.log_images(step, pngs=False)   # PNG files: at the start and the end only
    if not self._graph_written and state.step_graph is not None:
      # The compiled loop that trains (the plain step inside it), traced by now.
      with self.train_writer.as_default(step=step):
        tf.summary.graph(state.step_graph())
      self._graph_written = True
    self.train_writer.flush()
    self.test_writer.flush()

  def on_train_end(self, state, results: dict) -> None:
    step = state.step_count()
    self.log_images(step)
    with self.session_writer.as_default(step=step):
      tf.summary.scalar(HPARAM_METRICS[0], results["test_accuracy"])
      tf.summary.scalar(HPARAM_METRICS[1], results["test_loss"])
    for writer in (self.train_writer, self.test_writer, self.validation_writer,
                   self.session_writer):
      if writer is not None:
        writer.flush()

  # -- pieces ---------------------------------------------------------------------

  def _write_run_description(self, state) -> None:
    summary = state.model.summary(print_fn=None)
    with self.train_writer.as_default(step=0):
      tf.summary.text("model_summary", "```\n" + summary.table + "\n```")
      tf.summary.text("flags", "```\n" + json.dumps(self.flags, indent=2, default=str) + "\n```")
    if self.hparams:
      # The HParams protocol knows strings, booleans and float64 only
      # (api_pb2.DataType), so integers such as batch_size are shown as
      # "32.000"; logging them as strings would print "32" but sort "128"
      # before "32" and lose the numeric range filter, so they stay numbers.
      hparams = {k: (v if isinstance(v, (bool, int, float, str)) else str(v))
                 for k, v in self.hparams.items()}
      with self.session_writer.as_default(step=0):
        hp.hparams_config(hparams=[hp.HParam(k) for k in hparams],
                          metrics=[hp.Metric(m) for m in HPARAM_METRICS])
        hp.hparams(hparams, trial_id=self.workdir.name)

  def _image_summaries(self, step: tf.Tensor) -> dict[str, list[tf.Tensor]]:
    """Writes pictures and histograms at `step`; returns the pictures as
    PNG bytes (a list per tag) for the PNG files."""
    model = self.state.model
    outputs = model.call_with_outputs(self.probes, training=False)
    result = _pictures(model, outputs, self.probes.numpy(), self.probe_labels,
                       self.class_names, self.filters_per_layer, self.min_tile)
    # Each picture is PNG-encoded once (fast zlib level), for TensorBoard and the files.
    encoded = {tag: [tf.io.encode_png(image, compression=1) for image in images]
               for tag, images in result.items()}
    with self.train_writer.as_default(step=step):
      for tag, pngs in encoded.items():
        _image_summary(tag, pngs, result[tag].shape)
      if self.histograms:
        _histograms(model, outputs, self.probes, self.probe_label_tensor)
    return encoded

  def log_images(self, step: int, pngs: bool = True) -> None:
    """Writes feature maps, filters and histograms at `step` (once per step),
    and the grids as PNG files too if `pngs` (and ``write_pngs``)."""
    if step != self._last_image_step:
      self._last_image_step = step
      # Eagerly: tracing these few dozen summaries would cost seconds, more
      # than running them at every image step of a typical run.
      self._last_grids = self._image_summaries(tf.constant(step, tf.int64))
    if not (self.write_pngs and pngs) or step == self._last_png_step:
      return
    self._last_png_step = step
    _write_pngs(self.image_dir / f"step{step:08d}", self._last_grids, self.probe_labels)


def _pictures(model, outputs: list[tf.Tensor], probes: np.ndarray, labels: np.ndarray,
              class_names: Sequence[str] | None, filters_per_layer: int,
              min_tile: int) -> dict[str, np.ndarray]:
  """The labelled pictures by tag, ``uint8 [n, H, W, 3]`` each: per spatial layer, a
  feature-map panel per probe image; per conv layer, its weight panels."""
  name_of = lambda c: class_names[c] if class_names else str(c)
  probabilities = tf.nn.softmax(tf.cast(outputs[-1], tf.float32)).numpy()
  predicted = probabilities.argmax(axis=1)
  result = {}
  for layer, output in zip(model.layers, outputs):
    if layer.window:
      maps = output.numpy()
      result[f"feature_maps/{layer.name}"] = panels.pad_to_same_size([
          panels.feature_maps(probes[j], maps[j], layer.name, name_of(int(labels[j])),
                              name_of(int(predicted[j])), float(probabilities[j, predicted[j]]),
                              min_tile).image
          for j in range(len(probes))])
    if isinstance(layer, Conv2D) and (layer.kernel.shape[2] in (1, 3) or filters_per_layer):
      result[f"filters/{layer.name}"] = panels.pad_to_same_size([p.image for p in panels.weights(
          layer.kernel.numpy(), layer.name, filters_per_layer, min_tile)])
  return result


def _image_summary(tag: str, pngs: list[tf.Tensor], shape: tuple[int, ...]) -> None:
  """What ``tf.summary.image`` writes, from PNGs already encoded (``shape``: the
  images' ``[n, height, width, channels]``)."""
  dimensions = [tf.constant(str(shape[2])), tf.constant(str(shape[1]))]
  tf.summary.write(tag, tf.stack(dimensions + list(pngs)),
                   metadata=image_metadata.create_summary_metadata(display_name=None,
                                                                  description=None))


def _histograms(model, outputs, probes: tf.Tensor, labels: tf.Tensor) -> None:
  """Histograms of weights, activations and gradients into the default writer.

  The gradients are of the mean loss on the probe images in inference mode:
  no dropout draw and no batch-norm update, so training is not touched.
  """
  for variable in model.variables:
    tf.summary.histogram(f"histograms/weights/{_tag(variable.name)}", variable)
  with tf.GradientTape() as tape:
    logits = tf.cast(model(probes, training=False), tf.float32)
    loss = tf.reduce_mean(losses.sparse_softmax_cross_entropy(labels, logits))
  for variable, gradient in zip(model.trainable_variables,
                                tape.gradient(loss, model.trainable_variables)):
    tf.summary.histogram(f"histograms/gradients/{_tag(variable.name)}", gradient)
  for layer, output in zip(model.layers, outputs):
    tf.summary.histogram(f"histograms/activations/{layer.name}", output)


def _write_pngs(folder: pathlib.Path, pngs_by_tag: dict, probe_labels: np.ndarray) -> None:
  """Each picture of :meth:`TensorBoardLogger._image_summaries` as a PNG file in
  `folder`, named after its tag (``feature_maps/conv_0`` → ``feature_maps_conv_0…``)."""
  folder.mkdir(parents=True, exist_ok=True)
  for tag, pngs in pngs_by_tag.items():
    name = tag.replace("/", "_")
    for j, png in enumerate(pngs):
      suffix = (f"_probe{j}_class{int(probe_labels[j])}" if tag.startswith("feature_maps")
                else (f"_filter{j}" if len(pngs) > 1 else ""))
      tf.io.write_file(str(folder / f"{name}{suffix}.png"), png)
