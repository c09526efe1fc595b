"""Safety and robustness guarantees that hold across the package."""

import errno
import json
import pathlib
import re

import pytest
import tensorflow as tf

import tfcnn
from experiments import common
from tfcnn.training import results as results_lib

PACKAGE = pathlib.Path(tfcnn.__file__).parent


def test_no_pickle_anywhere_in_the_library_or_scripts():
  for path in [*PACKAGE.rglob("*.py"), *(PACKAGE.parent / "experiments").rglob("*.py"),
               *(PACKAGE.parent / "benchmarks").rglob("*.py")]:
    text = path.read_text()
    assert not re.search(r"\bimport pickle\b|\bpickle\.|allow_pickle\s*=\s*True", text), path


def test_every_layer_name_from_a_spec_is_a_safe_file_name():
  # Layer names become PNG file names under a workdir: they must never hold a path.
  net = tfcnn.build_model("fashion_cnn")
  for layer in net.layers:
    assert re.fullmatch(r"[a-z]+_\d+", layer.name), layer.name


def test_library_refuses_integer_images_with_a_clear_error():
  net = tfcnn.build_model("seed_cnn")
  with pytest.raises(tfcnn.ShapeError, match="layer conv_0: expects float inputs"):
    net(tf.zeros([1, 28, 28, 1], tf.uint8))
  with pytest.raises(tfcnn.ShapeError, match=r"layer conv_0: built for inputs of shape \[28, 28, 1\] \(without batch\), called with \[28, 28\]"):
    net(tf.zeros([1, 28, 28]))


def test_a_full_disk_leaves_the_previous_results_intact(tmp_path, monkeypatch):
  path = tmp_path / "results.json"
  results_lib.write_json(path, {"test_accuracy": 0.9})

  def full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")

  monkeypatch.setattr(json, "dump", full)
  with pytest.raises(OSError, match="No space left"):
    results_lib.write_json(path, {"test_accuracy": 0.1})
  monkeypatch.undo()
  assert json.loads(path.read_text()) == {"test_accuracy": 0.9}
  assert [p.name for p in tmp_path.iterdir()] == ["results.json"]   # no temp file left


def test_scripts_turn_os_errors_into_one_line(capsys):
  @common.user_errors
  def main(argv):
    raise OSError(errno.ENOSPC, "No space left on device", "/runs/x/results.json")

  with pytest.raises(SystemExit) as exit_info:
    main(["prog"])
  assert exit_info.value.code == 1
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "No space left on device (/runs/x/results.json)" in err


def test_a_full_disk_inside_tensorflow_is_one_line(capsys):
  # TensorFlow's checkpoint, SavedModel and summary writers raise their own error.
  @common.user_errors
  def main(argv):
    raise tf.errors.ResourceExhaustedError(None, None, "ckpt-3.data: No space left on device")

  with pytest.raises(SystemExit) as exit_info:
    main(["prog"])
  assert exit_info.value.code == 1
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "out of disk space" in err and "ckpt-3.data" in err
