"""Each layer timed alone: one row per layer, its shape, its products' FLOPs."""

import pytest

from benchmarks.layer_times import layer_times
from tfcnn import geometry, spec

SPEC = "conv4k3-maxpool2-conv6k3-flatten-dense10"


def test_one_row_per_layer_with_its_output_shape_and_positive_times():
  rows = layer_times(SPEC, (28, 28, 1), batch=8, steps=2, repeats=1)
  summary = spec.build(SPEC).summary((28, 28, 1), print_fn=None)
  assert [r["layer"] for r in rows] == ["conv4k3:relu", "maxpool2", "conv6k3:relu", "flatten",
                                        "dense10:linear"]
  assert [tuple(r["output_shape"]) for r in rows] == [tuple(g.output_shape)
                                                      for g in summary.layers]
  for r in rows:
    assert r["forward_s"] > 0 and r["forward_backward_s"] > 0


def test_flops_count_the_products_training_computes():
  rows = layer_times(SPEC, (28, 28, 1), batch=8, steps=1, repeats=1)
  layers = spec.build(SPEC).layers
  conv1 = geometry.forward_flops(layers[:1], (28, 28, 1)) * 8
  conv2 = geometry.forward_flops(layers[2:3], (13, 13, 4)) * 8
  dense = geometry.forward_flops(layers[4:], (11 * 11 * 6,)) * 8
  # No input gradient at the first layer; forward + two gradient products elsewhere.
  assert [r["train_flops"] for r in rows] == [2 * conv1, 0, 3 * conv2, 0, 3 * dense]
  for r in rows:
    assert r["gflops"] == pytest.approx(r["train_flops"] / r["forward_backward_s"] / 1e9)


def test_bfloat16_layers_run_in_bfloat16():
  rows = layer_times("flatten-dense10", (28, 28, 1), batch=4, compute_dtype="bfloat16", steps=1,
                     repeats=1)
  assert len(rows) == 2 and rows[1]["train_flops"] == 3 * 2 * 784 * 10 * 4
