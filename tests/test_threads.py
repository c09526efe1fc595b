"""Thread-pool sizes are set before TensorFlow starts, and refused clearly after."""

import os
import subprocess
import sys
import textwrap

import pytest

from tests.experiments.script_runner import ROOT
from tfcnn import spec, threads
from tfcnn.errors import ConfigError


def _python(code: str) -> subprocess.CompletedProcess:
  """Runs `code` in a fresh interpreter (this one's TensorFlow has long started)."""
  return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                        capture_output=True, text=True, timeout=120,
                        env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"})


@pytest.mark.parametrize("script", ["train", "benchmark", "reproducibility"])
def test_sizes_set_before_anything_runs_are_the_ones_in_force(script):
  # Importing the library and a script (its flags) must not start TensorFlow.
  result = _python(f"""
      import experiments.{script}
      import tensorflow as tf
      from tfcnn import threads
      threads.configure(threads.Threads(inter_op=1, intra_op=1))
      print(tf.reduce_sum(tf.ones([3])).numpy(), threads.current())
      threads.configure(threads.Threads(inter_op=1, intra_op=1))   # the same again: fine
  """)
  assert result.returncode == 0, result.stderr[-2000:]
  assert "3.0 Threads(inter_op=1, intra_op=1)" in result.stdout


def test_other_sizes_after_tensorflow_started_are_a_config_error():
  result = _python("""
      import tensorflow as tf
      from tfcnn import threads
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


@pytest.mark.parametrize("batch,cores,shards", [
    (64, 2, 2), (64, 16, 8), (500, 2, 2), (20000, 4, 4),
    (16, 2, 2), (15, 2, 1), (8, 2, 1), (1, 2, 1), (500, 1, 1)])
def test_a_batch_gets_one_shard_per_core_of_at_least_eight_examples(batch, cores, shards):
  assert threads.batch_shards(batch, cores) == shards


@pytest.mark.parametrize("model,batch,shards", [("seed_cnn", 64, 2), ("mlp", 500, 2),
                                                ("seed_cnn", 20000, 2), ("seed_cnn", 16, 2)])
def test_a_sharded_step_gets_an_inter_op_thread_per_shard_and_one_intra_op_thread(
    model, batch, shards):
  plan = threads.for_training(spec.parse(model), (28, 28, 1), batch, cores=2)
  assert plan == threads.Plan(threads.Threads(inter_op=shards, intra_op=1), shards)


@pytest.mark.parametrize("model,batch,expected", [
    ("mlp", 500, ONE),                            # 172 MFLOP per step
    ("seed_cnn", 64, threads.Threads()),          # 1,073 MFLOP
    ("seed_cnn", 16, threads.Threads()),          # 268 MFLOP
    # 3 x 2 x 784 x 10 = 47,040 FLOP per image: the limit falls between 4,251 and 4,252.
    ("flatten-dense10", 4251, ONE),
    ("flatten-dense10", 4252, threads.Threads()),
])
def test_unsharded_small_steps_get_one_thread_per_pool_and_the_rest_tensorflows_choice(
    model, batch, expected):
  # One core: nothing to shard over.
  plan = threads.for_training(spec.parse(model), (28, 28, 1), batch, cores=1)
  assert plan == threads.Plan(expected, 1)


def test_shards_asked_for_replace_the_automatic_count():
  layers = spec.parse("seed_cnn")
  assert threads.for_training(layers, (28, 28, 1), 64, cores=2, shards=1) == threads.Plan(
      threads.Threads(), 1)
  assert threads.for_training(layers, (28, 28, 1), 64, cores=2, shards=4) == threads.Plan(
      threads.Threads(inter_op=4, intra_op=1), 4)
  # The mlp's step unsharded is small: one thread.
  assert threads.for_training(spec.parse("mlp"), (28, 28, 1), 500, cores=2,
                              shards=1) == threads.Plan(ONE, 1)
  # Too small to shard on many cores: one thread each.
  assert threads.for_training(spec.parse("mlp"), (28, 28, 1), 8, cores=64) == threads.Plan(ONE, 1)


def test_cpu_cores_counts_the_cores_this_process_may_use():
  assert 1 <= threads.cpu_cores() <= (os.cpu_count() or 1)
