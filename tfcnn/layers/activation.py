"""An activation function as a layer of its own (e.g. after batch norm)."""

import tensorflow as tf

from tfcnn import activations
from tfcnn.layers import base


class Activation(base.Layer):
  """Applies the activation called `activation` element-wise."""

  def __init__(self, activation: str, name: str | None = None, seed=None):
    super().__init__(name=name or activation, seed=seed)
    self.activation_name = activation
    self.activation = activations.get(activation)

  def _forward(self, x: tf.Tensor, training) -> tf.Tensor:
    del training
    return self.activation(x)

  def spec_token(self) -> str:
    return self.activation_name
