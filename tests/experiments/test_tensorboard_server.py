"""The pictures as a person gets them: a real TensorBoard server serves the images of training
(labelled feature maps, weight panels) and of experiments.visualize."""

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
import tensorflow as tf

from tests.experiments.script_runner import run

SMALL = ["--epochs=1", "--train_limit=256", "--test_limit=64", "--batch_size=32",
         "--model=conv4k3-maxpool2-flatten-dense10"]


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _get(url: str) -> bytes:
  with urllib.request.urlopen(url, timeout=10) as response:
    return response.read()


@pytest.mark.slow
def test_tensorboard_serves_the_explained_cards_and_activation_images(tmp_path):
  workdir, out = tmp_path / "run", tmp_path / "vis"
  assert run("experiments.train", *SMALL, f"--workdir={workdir}").returncode == 0
  shown = run("experiments.visualize", f"--workdir={workdir}", f"--out={out}", "--steps=5",
              "--classes=3", "--test_limit=64")
  assert shown.returncode == 0, shown.stderr[-2000:]
  port = _free_port()
  server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(tmp_path),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  base = f"http://127.0.0.1:{port}/data/plugin/images"
  try:
    tags = {}
    for _ in range(60):   # the server loads the event files in the background
      try:
        runs = json.loads(_get(f"{base}/tags"))
      except OSError:
        runs = {}
      tags, training = runs.get("vis/tb", {}), runs.get("run/tb/train", {})
      if any(t.startswith("cards/") for t in tags) and "feature_maps/conv_0" in training:
        break
      time.sleep(1)
    wanted = [("vis/tb", next(t for t in tags if t.startswith("explained/"))),
              ("vis/tb", "cards/conv_0"), ("vis/tb", "activation_max/conv_0"),
              ("run/tb/train", "feature_maps/conv_0"), ("run/tb/train", "filters/conv_0")]
    for run_name, tag in wanted:
      entries = json.loads(_get(f"{base}/images?" + urllib.parse.urlencode(
          {"run": run_name, "tag": tag, "sample": 0})))
      png = _get(f"{base}/individualImage?{entries[0]['query']}")
      image = tf.image.decode_png(png)
      assert image.shape[0] > 20 and image.shape[1] > 20, tag
  finally:
    server.terminate()
    server.wait(timeout=30)
