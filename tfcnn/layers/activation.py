"""An activation function as a layer of its own (e.g. after batch norm)."""

import tensorflow as tf

from tfcnn import activations
from tfcnn.layers import base


class Activation(base.Layer):
  """Applies the activation called `activation` element-wise."""

  def __init__(self, activation: str | activations.Activation, name: str | None = None,
               seed=None):
    name_, function, known = activations.resolve(activation)
    super().__init__(name=name or name_, seed=seed)
    self.activation_name, self.activation, self.activation_known = name_, function, known

  def _forward(self, x: tf.Tensor, training) -> tf.Tensor:
    del training
    return self.activation(x)

  def spec_token(self) -> str:
    return self._activation_token()[1:]
