"""Batch normalisation with moving statistics for inference."""

import tensorflow as tf

from tfcnn.layers import base


class BatchNorm(base.Layer):
  """Batch normalisation over every axis but the last (channels).

  With ``training=True`` it normalises with the batch's mean and (biased)
  variance and moves the moving statistics towards them,
  ``moving = momentum * moving + (1 - momentum) * batch``; with
  ``training=False`` it uses the moving statistics. Defaults match Keras's
  ``BatchNormalization`` (momentum 0.99, epsilon 1e-3).

  Variables in order: ``gamma``, ``beta`` (trainable), ``moving_mean``,
  ``moving_variance`` (not trainable).
  """

  def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3,
               name: str | None = None, seed=None):
    super().__init__(name=name, seed=seed)
    if not 0.0 <= momentum < 1.0:
      raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if epsilon <= 0.0:
      raise ValueError(f"epsilon must be positive, got {epsilon!r}")
    self.momentum = float(momentum)
    self.epsilon = float(epsilon)

  def num_params(self, input_shape: base.Shape) -> int:
    return 4 * input_shape[-1]

  def num_trainable_params(self, input_shape: base.Shape) -> int:
    return 2 * input_shape[-1]

  def _create_variables(self, input_shape: base.Shape) -> None:
    c = (input_shape[-1],)
    self.gamma = self._add_variable("gamma", c, "ones")
    self.beta = self._add_variable("beta", c, "zeros")
    self.moving_mean = self._add_variable("moving_mean", c, "zeros", trainable=False)
    self.moving_variance = self._add_variable("moving_variance", c, "ones",
                                              trainable=False)

  def _forward(self, x: tf.Tensor, training) -> tf.Tensor:
    if isinstance(training, bool):
      return self._train(x) if training else self._infer(x)
    return tf.cond(tf.convert_to_tensor(training), lambda: self._train(x),
                   lambda: self._infer(x))

  def _normalize(self, x, mean, variance):
    dtype = x.dtype
    return tf.nn.batch_normalization(
        x, tf.cast(mean, dtype), tf.cast(variance, dtype),
        tf.cast(self.beta, dtype), tf.cast(self.gamma, dtype), self.epsilon)

  def _train(self, x: tf.Tensor) -> tf.Tensor:
    axes = list(range(len(x.shape) - 1))
    mean, variance = tf.nn.moments(tf.cast(x, tf.float32), axes)
    m = self.momentum
    self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
    self.moving_variance.assign(self.moving_variance * m + variance * (1.0 - m))
    return self._normalize(x, mean, variance)

  def _infer(self, x: tf.Tensor) -> tf.Tensor:
    return self._normalize(x, self.moving_mean, self.moving_variance)

  def spec_token(self) -> str:
    return "bn"
