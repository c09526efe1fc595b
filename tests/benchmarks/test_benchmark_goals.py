"""The benchmark's verdict on its goals."""

import pytest

from benchmarks.benchmark_goals import goals


def _result(batch, dtype, *ratios, tfcnn_rate=1000.0):
  """A result whose Keras settings ran at tfcnn_rate / each ratio."""
  return {"batch_size": batch, "dtype": dtype, "tfcnn_images_per_second": tfcnn_rate,
          "keras": {f"jit_compile={i}": {"ratio": r, "images_per_second": tfcnn_rate / r}
                    for i, r in enumerate(ratios)}}


def _mlp(dtype, threads, seconds, implementation="tfcnn"):
  return {"implementation": implementation, "dtype": dtype, "threads": threads,
          "seconds": seconds}


def test_ratio_goals_are_held_against_the_faster_keras_setting():
  report = {"results": [_result(64, "float32", 1.5, 1.3), _result(500, "float32", 1.3, 1.6),
                        _result(20000, "float32", 2.6, 2.5), _result(500, "bfloat16", 0.1)]}
  verdicts = goals(report)
  assert [{k: v[k] for k in ("goal", "measured", "met")} for v in verdicts] == [
      {"goal": "tfcnn/Keras >= 1.4 at batch 64", "measured": 1.3, "met": False},
      {"goal": "tfcnn/Keras >= 1.25 at batch 500", "measured": 1.3, "met": True}]
  # The rate each goal needs: the goal times the faster Keras rate.
  assert [v["needs_images_per_second"] for v in verdicts] == pytest.approx(
      [1.4 * 1000 / 1.3, 1.25 * 1000 / 1.3])
  assert all("cores_times_one_core" not in v for v in verdicts)   # not timed in this run


def test_ratio_goals_carry_what_the_cores_give_at_one_core_alone_speed():
  result = _result(500, "float32", 1.2, tfcnn_rate=8000.0)
  result["tfcnn_one_core"] = {"images_per_second": 4500.0, "cores_times_one_core": 9000.0}
  [verdict] = goals({"results": [result]})
  assert verdict["met"] is False
  assert verdict["needs_images_per_second"] == pytest.approx(1.25 * 8000 / 1.2)
  assert verdict["cores_times_one_core"] == 9000.0


def test_batch_sizes_without_a_goal_and_runs_without_keras_give_no_verdict():
  report = {"results": [_result(16, "float32", 9.0), {"batch_size": 64, "dtype": "float32",
                                                        "keras": {}}]}
  assert goals(report) == []


def test_bfloat16_speedup_and_mlp_goals_take_the_best_tfcnn_thread_setting():
  report = {"results": [], "bfloat16_speedup": {"64": 9.0, "500": 1.34},
            "mlp_35_epochs": [_mlp("float32", "tensorflow", 9.8), _mlp("float32", 1, 7.2),
                              _mlp("bfloat16", "tensorflow", 7.3),
                              _mlp("float32", "openblas", 1.0, implementation="numpy")]}
  verdicts = goals(report)
  assert verdicts[0] == pytest.approx(
      {"goal": "bfloat16 >= 1.35x float32 at batch 500", "measured": 1.34, "met": False})
  assert verdicts[1:] == [
      {"goal": "mlp float32 under 7.3 s (threads 1)", "measured": 7.2, "met": True},
      {"goal": "mlp bfloat16 under 7.3 s (threads tensorflow)", "measured": 7.3, "met": False}]


def test_whole_process_goals():
  report = {"results": [], "whole_process": {
      "tensorboard": {"default": {"ratio": 1.08}, "fashion": {"ratio": 1.2}},
      "keras": {"ratio": 1.4}}}
  assert [(v["goal"], v["met"]) for v in goals(report)] == [
      ("default with TensorBoard <= 1.1x without", True),
      ("fashion with TensorBoard <= 1.1x without", False),
      ("whole main job >= 1.5x Keras fit + evaluate", False)]
