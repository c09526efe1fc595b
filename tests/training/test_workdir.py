"""A workdir is never lost or left behind: checkpoints found by reading them,
one run at a time, nothing written before every check, nothing outside it."""

import dataclasses
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import tfcnn
from tests.experiments.script_runner import ROOT
from tfcnn import training
from tfcnn.training import workdir as workdir_lib

TINY = training.TrainConfig(model="conv4k3-maxpool2-flatten-dense10", epochs=2, batch_size=32,
                            train_limit=192, test_limit=64, seed=3, lr_schedule="constant")
EVERY_2 = training.RunConfig(checkpoint_every_steps=2)


def _one_epoch(path):
  return training.train(dataclasses.replace(TINY, epochs=1), path, run=EVERY_2)


def test_paths_in_a_tampered_state_file_are_never_followed(tmp_path):
  workdir, victim = tmp_path / "run", tmp_path / "victim"
  victim.mkdir()
  for name in ("notes.index", "notes.data-00000-of-00001"):
    (victim / name).write_text("precious")
  _one_epoch(workdir)
  state = workdir / "ckpt" / "checkpoint"
  state.write_text(state.read_text() + 'all_model_checkpoint_paths: "../../victim/notes"\n')
  results = training.train(TINY, workdir, run=EVERY_2)   # saves and prunes old checkpoints
  assert results["steps"] == 12
  assert sorted(os.listdir(victim)) == ["notes.data-00000-of-00001", "notes.index"]
  assert "victim" not in state.read_text()


def test_a_damaged_latest_checkpoint_resumes_from_the_newest_intact_one(tmp_path):
  straight = training.train(TINY, tmp_path / "straight", run=EVERY_2)
  workdir = tmp_path / "run"
  _one_epoch(workdir)
  ckpt = workdir / "ckpt"
  newest = max(int(p.name[5:-6]) for p in ckpt.glob("ckpt-*.index"))
  (ckpt / f"ckpt-{newest}.index").unlink()
  (ckpt / "checkpoint").write_text("garbage {{{")
  resumed = training.train(TINY, workdir, run=EVERY_2)
  # Never a restart from step 0: the same weights as the run never stopped.
  assert resumed["weights_sha256"] == straight["weights_sha256"]


def test_a_truncated_checkpoint_is_skipped_and_none_intact_is_an_error(tmp_path):
  workdir = tmp_path / "run"
  _one_epoch(workdir)
  ckpt = workdir / "ckpt"
  datas = sorted(ckpt.glob("ckpt-*.data-*"), key=lambda p: int(p.name.split("-")[1][:-5]))
  datas[-1].write_bytes(datas[-1].read_bytes()[:40])
  assert workdir_lib.latest_intact(ckpt) == str(ckpt / datas[-2].name.split(".")[0])
  for data in datas:
    data.write_bytes(data.read_bytes()[:40])
  with pytest.raises(tfcnn.CheckpointError, match="no intact checkpoint"):
    training.train(TINY, workdir)
  with pytest.raises(tfcnn.CheckpointError, match="no intact checkpoint"):
    training.load_model(workdir)


def test_a_busy_workdir_is_refused_and_a_killed_holder_frees_it(tmp_path):
  with workdir_lib.Lock(tmp_path):
    with pytest.raises(tfcnn.ConfigError, match=r"in use by another run \(pid \d+\)"):
      training.train(TINY, tmp_path)
  holder = subprocess.Popen(
      [sys.executable, "-c", "import pathlib, sys, time\n"
       "from tfcnn.training.workdir import Lock\n"
       f"lock = Lock(pathlib.Path({str(tmp_path)!r})).__enter__()\n"
       "print('held', flush=True)\ntime.sleep(60)"],
      cwd=ROOT, stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
  assert holder.stdout.readline().strip() == "held"
  with pytest.raises(tfcnn.ConfigError, match="in use by another run"):
    training.train(TINY, tmp_path)
  holder.send_signal(signal.SIGKILL)
  holder.wait()
  assert training.train(TINY, tmp_path)["steps"] == 12


def test_a_refused_run_writes_nothing(tmp_path):
  training.train(TINY, tmp_path / "run")
  before = {p.name: p.read_bytes() for p in (tmp_path / "run").glob("*.json")}
  with pytest.raises(tfcnn.ConfigError, match="another configuration"):
    training.train(dataclasses.replace(TINY, seed=5), tmp_path / "run",
                   run=training.RunConfig(batch_shards=2))
  assert {p.name: p.read_bytes() for p in (tmp_path / "run").glob("*.json")} == before
  # A spec that does not fit the images leaves no config.json to trip on.
  with pytest.raises(tfcnn.ShapeError):
    training.train(dataclasses.replace(TINY, model="conv8k9-conv8k9-conv8k9-conv8k9"),
                   tmp_path / "fresh")
  assert not (tmp_path / "fresh" / "config.json").exists()
  assert training.train(TINY, tmp_path / "fresh")["steps"] == 12


@pytest.mark.parametrize("model,message", [
    ("flatten-dense5", "ends in 5 outputs, but the dataset has 10 classes"),
    ("conv8k3", r"outputs of shape \(26, 26, 8\)"),
    ("flatten", "ends in 784 outputs"),
])
def test_a_model_must_end_in_one_logit_per_class(tmp_path, model, message):
  with pytest.raises(tfcnn.ShapeError, match=message):
    training.train(dataclasses.replace(TINY, model=model), tmp_path)
  assert not (tmp_path / "config.json").exists()


def test_an_interrupted_exports_leftovers_are_removed(tmp_path):
  (tmp_path / ".saved_model.abc123").mkdir(parents=True)
  (tmp_path / ".saved_model.abc123" / "saved_model.pb").write_bytes(b"half")
  training.train(TINY, tmp_path)
  assert not list(tmp_path.glob(".saved_model.*"))


@pytest.mark.parametrize("mode", ["skip", "stop"])
def test_an_update_that_overflows_the_weights_is_never_kept(tmp_path, mode):
  # Finite gradients times a huge (finite) rate: the weights would become Inf.
  config = dataclasses.replace(TINY, learning_rate=3e38, epochs=1)
  run = training.RunConfig(nonfinite=mode, checkpoint_every_steps=1)
  if mode == "skip":
    results = training.train(config, tmp_path, run=run)
    assert results["skipped_batches"] >= 1
    text = (tmp_path / "results.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in results.json"))
  else:
    with pytest.raises(training.TrainingDiverged, match="non-finite loss, gradient or weight"):
      training.train(config, tmp_path, run=run)
  for v in training.load_model(tmp_path).trainable_variables:
    assert np.all(np.isfinite(v.numpy()))


def test_results_json_is_strict_json_with_a_reason_for_non_finite_values(tmp_path):
  from tfcnn.training import results as results_lib
  results_lib.write_json(tmp_path / "r.json", {"loss": float("nan"),
                                                "epochs": [{"x": float("inf"), "y": 1.0}]})
  data = json.loads((tmp_path / "r.json").read_text(),
                    parse_constant=lambda c: pytest.fail(c))
  assert data["loss"] is None and data["epochs"][0] == {"x": None, "y": 1.0}
  assert data["non_finite"] == {"loss": "nan", "epochs[0].x": "inf"}


def test_the_saved_model_refuses_nan_images_and_serves_an_empty_batch(tmp_path):
  training.train(dataclasses.replace(TINY, epochs=1), tmp_path)
  serve = tf.saved_model.load(str(tmp_path / "saved_model")).signatures["serving_default"]
  assert serve(images=tf.zeros([0, 28, 28, 1]))["logits"].shape == (0, 10)
  one_nan = np.zeros([2, 28, 28, 1], np.float32)
  one_nan[1, 5, 5, 0] = np.nan
  for bad in (one_nan, np.full([1, 28, 28, 1], np.inf, np.float32)):
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or Inf"):
      serve(images=tf.constant(bad))


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_a_config_json_that_is_not_an_object_is_a_one_line_error(tmp_path, text):
  training.train(dataclasses.replace(TINY, epochs=1), tmp_path)
  (tmp_path / "config.json").write_text(text)
  with pytest.raises(tfcnn.ConfigError, match="config.json is not"):
    training.train(dataclasses.replace(TINY, epochs=1), tmp_path)
  with pytest.raises(tfcnn.CheckpointError, match="config.json is not"):
    training.load_model(tmp_path)
