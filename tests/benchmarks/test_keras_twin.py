"""The benchmark's Keras twin has the architecture of the tfcnn spec it copies."""

import types

import numpy as np
import pytest

from benchmarks import keras_twin
from tfcnn import layers, spec

EVERY_KIND = ("conv8k3s2same:tanh-bn-relu-maxpool2-conv4k3nobias-avgpool2s1same-dropout0.25-"
              "flatten-dense12:sigmoid-dense10nobias")


@pytest.mark.parametrize("model_spec", ["seed_cnn", "mlp", EVERY_KIND])
def test_twin_has_the_same_layer_shapes_and_trainable_parameters(model_spec):
  twin = keras_twin.keras_model(model_spec)
  ours = spec.build(model_spec).summary((28, 28, 1), print_fn=None)
  assert [tuple(layer.output.shape[1:]) for layer in twin.layers] == [
      tuple(row.output_shape) for row in ours.layers]
  assert sum(int(np.prod(w.shape)) for w in twin.trainable_weights) == ours.num_trainable_params


def test_biases_and_activations_follow_the_spec():
  twin = keras_twin.keras_model("conv4k3nobias:tanh-flatten-dense10:sigmoid")
  conv, _, dense = twin.layers
  assert not conv.use_bias and conv.activation.__name__ == "tanh"
  assert dense.use_bias and dense.activation.__name__ == "sigmoid"


def test_a_layer_without_a_twin_is_an_error_not_left_out(monkeypatch):
  class Mystery(layers.Layer):
    pass

  monkeypatch.setattr(keras_twin.spec, "build",
                      lambda s: types.SimpleNamespace(layers=[layers.Flatten(), Mystery()]))
  with pytest.raises(ValueError, match="no Keras twin for tfcnn layer Mystery"):
    keras_twin.keras_model("anything")
