"""The default workdir: one folder per learned configuration."""

import dataclasses

from experiments import train
from tfcnn import training

BASE = training.TrainConfig()


def test_the_default_workdir_names_dataset_model_seed_and_a_digest():
  assert train.default_workdir(BASE) == f"runs/mnist_sample-seed_cnn-seed0-{BASE.digest()}"
  assert len(BASE.digest()) == 8


def test_changing_what_is_learned_changes_the_folder():
  other = dataclasses.replace(BASE, learning_rate=BASE.learning_rate * 2)
  assert train.default_workdir(other) != train.default_workdir(BASE)
  assert train.default_workdir(dataclasses.replace(BASE)) == train.default_workdir(BASE)


def test_custom_specs_that_share_a_long_prefix_get_different_folders():
  prefix = "conv8k3-conv8k3-conv8k3-conv8k3-conv8k3-conv8k3-flatten-"
  a = dataclasses.replace(BASE, model=prefix + "dense10")
  b = dataclasses.replace(BASE, model=prefix + "dense32-dense10")
  assert train.default_workdir(a) != train.default_workdir(b)
  assert "custom" in train.default_workdir(a)


def test_a_preset_and_its_spec_are_the_same_learning():
  from tfcnn import spec
  assert dataclasses.replace(BASE, model=spec.PRESETS["seed_cnn"]).digest() == BASE.digest()
