"""Matching, permutation and CKA on cases with known answers."""

import numpy as np
import pytest
import tensorflow as tf

import tfcnn
from tfcnn.analysis import cka, comparison, matching, permute, seeds


def test_permuted_filters_are_recovered_exactly_with_correlation_one(rng):
  acts_a = rng.normal(size=(20, 5, 5, 8))
  perm = rng.permutation(8)
  acts_b = acts_a[..., perm]          # B's unit j is A's unit perm[j]
  m = matching.match(matching.activation_correlation(acts_a, acts_b))
  np.testing.assert_array_equal(perm[m.permutation], np.arange(8))
  np.testing.assert_allclose(m.similarities, 1.0)
  assert m.stats()["fraction_above_0.9"] == 1.0


def test_identity_gives_same_order_fraction_one(rng):
  kernel = rng.normal(size=(3, 3, 4, 6))
  stats = matching.match(matching.weight_similarity(kernel, kernel)).stats()
  assert stats["same_order_fraction"] == 1.0 and stats["mean"] == pytest.approx(1.0)
  assert stats["same_order_chance"] == pytest.approx(1 / 6)


def test_weight_similarity_applies_the_previous_permutation_to_inputs(rng):
  a = rng.normal(size=(3, 3, 4, 5))
  input_perm = np.array([2, 0, 3, 1])
  b = np.empty_like(a)
  b[:, :, input_perm, :] = a           # B's input channel perm[i] is A's channel i
  assert not np.allclose(np.diag(matching.weight_similarity(a, b)), 1.0)
  np.testing.assert_allclose(np.diag(matching.weight_similarity(a, b, input_perm)), 1.0)


def test_greedy_semi_matching_may_reuse_a_unit():
  s = np.array([[0.9, 0.8], [0.95, 0.1]])
  m = matching.match(s)
  assert m.permutation.tolist() == [1, 0]      # one-to-one: 0.8 + 0.95
  assert m.greedy.tolist() == [0, 0]           # both prefer B's unit 0
  assert m.stats()["greedy_distinct_fraction"] == 0.5


def test_dead_units_correlate_zero(rng):
  a = rng.normal(size=(50, 3))
  b = a.copy()
  b[:, 1] = 0.0
  corr = matching.activation_correlation(a, b)
  assert np.all(np.isfinite(corr)) and corr[1, 1] == 0.0


def test_permuting_a_trained_network_keeps_its_logits():
  net = tfcnn.build_model("fashion_cnn", seed=3)
  x = tf.random.stateless_uniform([8, 28, 28, 1], seed=[4, 4])
  before = net(x).numpy()
  rng = np.random.default_rng(0)
  for i in permute.conv_layer_indices(net):
    # Non-trivial batch-norm statistics so their permutation matters.
    for layer in net.layers[i + 1:i + 2]:
      for v in layer.variables:
        v.assign(rng.uniform(0.5, 1.5, size=v.shape).astype(np.float32))
  before = net(x).numpy()
  for i in permute.conv_layer_indices(net):
    permute.permute_layer(net, i, rng.permutation(net.layers[i].filters))
  assert np.max(np.abs(net(x).numpy() - before)) <= 1e-5


def test_compare_finds_a_permuted_copy_and_checks_it():
  net_a = tfcnn.build_model("seed_cnn", seed=1)
  net_b = comparison.clone(net_a)
  rng = np.random.default_rng(1)
  perms = {}
  for i in permute.conv_layer_indices(net_b):
    perms[i] = rng.permutation(net_b.layers[i].filters)
    permute.permute_layer(net_b, i, perms[i])
  images = tfcnn.data.pipeline.scale(tfcnn.data.load("mnist_sample").test_images[:64]).numpy()
  report = comparison.compare(net_a, net_b, images)
  for entry in report["layers"]:
    want = np.argsort(perms[entry["index"]])   # A's filter i sits at B's argsort(perm)[i]
    assert entry["activations"]["permutation"] == want.tolist()
    assert entry["weights"]["permutation"] == want.tolist()
    assert entry["activations"]["mean"] == pytest.approx(1.0)
    assert entry["weight_distance"]["after_alignment"] == pytest.approx(0.0, abs=1e-6)
    assert entry["weight_distance"]["before_alignment"] > 0.5
  assert report["permutation_check"]["max_abs_logit_change"] <= 1e-5
  assert report["cka"]["sanity_accuracy"] == 1.0
  for layer in report["cka"]["per_layer"]:
    assert layer["linear_cka"] == pytest.approx(1.0, abs=1e-6)


def test_representation_layers_are_block_outputs():
  assert comparison.representation_layers(tfcnn.build_model("seed_cnn")) == [0, 1, 2, 3, 4, 6, 7]
  fashion = tfcnn.build_model("fashion_cnn")
  names = [fashion.layers[i].name for i in comparison.representation_layers(fashion)]
  assert names[:3] == ["relu_2", "relu_5", "maxpool_6"] and names[-2:] == ["relu_19", "dense_21"]


def test_cka_invariances_and_a_hand_computed_value(rng):
  x = rng.normal(size=(40, 6))
  q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
  assert cka.linear_cka(x, 3.7 * x @ q) == pytest.approx(1.0)
  assert cka.rbf_cka(x, 3.7 * x @ q) == pytest.approx(1.0)
  assert cka.svcca(x, 3.7 * x @ q, max_dims=6) == pytest.approx(1.0)
  # Hand-computed: x = [1, 2, 3, 4], y = [1, 2, 3, 5] (1-D, n = 4).
  # Centred: x = [-1.5, -.5, .5, 1.5], y = [-1.75, -.75, .25, 2.25];
  # (xᵀy)² / (xᵀx · yᵀy) = 6.5² / (5 · 8.75) = 0.965714...
  assert cka.linear_cka(np.array([[1.], [2.], [3.], [4.]]),
                        np.array([[1.], [2.], [3.], [5.]])) == pytest.approx(42.25 / 43.75)
  assert cka.linear_cka(x, rng.normal(size=(40, 6))) < 0.5


def test_minibatch_cka_agrees_with_full_cka_on_large_batches(rng):
  x = rng.normal(size=(400, 10))
  y = x @ rng.normal(size=(10, 10)) + 0.5 * rng.normal(size=(400, 10))
  full = cka.linear_cka(x, y)
  assert cka.minibatch_cka(x, y, batch_size=400) == pytest.approx(full, abs=0.05)
  assert cka.minibatch_cka(x, y, batch_size=50) == pytest.approx(full, abs=0.05)
  assert cka.minibatch_cka(x, x, batch_size=50) == pytest.approx(1.0)


def test_sanity_accuracy_and_seed_statistics():
  assert cka.sanity_accuracy(np.array([[0.9, 0.1], [0.95, 0.2]])) == 0.5
  spread = seeds.accuracy_spread([0.9, 0.92, 0.94])
  assert spread["mean"] == pytest.approx(0.92) and spread["std"] == pytest.approx(0.02)
  assert seeds.disagreement([1, 2, 3, 4], [1, 2, 0, 4]) == 0.25


def test_gram_based_measures_equal_the_feature_based_ones(rng):
  x, y = rng.normal(size=(60, 7, 7, 3)), rng.normal(size=(60, 20))
  gx, gy = cka.gram(x), cka.gram(y)
  kx, ky = cka.kernels(gx), cka.kernels(gy)
  both = cka.compare_kernels(kx, ky)
  assert both["linear_cka"] == pytest.approx(cka.linear_cka(x, y))
  assert both["rbf_cka"] == pytest.approx(cka.rbf_cka(x, y))
  assert both["minibatch_cka"] == pytest.approx(cka.minibatch_cka(x, y))
  # SVCCA through the Gram matrix = SVCCA through an SVD of the features.
  flat = x.reshape(60, -1) - x.reshape(60, -1).mean(axis=0)
  u, s, _ = np.linalg.svd(flat, full_matrices=False)
  needed = int(np.searchsorted(np.cumsum(s**2) / np.sum(s**2), 0.99) + 1)
  assert cka.principal_basis(gx, 0.99, 1000)[1] == needed
  assert both["svcca_needed"][0] == needed and both["svcca_dims"][0] == min(needed, 15)


def test_svcca_reports_when_its_cap_cut_directions(rng):
  x = rng.normal(size=(40, 30))
  result = cka.svcca_from_grams(cka.gram(x), cka.gram(x @ rng.normal(size=(30, 30))))
  assert result["cap"] == 10 and result["dims"] == [10, 10]
  assert min(result["needed"]) > 10


def test_unbiased_minibatch_cka_can_be_negative_for_unrelated_representations():
  values = [cka.minibatch_cka(np.random.default_rng(s).normal(size=(40, 3)),
                              np.random.default_rng(s + 1000).normal(size=(40, 3)), 20)
            for s in range(20)]
  assert min(values) < 0 < max(values)


def test_compare_excludes_dead_units_from_live_statistics():
  net_a = tfcnn.build_model("conv6k3-maxpool2-conv8k3-flatten-dense10", seed=1)
  net_b = comparison.clone(net_a)
  for net in (net_a, net_b):
    net.layers[0].bias.assign(np.array([0, 0, 0, -100, 0, 0], np.float32))  # filter 3: dead
  images = tfcnn.data.pipeline.scale(tfcnn.data.load("mnist_sample").test_images[:30]).numpy()
  entry = comparison.compare(net_a, net_b, images)["layers"][0]
  assert entry["live"] == [5, 5] and entry["activations"]["live_pairs"] == 5
  assert entry["activations"]["live_mean"] == pytest.approx(1.0)
  assert entry["activations"]["mean"] == pytest.approx(5 / 6)   # the dead pair correlates 0
  assert entry["activations"]["same_index_mean"] == pytest.approx(5 / 6)


def test_compare_is_plain_json():
  import json
  net = tfcnn.build_model("conv6k3-maxpool2-conv8k3-flatten-dense10", seed=1)
  images = tfcnn.data.pipeline.scale(tfcnn.data.load("mnist_sample").test_images[:20]).numpy()
  report = comparison.compare(net, tfcnn.build_model(net.spec, seed=2), images)
  assert json.loads(json.dumps(report)) == report
