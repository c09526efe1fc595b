"""Thread-pool sizes are set before TensorFlow starts, and refused clearly after."""

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


@pytest.mark.parametrize("model,batch,expected", [
    ("mlp", 500, threads.Threads(inter_op=1, intra_op=1)),          # 172 MFLOP per step
    ("seed_cnn", 64, threads.Threads()),                            # 1,073 MFLOP
    ("seed_cnn", 16, threads.Threads()),                            # 268 MFLOP
    # 3 x 2 x 784 x 10 = 47,040 FLOP per image: the limit falls between 4,251 and 4,252.
    ("flatten-dense10", 4251, threads.Threads(inter_op=1, intra_op=1)),
    ("flatten-dense10", 4252, threads.Threads()),
])
def test_small_training_steps_get_one_thread_per_pool_and_the_rest_tensorflows_choice(
    model, batch, expected):
  assert threads.for_training(spec.parse(model), (28, 28, 1), batch) == expected
