"""The two seeds: initial weights apart from the order and augmentation of the data."""

import dataclasses

import numpy as np
import pytest

import tfcnn
from tfcnn import training
from tfcnn.data import pipeline

BASE = training.TrainConfig(model="conv4k3-maxpool2-flatten-dense10", epochs=1, batch_size=32,
                            train_limit=128, test_limit=64, seed=3)


def _initial_weights(config):
  return [v.numpy() for v in training.TrainState(config, (28, 28, 1), 1).model.variables]


def test_both_seeds_default_to_the_seed(tmp_path):
  explicit = dataclasses.replace(BASE, init_seed=3, data_seed=3)
  assert (explicit.weights_seed, explicit.order_seed) == (BASE.weights_seed, BASE.order_seed) == (3, 3)
  a = training.train(BASE, tmp_path / "a")
  b = training.train(explicit, tmp_path / "b")
  assert a["weights_sha256"] == b["weights_sha256"]
  assert (a["init_seed"], a["data_seed"]) == (3, 3)


def test_the_data_seed_changes_the_order_and_not_the_initial_weights(tmp_path):
  other = dataclasses.replace(BASE, data_seed=7)
  for x, y in zip(_initial_weights(BASE), _initial_weights(other)):
    np.testing.assert_array_equal(x, y)
  assert not np.array_equal(pipeline.epoch_order(128, BASE.order_seed, 0),
                            pipeline.epoch_order(128, other.order_seed, 0))
  assert training.train(BASE, tmp_path / "a")["weights_sha256"] != \
      training.train(other, tmp_path / "b")["weights_sha256"]


def test_the_init_seed_changes_the_initial_weights_and_not_the_order():
  other = dataclasses.replace(BASE, init_seed=7)
  assert other.order_seed == BASE.order_seed
  assert not all(np.array_equal(x, y)
                 for x, y in zip(_initial_weights(BASE), _initial_weights(other)))


def test_a_workdir_remembers_its_seeds_and_loads_with_them(tmp_path):
  config = dataclasses.replace(BASE, init_seed=11, data_seed=12)
  training.train(config, tmp_path)
  with pytest.raises(tfcnn.ConfigError, match="data_seed: 12 -> 13"):
    training.train(dataclasses.replace(config, data_seed=13), tmp_path)
  loaded = training.load_model(tmp_path)
  trained = training.TrainState(config, (28, 28, 1), 1)
  trained.checkpoint.read(str(max(tmp_path.glob("ckpt/ckpt-*.index"))).removesuffix(".index"))
  for x, y in zip(loaded.variables, trained.model.variables):
    np.testing.assert_array_equal(x.numpy(), y.numpy())


@pytest.mark.parametrize("field", ["init_seed", "data_seed"])
def test_seeds_out_of_range_are_refused(field):
  with pytest.raises(tfcnn.ConfigError, match=f"{field} must be in"):
    dataclasses.replace(BASE, **{field: -1}).validate()
