"""The whole-process phase alternates its commands and reports medians and ratios."""

import pytest

from benchmarks import whole_process
from tests.experiments.script_runner import run


def test_commands_alternate_round_by_round_and_ratios_use_medians(monkeypatch):
  order, clock = [], {"default": [30, 10, 20], "default_no_tensorboard": [10, 10, 10],
                      "main": [20, 22, 21], "main_no_tensorboard": [20, 20, 20],
                      "keras": [33, 30, 31]}
  names = {" ".join(args): name for name, args in whole_process.commands("fashion_mnist").items()}

  def fake_time(module_args, workdir, root):
    name = names[" ".join(module_args)]
    order.append(name)
    return clock[name][sum(1 for n in order if n == name) - 1]

  monkeypatch.setattr(whole_process, "_time", fake_time)
  report = whole_process.measure(3, "fashion_mnist", "/nowhere", log=lambda line: None)
  assert order == list(clock) * 3
  assert report["median_seconds"] == {"default": 20, "default_no_tensorboard": 10, "main": 21,
                                      "main_no_tensorboard": 20, "keras": 31}
  assert report["tensorboard"]["default"]["ratio"] == 2.0
  assert report["tensorboard"]["main"]["ratio"] == pytest.approx(21 / 20)
  assert report["keras"]["ratio"] == pytest.approx(31 / 21)
  assert report["commands"]["keras"].startswith("python -m benchmarks.keras_train")


def test_the_keras_yardstick_trains_and_evaluates(tmp_path):
  result = run("benchmarks.keras_train", "--dataset=mnist_sample", "--epochs=1",
               "--batch_size=500")
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.startswith("mnist_sample: test accuracy ")
  assert float(result.stdout.split()[3].rstrip(",")) > 0.5
