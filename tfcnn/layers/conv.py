"""2-D convolution on ``tf.nn.conv2d``, kernels in HWIO layout."""

import tensorflow as tf

from tfcnn import activations, initializers
from tfcnn.layers import base


class Conv2D(base.Layer):
  """A 2-D convolution, ``activation(conv2d(x, kernel) + bias)``.

  Input ``[batch, height, width, channels]``; kernel ``[k, k, channels,
  filters]`` (HWIO); output ``[batch, height', width', filters]``.

  Example:
    >>> conv = Conv2D(32, 3, activation="relu")
    >>> conv(tf.zeros([1, 28, 28, 1])).shape
    TensorShape([1, 26, 26, 32])
  """

  def __init__(self, filters: int, kernel_size: int | tuple[int, int],
               strides: int | tuple[int, int] = 1,
               padding: str = "valid", activation: str | activations.Activation | None = None,
               use_bias: bool = True, kernel_init: str = "glorot_uniform",
               bias_init: str = "zeros", name: str | None = None,
               seed: initializers.Seed | None = None):
    super().__init__(name=name, seed=seed)
    self.filters = base.check_positive_int(filters, "filters")
    self.kernel_size = base.check_window(kernel_size, "kernel_size")
    self.strides = base.check_window(strides, "strides")
    self.padding = base.check_padding(padding)
    self.activation_name, self.activation, self.activation_known = activations.resolve(
        activation)
    self.use_bias = bool(use_bias)
    self.kernel_init = kernel_init
    self.bias_init = bias_init
    initializers.get(kernel_init), initializers.get(bias_init)
    self.window = (self.kernel_size, self.strides, self.padding)

  def output_shape(self, input_shape: base.Shape) -> base.Shape:
    return self._spatial_output_shape(input_shape, self.filters, "kernel")

  def num_params(self, input_shape: base.Shape) -> int:
    k, c = self.kernel_size, input_shape[-1]
    return k * k * c * self.filters + (self.filters if self.use_bias else 0)

  def _create_variables(self, input_shape: base.Shape) -> None:
    k = self.kernel_size
    self.kernel = self._add_variable(
        "kernel", (k, k, input_shape[-1], self.filters), self.kernel_init)
    if self.use_bias:
      self.bias = self._add_variable("bias", (self.filters,), self.bias_init)

  def _forward(self, x: tf.Tensor, training) -> tf.Tensor:
    del training
    y = tf.nn.conv2d(x, tf.cast(self.kernel, x.dtype), self.strides,
                     self.padding.upper())
    if self.use_bias:
      y = tf.nn.bias_add(y, tf.cast(self.bias, x.dtype))
    return self.activation(y)

  def spec_token(self) -> str:
    token = f"conv{self.filters}k{self.kernel_size}"
    if self.strides != 1:
      token += f"s{self.strides}"
    if self.padding == "same":
      token += "same"
    if not self.use_bias:
      token += "nobias"
    return token + self._activation_token()
