"""Fully connected layers and the Flatten that feeds them."""

import math

import tensorflow as tf

from tfcnn import activations, initializers
from tfcnn.layers import base


class Flatten(base.Layer):
  """Reshapes ``[batch, d1, d2, ...]`` to ``[batch, d1 * d2 * ...]``."""

  def output_shape(self, input_shape: base.Shape) -> base.Shape:
    return (math.prod(input_shape),)

  def _forward(self, x: tf.Tensor, training) -> tf.Tensor:
    del training
    return tf.reshape(x, [-1, math.prod(x.shape[1:])])

  def spec_token(self) -> str:
    return "flatten"


class Dense(base.Layer):
  """``activation(x @ kernel + bias)`` with an ``(in, out)`` kernel."""

  def __init__(self, units: int, activation: str | activations.Activation | None = None,
               use_bias: bool = True, kernel_init: str = "glorot_uniform",
               bias_init: str = "zeros", name: str | None = None,
               seed: initializers.Seed | None = None):
    super().__init__(name=name, seed=seed)
    self.units = base.check_positive_int(units, "units")
    self.activation_name, self.activation, self.activation_known = activations.resolve(
        activation)
    self.use_bias = bool(use_bias)
    self.kernel_init = kernel_init
    self.bias_init = bias_init
    initializers.get(kernel_init), initializers.get(bias_init)

  def output_shape(self, input_shape: base.Shape) -> base.Shape:
    self._require_rank(input_shape, 1, "flat [features]")
    return (self.units,)

  def num_params(self, input_shape: base.Shape) -> int:
    return input_shape[-1] * self.units + (self.units if self.use_bias else 0)

  def _create_variables(self, input_shape: base.Shape) -> None:
    self.kernel = self._add_variable(
        "kernel", (input_shape[-1], self.units), self.kernel_init)
    if self.use_bias:
      self.bias = self._add_variable("bias", (self.units,), self.bias_init)

  def _forward(self, x: tf.Tensor, training) -> tf.Tensor:
    del training
    y = tf.matmul(x, tf.cast(self.kernel, x.dtype))
    if self.use_bias:
      y = tf.nn.bias_add(y, tf.cast(self.bias, x.dtype))
    return self.activation(y)

  def spec_token(self) -> str:
    token = f"dense{self.units}" + ("" if self.use_bias else "nobias")
    return token + self._activation_token()
