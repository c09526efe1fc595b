"""Thread-pool sizes are set before TensorFlow starts, and refused clearly after."""

import os
import subprocess
import sys
import textwrap

import pytest

from tests.experiments.script_runner import ROOT
from tfcnn import training
from tfcnn.fast import threads
from tfcnn.errors import ConfigError


def _python(code: str) -> subprocess.CompletedProcess:
  """Runs `code` in a fresh interpreter (this one's TensorFlow has long started)."""
  return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                        capture_output=True, text=True, timeout=120,
                        env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"})


@pytest.mark.parametrize("script", ["experiments.train", "benchmarks.benchmark",
                                    "experiments.reproducibility"])
def test_sizes_set_before_anything_runs_are_the_ones_in_force(script):
  # Importing the library and a script (its flags) must not start TensorFlow.
  result = _python(f"""
      import {script}
      import tensorflow as tf
      from tfcnn.fast import threads
      threads.configure(threads.Threads(inter_op=1, intra_op=1))
      print(tf.reduce_sum(tf.ones([3])).numpy(), threads.current())
      threads.configure(threads.Threads(inter_op=1, intra_op=1))   # the same again: fine
  """)
  assert result.returncode == 0, result.stderr[-2000:]
  assert "3.0 Threads(inter_op=1, intra_op=1)" in result.stdout


def test_other_sizes_after_tensorflow_started_are_a_config_error():
  result = _python("""
      import tensorflow as tf
      from tfcnn.fast import threads
      tf.constant(1.0) + 1.0
      try:
        threads.configure(threads.Threads(inter_op=1, intra_op=1))
      except Exception as e:
        print(type(e).__name__, e)
  """)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.startswith("ConfigError cannot use 1 inter-op and 1 intra-op threads: "
                                  "TensorFlow has already started with 0 and 0")


@pytest.mark.parametrize("sizes", [dict(inter_op=-1), dict(intra_op=-2), dict(inter_op=1.5)])
def test_negative_or_fractional_sizes_are_refused(sizes):
  with pytest.raises(ConfigError, match="must be an integer >= 0"):
    threads.Threads(**sizes).validate()


ONE = threads.Threads(inter_op=1, intra_op=1)


def _config(model="seed_cnn", batch=32, **kw):
  return training.TrainConfig(model=model, batch_size=batch, **kw)


@pytest.mark.parametrize("batch,cores,shards", [
    (64, 2, 2), (64, 16, 2), (500, 2, 2), (20000, 4, 4), (32, 2, 2), (32, 4, 2),
    (16, 2, 2), (15, 2, 2), (8, 2, 1), (1, 2, 1), (500, 1, 1)])
def test_a_batch_gets_one_shard_per_core_up_to_its_unit_count(batch, cores, shards):
  plan = threads.plan(_config(batch=batch), cores=cores)
  assert plan == threads.Plan(threads.Threads(inter_op=shards, intra_op=1), shards)


def test_a_batch_norm_model_is_one_unit_so_one_shard():
  assert threads.plan(_config("conv4k3:linear-bn-relu-flatten-dense10", 256),
                      cores=4).batch_shards == 1


def test_shards_and_threads_asked_for_replace_the_automatic_choice():
  assert threads.plan(_config(batch=256), cores=2, shards=4) == threads.Plan(
      threads.Threads(inter_op=4, intra_op=1), 4)
  # A thread size left out beside one given keeps its automatic value.
  assert threads.plan(_config(batch=64), cores=2, inter_op=3) == threads.Plan(
      threads.Threads(inter_op=3, intra_op=1), 2)
  assert threads.plan(_config(batch=64), cores=2, intra_op=0) == threads.Plan(
      threads.Threads(inter_op=2, intra_op=0), 2)


def test_several_devices_get_tensorflows_threads_and_one_shard():
  assert threads.plan(_config(batch=64), cores=2, one_cpu_device=False) == threads.Plan(
      threads.Threads(), 1)


@pytest.mark.parametrize("intra", [0, 2])
def test_deterministic_runs_refuse_an_operation_split_over_threads(intra):
  with pytest.raises(ConfigError, match="--deterministic needs one intra-op thread"):
    threads.plan(_config(deterministic=True), cores=2, intra_op=intra)
  assert threads.plan(_config(deterministic=True), cores=2, intra_op=1).threads.intra_op == 1


def test_cpu_cores_counts_the_cores_this_process_may_use():
  assert 1 <= threads.cpu_cores() <= (os.cpu_count() or 1)


@pytest.mark.parametrize("batch,cores,asked,used", [(32, 2, 1000, 2), (20000, 2, 1000, 8),
                                                    (64, 2, 3, 2)])
def test_shards_asked_for_are_bound_by_the_batch_and_the_machine(batch, cores, asked, used):
  assert threads.plan(_config(batch=batch), cores=cores, shards=asked).batch_shards == used
