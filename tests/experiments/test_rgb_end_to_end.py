"""An RGB dataset of one's own through every script: train (TensorBoard on), visualize, study."""

import json

import numpy as np
import pytest

from tests.experiments.script_runner import run


@pytest.fixture
def rgb_npz(tmp_path):
  rng = np.random.default_rng(0)

  def make(n):   # class = the channel that is brightest: learnable in one epoch
    y = rng.integers(0, 3, n)
    x = rng.integers(0, 120, (n, 20, 24, 3)).astype(np.uint8)
    x[np.arange(n), :, :, y] += 100
    return x, y
  (x, y), (xt, yt) = make(256), make(64)
  path = tmp_path / "rgb.npz"
  np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt,
           class_names=np.array(["red", "green", "blue"]))
  return path


@pytest.mark.slow
def test_an_rgb_npz_trains_visualizes_and_studies(tmp_path, rgb_npz):
  model = "--model=conv6k3-maxpool2-conv8k3-flatten-dense3"
  workdir = tmp_path / "run"
  trained = run("experiments.train", f"--dataset=npz:{rgb_npz}", model, "--epochs=2",
                f"--workdir={workdir}")
  assert trained.returncode == 0, trained.stderr[-3000:]
  assert json.loads((workdir / "config.json").read_text())["data"]["input_shape"] == [20, 24, 3]
  assert (workdir / "images").is_dir() and (workdir / "tb").is_dir()

  shown = run("experiments.visualize", f"--workdir={workdir}", "--steps=10")
  assert shown.returncode == 0, shown.stderr[-3000:]
  assert len(list((workdir / "visualize" / "feature_maps").glob("conv_0_*.png"))) == 3

  study = run("experiments.reproducibility", f"--dataset=npz:{rgb_npz}", model, "--runs=2",
              "--epochs=1", "--vary=both", "--null_nets=1", "--probe_size=32",
              f"--workdir={tmp_path / 'study'}", "--tensorboard=false")
  assert study.returncode == 0, study.stderr[-3000:]
  report = json.loads((tmp_path / "study" / "report.json").read_text())
  assert report["cells"]["w1-both"]["summary"]["layers"][0]["filters"] == 6
