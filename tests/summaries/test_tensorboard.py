"""TensorBoard logging: event files read back, PNGs checked, a real server queried."""

import dataclasses
import json
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

import tfcnn
from tfcnn import training
from tfcnn.summaries import TensorBoardLogger, panels, probes

CONFIG = training.TrainConfig(model="conv6k3-maxpool2-conv8k3-flatten-dense10", epochs=2,
                              batch_size=32, train_limit=128, test_limit=64, seed=2)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("tb-run")
  data = tfcnn.data.load("mnist_sample")
  images, labels = probes.one_per_class(data.test_images, data.test_labels)
  hook = TensorBoardLogger(workdir, images, labels, hparams=CONFIG.to_dict(),
                           flags={"epochs": 2}, summary_every_steps=2, filters_per_layer=3)
  results = training.train(CONFIG, workdir, dataset=data, hooks=[hook])
  return workdir, hook, results, images


def _load(path, **guidance):
  acc = event_accumulator.EventAccumulator(
      str(path), size_guidance={event_accumulator.TENSORS: 0, event_accumulator.IMAGES: 0,
                                event_accumulator.HISTOGRAMS: 0, **guidance})
  acc.Reload()
  return acc


def test_probes_are_one_test_image_per_class(run):
  _, hook, _, _ = run
  assert hook.probe_labels.tolist() == list(range(10))


def test_scalars_histograms_text_and_graph_in_train_events(run):
  workdir, _, results, _ = run
  acc = _load(workdir / "tb" / "train")
  tags = acc.Tags()["tensors"]
  for tag in ("batch/loss", "batch/accuracy", "batch/learning_rate", "batch/gradient_norm",
              "epoch/loss", "epoch/accuracy", "epoch/images_per_second", "model_summary",
              "flags", "histograms/weights/conv_0/kernel", "histograms/gradients/conv_0/kernel",
              "histograms/activations/conv_0", "feature_maps/conv_0", "feature_maps/maxpool_1",
              "feature_maps/conv_2", "filters/conv_0", "filters/conv_2"):
    assert tag in tags, tag
  assert [e.step for e in acc.Tensors("batch/loss")] == [2, 4, 6, 8]   # every 2 of 8 steps
  assert [e.step for e in acc.Tensors("epoch/loss")] == [4, 8]
  assert [e.step for e in acc.Tensors("feature_maps/conv_0")] == [0, 4, 8]  # before, epochs
  assert acc.Graph() is not None
  test = _load(workdir / "tb" / "test")
  assert [e.step for e in test.Tensors("epoch/accuracy")] == [4, 8]
  final = tf.make_ndarray(test.Tensors("epoch/accuracy")[-1].tensor_proto)
  assert float(final) == pytest.approx(results["test_accuracy"])


def test_tag_groups_put_the_curves_first(run):
  """TensorBoard's Time Series tab orders groups (the tag before its first "/") by
  name: the curves' groups must come before every picture and histogram group."""
  workdir, _, _, _ = run
  tags = _load(workdir / "tb" / "train").Tags()["tensors"]
  groups = sorted({tag.split("/")[0] for tag in tags if "/" in tag})
  assert groups[:2] == ["batch", "epoch"], groups
  assert all("/" in tag for tag in tags if tag not in ("model_summary", "flags")), tags


def test_pictures_one_per_probe_and_per_filter(run):
  workdir, _, _, _ = run
  acc = _load(workdir / "tb" / "train")
  event = acc.Tensors("feature_maps/conv_0")[-1]
  images = tf.make_ndarray(event.tensor_proto)  # [width, height, png, png, ...]
  assert len(images) == 2 + 10   # ten probes
  decoded = [tf.io.decode_png(png).numpy() for png in images[2:]]
  assert {d.shape for d in decoded} == {decoded[0].shape} and decoded[0].shape[2] == 3
  filters = tf.make_ndarray(acc.Tensors("filters/conv_2")[-1].tensor_proto)
  assert len(filters) == 2 + 3   # filters_per_layer=3: a panel per output filter
  assert len(tf.make_ndarray(acc.Tensors("filters/conv_0")[-1].tensor_proto)) == 2 + 1


def test_a_feature_map_png_is_that_layers_output_for_that_probe(run):
  workdir, hook, results, images = run
  step = results["steps"]
  png = workdir / "images" / f"step{step:08d}" / "feature_maps_conv_2_probe7_class7.png"
  decoded = tf.io.decode_png(tf.io.read_file(str(png))).numpy()
  probe = tfcnn.data.pipeline.scale(images[7:8])
  outputs = hook.state.model.call_with_outputs(probe)
  maps = outputs[2][0].numpy()           # conv_2 of probe 7: [11, 11, 8]
  probabilities = tf.nn.softmax(outputs[-1][0]).numpy()
  predicted = int(probabilities.argmax())
  layout = panels.feature_maps(probe[0].numpy(), maps, "conv_2", "7", str(predicted),
                               float(probabilities[predicted]))
  height, width, _ = layout.image.shape   # the panels of one layer are padded to one size
  np.testing.assert_array_equal(decoded[:height, :width], layout.image)
  for i in range(maps.shape[-1]):
    m = maps[..., i]
    normalised = (m - m.min()) / (m.max() - m.min()) if m.max() > m.min() else 0 * m
    top, left = layout.positions[i]
    tile = decoded[top:top + 11 * layout.scale:layout.scale,
                   left:left + 11 * layout.scale:layout.scale, 0]
    np.testing.assert_allclose(tile, np.round(normalised * 255), atol=1)


def test_hparams_session(run):
  workdir, _, results, _ = run
  acc = _load(workdir / "tb")
  plugins = acc.PluginTagToContent("hparams")
  assert "_hparams_/experiment" in plugins and "_hparams_/session_start_info" in plugins
  assert "hparams/test_accuracy" in acc.Tags()["tensors"]


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _get_json(url: str):
  with urllib.request.urlopen(url, timeout=5) as response:
    return json.loads(response.read())


def test_a_real_tensorboard_server_shows_our_tags(run):
  workdir, _, _, _ = run
  port = _free_port()
  server = subprocess.Popen(
      [sys.executable, "-m", "tensorboard.main", "--logdir", str(workdir), "--host",
       "127.0.0.1", "--port", str(port), "--samples_per_plugin", "images=100"],
      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    scalars = None
    while time.monotonic() < deadline:
      try:
        scalars = _get_json(base + "/data/plugin/scalars/tags")
        if "tb/train" in scalars and "tb/test" in scalars:
          break
      except OSError:
        pass
      time.sleep(0.5)
    assert scalars and "batch/loss" in scalars["tb/train"], scalars
    assert "epoch/accuracy" in scalars["tb/test"]
    images = _get_json(base + "/data/plugin/images/tags")
    assert "feature_maps/conv_0" in images["tb/train"]
    assert "filters/conv_0" in images["tb/train"]
  finally:
    server.terminate()
    try:
      server.wait(timeout=10)
    except subprocess.TimeoutExpired:
      server.kill()
      server.wait()


def test_logging_never_changes_what_is_learned(run, tmp_path):
  # The probes' gradients run in inference mode: no dropout draw, no
  # batch-norm update; the step's scalars only read.
  _, _, results, _ = run
  dropout = dataclasses.replace(CONFIG, model="conv6k3-maxpool2-dropout0.3-flatten-dense10")
  data = tfcnn.data.load("mnist_sample")
  images, labels = probes.one_per_class(data.test_images, data.test_labels)
  logged = training.train(dropout, tmp_path / "logged", dataset=data,
                          hooks=[TensorBoardLogger(tmp_path / "logged", images, labels)])
  plain = training.train(dropout, tmp_path / "plain", dataset=data)
  assert logged["weights_sha256"] == plain["weights_sha256"]
  assert training.train(CONFIG, tmp_path / "again", dataset=data)["weights_sha256"] == \
      results["weights_sha256"]
