"""Max and average pooling on ``tf.nn.max_pool2d`` / ``tf.nn.avg_pool2d``."""

import tensorflow as tf

from tfcnn.layers import base


class _Pool2D(base.Layer):
  """Shared shape logic of the two pooling layers."""

  _op = None
  _token = ""

  def __init__(self, pool_size: int = 2, strides: int | None = None,
               padding: str = "valid", name: str | None = None, seed=None):
    super().__init__(name=name, seed=seed)
    self.pool_size = base.check_window(pool_size, "pool_size")
    self.strides = base.check_window(self.pool_size if strides is None else strides, "strides")
    self.padding = base.check_padding(padding)
    self.window = (self.pool_size, self.strides, self.padding)

  def output_shape(self, input_shape: base.Shape) -> base.Shape:
    return self._spatial_output_shape(input_shape, input_shape[-1], "window")

  def _forward(self, x: tf.Tensor, training) -> tf.Tensor:
    del training
    return type(self)._op(x, self.pool_size, self.strides, self.padding.upper())

  def spec_token(self) -> str:
    token = f"{self._token}{self.pool_size}"
    if self.strides != self.pool_size:
      token += f"s{self.strides}"
    if self.padding == "same":
      token += "same"
    return token


class MaxPool2D(_Pool2D):
  """Max pooling over `pool_size` windows (stride defaults to the window)."""
  _op = tf.nn.max_pool2d
  _token = "maxpool"


class AvgPool2D(_Pool2D):
  """Average pooling over `pool_size` windows (stride defaults to the window)."""
  _op = tf.nn.avg_pool2d
  _token = "avgpool"
