"""A study's results reach TensorBoard: sessions per condition with metrics, and figures."""

from tensorboard.backend.event_processing import event_accumulator

from tfcnn.analysis import study_tensorboard


def _cell(condition, width, matched):
  stat = lambda v: {"mean": v, "low": v, "high": v}
  return {"condition": condition, "width": width,
          "test_accuracy": {"mean": 0.97},
          "summary": {"layers": [{"name": "conv_0", "statistics": {
              "matched_activations": stat(matched), "matched_activations_live": stat(matched),
              "same_order_fraction": stat(0.03), "matched_weights": stat(0.6)}}],
              "representations": [{"name": "conv_0", "linear_cka": stat(0.99)}]}}


def test_each_condition_is_a_session_with_its_metrics_and_the_summary_is_an_image(tmp_path):
  import matplotlib.pyplot as plt
  figures = tmp_path / "figures"
  figures.mkdir()
  plt.imsave(figures / "summary.png", [[0.0, 1.0]])
  plt.imsave(figures / "w1-both_conv_0_matched_filters.png", [[1.0, 0.0]])
  report = {"cells": {"w1-init": _cell("init", 1.0, 0.8), "w1-both": _cell("both", 1.0, 0.7),
                      "w1-none": {"condition": "none"}}}
  study_tensorboard.write(report, tmp_path / "tb", figures)
  assert sorted(p.name for p in (tmp_path / "tb").iterdir() if p.is_dir()) == [
      "summary", "w1-both", "w1-init"]
  events = event_accumulator.EventAccumulator(str(tmp_path / "tb" / "w1-both"),
                                              size_guidance={event_accumulator.TENSORS: 0})
  events.Reload()
  tags = set(events.Tags()["tensors"])
  assert {"study/conv_0/matched_activations", "study/conv_0/linear_cka",
          "matched_filters/conv_0"} <= tags
  import tensorflow as tf
  value = float(tf.make_ndarray(events.Tensors("study/conv_0/matched_activations")[0].tensor_proto))
  assert abs(value - 0.7) < 1e-6
