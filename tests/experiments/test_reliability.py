"""Crashes and signals: SIGKILL at several points, SIGTERM/SIGINT, bad input files.

Each kill test compares against one uninterrupted run of the same command
(--deterministic): the resumed run must end with bitwise the same weights.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.data import fake_datasets as fake
from tests.experiments.script_runner import ROOT, run

ARGS = ["--train_limit=320", "--test_limit=64", "--epochs=2", "--batch_size=32",
        "--model=conv4k3-maxpool2-flatten-dropout0.2-dense10", "--deterministic",
        "--checkpoint_every_steps=3", "--log_every_steps=1", "--tensorboard=false", "--seed=4"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("uninterrupted")
  result = run("experiments.train", *ARGS, f"--workdir={workdir}")
  assert result.returncode == 0, result.stderr[-2000:]
  return json.loads((workdir / "results.json").read_text())["weights_sha256"]


def _start(workdir, module="experiments.train", extra=()):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
  return subprocess.Popen([sys.executable, "-m", module, *extra, *ARGS, f"--workdir={workdir}"],
                          cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)


def _kill_when(process, needle: str, sig=signal.SIGKILL, timeout=120) -> str:
  """Sends `sig` to `process` as soon as its log shows `needle`; returns the log."""
  seen = []
  deadline = time.monotonic() + timeout
  sent = False
  try:
    for line in process.stderr:  # read on to EOF: what it says after the signal counts
      seen.append(line)
      if not sent and needle in line:
        process.send_signal(sig)
        sent = True
      if time.monotonic() > deadline:
        break
    process.wait(timeout=60)
  finally:
    if process.poll() is None:
      process.kill()
      process.wait()
  return "".join(seen)


def _resume_and_check(workdir, reference):
  result = run("experiments.train", *ARGS, f"--workdir={workdir}")
  assert result.returncode == 0, result.stderr[-2000:]
  assert "resumed from" in result.stderr
  assert json.loads((workdir / "results.json").read_text())["weights_sha256"] == reference


@pytest.mark.slow
@pytest.mark.parametrize("needle", [
    "epoch 1/2 batch 5/10",          # mid-epoch, between checkpoints
    "checkpoint saved at epoch 1, batch 6",   # right after a checkpoint
    "epoch 2/2 batch 2/10",          # in the second epoch
])
def test_sigkill_then_the_same_command_ends_bitwise_identical(tmp_path, reference, needle):
  log = _kill_when(_start(tmp_path), needle)
  assert needle in log
  assert not (tmp_path / "results.json").exists()
  _resume_and_check(tmp_path, reference)


@pytest.mark.slow
def test_sigkill_during_a_checkpoint_write_leaves_the_previous_one_usable(tmp_path, reference):
  process = _start(tmp_path, module="tests.experiments.crash_during_save", extra=["3"])
  _, _ = process.communicate(timeout=180)
  assert process.returncode == -signal.SIGKILL
  _resume_and_check(tmp_path, reference)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_save_a_checkpoint_and_exit_cleanly(tmp_path, reference, sig):
  process = _start(tmp_path)
  log = _kill_when(process, "epoch 1/2 batch 4/10", sig=sig)
  assert process.returncode == 128 + sig
  name = signal.Signals(sig).name
  lines = [l for l in log.splitlines() if l.startswith("train.py: error:")]
  assert len(lines) == 1 and f"interrupted by {name}" in lines[0], log[-2000:]
  assert "Traceback" not in log
  _resume_and_check(tmp_path, reference)


@pytest.mark.parametrize("corrupt,message", [
    (lambda f: f.write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 5), "truncated IDX header"),
    (lambda f: f.write_bytes(b"PK\x03\x04" + b"\x00" * 20), "bad IDX magic number"),
])
def test_a_malformed_data_file_is_a_one_line_error_naming_it(tmp_path, corrupt, message):
  folder = fake.write_folder(tmp_path / "data", fake.make_arrays(num_train=60000, num_test=10000))
  corrupt(folder / "t10k-images-idx3-ubyte.gz")
  result = run("experiments.train", "--dataset=mnist", f"--data_dir={folder}",
               "--verify_data=false", f"--workdir={tmp_path / 'run'}")
  assert result.returncode == 1
  errors = [l for l in result.stderr.splitlines() if l.startswith("train.py: error:")]
  assert len(errors) == 1 and "t10k-images-idx3-ubyte.gz" in errors[0] and message in errors[0]
  assert "Traceback" not in result.stderr
