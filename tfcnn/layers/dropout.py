"""Dropout with a seeded, checkpointable random stream."""

import tensorflow as tf

from tfcnn.layers import base


class Dropout(base.Layer):
  """Zeroes a `rate` fraction of inputs in training, scaling the rest up.

  The random masks come from a ``tf.random.Generator`` seeded from the
  layer's seed. The generator's state is a variable, so it is saved in
  checkpoints: a resumed run draws the same masks as an uninterrupted one.
  With ``training=False`` the layer is the identity.
  """

  def __init__(self, rate: float, name: str | None = None, seed=None):
    super().__init__(name=name, seed=seed)
    if not 0.0 <= rate < 1.0:
      raise ValueError(f"dropout rate must be in [0, 1), got {rate!r}")
    self.rate = float(rate)

  def _create_variables(self, input_shape: base.Shape) -> None:
    del input_shape
    self.generator = tf.random.Generator.from_seed(
        self.seed[0] * 1_000_003 + self.seed[1])

  def _forward(self, x: tf.Tensor, training) -> tf.Tensor:
    if self.rate == 0.0:
      return x
    if isinstance(training, bool):
      return self._drop(x) if training else x
    return tf.cond(tf.convert_to_tensor(training), lambda: self._drop(x),
                   lambda: x)

  def _drop(self, x: tf.Tensor) -> tf.Tensor:
    seed = self.generator.make_seeds(1)[:, 0]
    return tf.nn.experimental.stateless_dropout(x, self.rate, seed)

  def spec_token(self) -> str:
    return f"dropout{self.rate:g}"
