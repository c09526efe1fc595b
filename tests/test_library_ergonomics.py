"""Using tfcnn from a program of one's own: what a researcher reaches for first."""

import numpy as np
import pytest
import tensorflow as tf

import tfcnn
from tfcnn import layers


def test_the_library_entry_points_are_reachable_from_import_tfcnn():
  assert callable(tfcnn.load_model) and callable(tfcnn.analysis.compare)
  assert callable(tfcnn.analysis.cka.linear_cka)


def test_tuple_kernel_sizes_and_activation_functions_are_accepted():
  conv = layers.Conv2D(8, (3, 3), strides=(1, 1), activation=tf.nn.relu)
  pool = layers.MaxPool2D((2, 2))
  model = tfcnn.Sequential([conv, pool, layers.Flatten(), layers.Dense(10, activation=None)])
  model.build((28, 28, 1))
  assert model.spec == "conv8k3:relu-maxpool2-flatten-dense10:linear"
  with pytest.raises(ValueError, match="square windows"):
    layers.Conv2D(8, (3, 5))


def test_a_custom_activation_function_works_but_has_no_spec():
  def swish(x):
    return x * tf.sigmoid(x)
  model = tfcnn.Sequential([layers.Flatten(), layers.Dense(4, activation=swish),
                            layers.Dense(2)])
  y = model(tf.ones([3, 2, 2, 1]))
  np.testing.assert_allclose(y.shape, [3, 2])
  assert "swish" in str(model.summary())
  with pytest.raises(tfcnn.SpecError, match="activation 'swish' is a Python function"):
    _ = model.spec


class Scale(layers.Layer):
  """A custom layer with one weight and no spec token."""

  def _create_variables(self, input_shape):
    self.scale = self._add_variable("scale", (input_shape[-1],), "ones")

  def _forward(self, x, training):
    return x * self.scale


def test_a_custom_layer_composes_counts_its_parameters_and_names_what_is_missing():
  model = tfcnn.Sequential([layers.Conv2D(4, 3), Scale(), layers.Flatten(), layers.Dense(2)])
  model.build((6, 6, 1))
  summary = model.summary()
  row = summary.layers[1]
  assert row.token == "Scale" and row.num_params == 4
  assert summary.num_params == 40 + 4 + 16 * 4 * 2 + 2
  with pytest.raises(tfcnn.SpecError, match=r"scale \(Scale\) does not define spec_token\(\)"):
    _ = model.spec

  class NoForward(layers.Layer):
    pass
  with pytest.raises(NotImplementedError, match=r"does not define _forward\(self, x, training\)"):
    tfcnn.Sequential([NoForward()])(tf.ones([1, 2]))
  with pytest.raises(TypeError, match="not a tfcnn layer"):
    tfcnn.Sequential([tf.Module()])


def test_calling_a_model_builds_it_for_summary_and_export(tmp_path):
  model = tfcnn.Sequential([layers.Conv2D(4, 3, activation="relu"), layers.Flatten(),
                            layers.Dense(10)], seed=1)
  model(tf.zeros([2, 12, 12, 1]))
  assert model.input_shape == (12, 12, 1)
  assert "10x10x4" in str(model.summary())
  tfcnn.export_saved_model(model, tmp_path / "saved")
  served = tf.saved_model.load(str(tmp_path / "saved"))
  assert served.signatures["serving_default"](images=tf.zeros([1, 12, 12, 1]))


def test_train_reports_progress_to_a_callback_a_program_can_use(tmp_path, capsys):
  heard = []
  config = tfcnn.TrainConfig(model="conv4k3-maxpool2-flatten-dense10", epochs=2, train_limit=128,
                             test_limit=64, batch_size=32)
  tfcnn.train(config, tmp_path / "run", progress=heard.append,
              run=tfcnn.RunConfig(log_every_steps=2))
  assert [(i.epoch, i.batch) for i in heard] == [(1, 0), (1, 2), (1, 4), (2, 0), (2, 2), (2, 4)]
  assert heard[-1].images_per_second > 0 and 0 <= heard[-1].accuracy <= 1
  assert capsys.readouterr().err == ""     # a callback instead of the console


def test_train_prints_progress_by_default(tmp_path, capsys):
  config = tfcnn.TrainConfig(model="conv4k3-maxpool2-flatten-dense10", epochs=1, train_limit=128,
                             test_limit=64, batch_size=32)
  tfcnn.train(config, tmp_path / "run", run=tfcnn.RunConfig(log_every_steps=2))
  err = capsys.readouterr().err
  assert "epoch 1/1 batch 2/4" in err and "epoch 1/1: train loss" in err
