"""The study's design, its summary over pairs and nulls, and training dynamics."""

import numpy as np
import pytest

import tfcnn
from tfcnn import spec
from tfcnn.analysis import comparison, profiles, snapshots, study

SMALL = "conv6k3-maxpool2-conv8k3-flatten-dense10"


def test_each_condition_varies_one_source_and_shares_the_fixed_run():
  cells = {c.condition: c for c in study.design(["init", "data", "both", "none"], [1, 2, 3])}
  assert [(r.init_seed, r.data_seed) for r in cells["init"].runs] == [(1, 1), (2, 1), (3, 1)]
  assert [(r.init_seed, r.data_seed) for r in cells["data"].runs] == [(1, 1), (1, 2), (1, 3)]
  assert [(r.init_seed, r.data_seed) for r in cells["both"].runs] == [(1, 1), (2, 2), (3, 3)]
  none = cells["none"].runs
  assert none[0] == cells["init"].runs[0] and none[1].repeat and none[1].name.endswith("repeat")
  names = {r.name for c in cells.values() for r in c.runs}
  assert len(names) == 8   # (1, 1) trains once for all conditions


def test_widths_multiply_the_design_and_bad_designs_are_refused():
  cells = study.design(["both"], [1, 2], widths=[0.5, 2])
  assert [c.name for c in cells] == ["w0.5-both", "w2-both"]
  assert cells[0].runs[0].name == "w0.5-init1-data1"
  for bad in (dict(conditions=["init", "order"], seeds=[1, 2]),
              dict(conditions=["init"], seeds=[1]), dict(conditions=["init"], seeds=[1, 1]),
              dict(conditions=["init"], seeds=[1, 2], widths=[0])):
    with pytest.raises(ValueError):
      study.design(**bad)


def test_widen_scales_filters_and_hidden_units_but_not_the_logits():
  assert spec.widen("seed_cnn", 2).startswith("conv64k3:relu-maxpool2-conv128k3")
  assert "dense128:relu-dense10:linear" in spec.widen("seed_cnn", 2)
  assert spec.widen("seed_cnn", 1) == spec.canonical("seed_cnn")
  assert spec.widen("conv3k3-flatten-dense10", 0.1).startswith("conv1k3")
  with pytest.raises(tfcnn.SpecError):
    spec.widen("seed_cnn", 0)


def _images(n=40):
  return tfcnn.data.pipeline.scale(tfcnn.data.load("mnist_sample").test_images[:n]).numpy()


def test_summary_of_identical_runs_is_perfect_and_far_from_the_null():
  images = _images()
  nets = [tfcnn.build_model(SMALL, seed=1) for _ in range(3)]
  untrained = [tfcnn.build_model(SMALL, seed=s) for s in (50, 51)]
  p = [profiles.profile(n, images) for n in nets]
  u = [profiles.profile(n, images) for n in untrained]
  pairs = {(a, b): comparison.compare_profiles(p[a], p[b]) for a, b in [(0, 1), (0, 2), (1, 2)]}
  nulls = [comparison.compare_profiles(x, y) for x in p for y in u]
  summary = study.summarize(pairs, nulls)
  conv0 = summary["layers"][0]
  assert conv0["name"] == "conv_0" and conv0["filters"] == 6
  matched = conv0["statistics"]["matched_activations"]
  assert matched["mean"] == pytest.approx(1.0) and matched["low"] == pytest.approx(1.0)
  assert matched["null_mean"] < 0.9 and matched["p_value"] == pytest.approx(1 / 7)
  assert conv0["statistics"]["same_order_fraction"]["mean"] == 1.0
  assert conv0["same_order_test"]["fixed_points"] == 18 and conv0["same_order_test"]["p_value"] < 1e-9
  assert conv0["statistics"]["between_minus_within"]["mean"] > 0
  linear = summary["representations"][0]["linear_cka"]
  assert linear["mean"] == pytest.approx(1.0) and linear["null_mean"] < 1.0


def test_dynamics_of_runs_from_one_initialisation(tmp_path):
  images = _images(20)
  runs = []
  for seed in (1, 2):
    net = tfcnn.build_model(SMALL, seed=7)   # the same initial weights
    epochs = [profiles.profile(net, images, with_representations=False)]
    kernel = net.layers[0].kernel
    kernel.assign(kernel + 0.1 * tf_normal(kernel.shape, seed))   # "training"
    epochs.append(profiles.profile(net, images, with_representations=False))
    runs.append(epochs)
  result = study.dynamics(runs)
  conv0 = result["layers"][0]
  assert result["epochs"] == [0, 1]
  assert conv0["matched"][0] == pytest.approx(1.0) and conv0["same_order"][0] == 1.0
  assert conv0["distance_from_init"][0] == 0.0 and conv0["distance_from_init"][1] > 0
  assert conv0["same_as_final"][1] == 1.0


def tf_normal(shape, seed):
  return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_snapshots_round_trip_and_refuse_another_architecture(tmp_path):
  net = tfcnn.build_model(SMALL, seed=3)
  snapshots.save(net, snapshots.path(tmp_path, 2))
  back = snapshots.load(tmp_path / "epoch_002.npz", SMALL)
  for a, b in zip(net.variables, back.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  with pytest.raises(ValueError, match="does not fit"):
    snapshots.load(tmp_path / "epoch_002.npz", "conv4k3-flatten-dense10")
