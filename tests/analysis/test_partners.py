"""Each filter's partner in other runs: found, scored, and drawn in our channel order."""

import numpy as np
import pytest

import tfcnn
from tfcnn.analysis import comparison, partners

SPEC = "conv6k3-maxpool2-conv5k3-flatten-dense10"


@pytest.fixture(scope="module")
def images():
  return np.random.default_rng(0).uniform(size=(40, 28, 28, 1)).astype(np.float32)


def test_a_reordered_copy_gives_each_filter_its_old_self_with_correlation_one(images):
  net = tfcnn.build_model(SPEC, seed=3, input_shape=(28, 28, 1))
  shuffle = {0: [2, 0, 5, 1, 4, 3], 2: [4, 3, 0, 2, 1]}
  copy = comparison.aligned_copy(net, shuffle)   # its filter i is our filter shuffle[i]
  found = partners.partners(net, {"copy": copy}, images)
  for layer, order in (("conv_0", shuffle[0]), ("conv_2", shuffle[2])):
    for f, [p] in enumerate(found[layer]):
      assert p.run == "copy" and order[p.filter] == f
      assert p.similarity == pytest.approx(1.0, abs=1e-6)
      # the partner's kernel, inputs re-ordered to ours, is our own kernel
      index = int(layer.split("_")[1])
      np.testing.assert_allclose(p.kernel, net.layers[index].kernel.numpy()[..., f], atol=1e-6)


def test_an_independent_network_is_matched_below_one(images):
  net = tfcnn.build_model(SPEC, seed=3, input_shape=(28, 28, 1))
  other = tfcnn.build_model(SPEC, seed=4, input_shape=(28, 28, 1))
  found = partners.partners(net, {"other": other}, images)
  similarities = [p.similarity for [p] in found["conv_2"]]
  assert sorted(p.filter for [p] in found["conv_2"]) == list(range(5))   # a one-to-one matching
  assert max(similarities) < 0.999


def test_another_architecture_is_refused(images):
  net = tfcnn.build_model(SPEC, seed=3, input_shape=(28, 28, 1))
  other = tfcnn.build_model("conv6k3-maxpool2-conv4k3-flatten-dense10", seed=3,
                            input_shape=(28, 28, 1))
  with pytest.raises(ValueError, match="another architecture"):
    partners.partners(net, {"small": other}, images)


def test_runs_are_chosen_in_turn_from_each_kind_of_difference():
  ours = {"model": "m", "init_seed": 1, "data_seed": 1}
  candidates = {
      "init1-data2": {"model": "m", "init_seed": 1, "data_seed": 2},
      "init1-data3": {"model": "m", "init_seed": 1, "data_seed": 3},
      "init2-data1": {"model": "m", "init_seed": 2, "data_seed": 1},
      "init2-data2": {"model": "m", "init_seed": 2, "data_seed": 2},
      "repeat": {"model": "m", "init_seed": 1, "data_seed": 1},       # our seeds: left out
      "wider": {"model": "w", "init_seed": 2, "data_seed": 2},        # another model: left out
  }
  assert partners.choose_runs(ours, candidates, 4) == {
      "init1-data2": "same init", "init2-data1": "same data", "init2-data2": "both differ",
      "init1-data3": "same init"}
  assert list(partners.choose_runs(ours, candidates, 2)) == ["init1-data2", "init2-data1"]
  assert partners.relation({"seed": 1}, {"seed": 2}) == "both differ"
