"""Activation maximisation of one unit inside its receptive field, at a fixed contrast.

What a conv filter sees is its receptive field: a unit of conv_0 (3x3
kernel) sees 3x3 pixels, so its "ideal input" is a 3x3 image, not stripes
over 28x28. :func:`maximize_units` takes the unit at the centre of each
filter's map and optimises only the pixels of its receptive field, the
rest held at mid-grey. Unconstrained, the best input of a near-linear unit
is the sign of its weights: pure black and white. Here the pattern's
distance from mid-grey is fixed instead (``‖x − 0.5‖₂ = contrast × 0.5 ×
√pixels``: `contrast` = 1 would allow every pixel to be black or white), so
the answer is the *direction* the unit prefers, drawn in the grey range —
for a linear unit exactly its kernel. Each image is compared with test
images on the same unit (:func:`test_unit_activations`): the median and the
best image's strongest position.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from tfcnn import geometry, model as model_lib, optimizers
from tfcnn.layers import Conv2D
from tfcnn.summaries import grids
from tfcnn.visualize import patches


@dataclasses.dataclass(frozen=True)
class UnitMaxConfig:
  """Settings of :func:`maximize_units`."""
  steps: int = 150
  learning_rate: float = 0.05
  contrast: float = 0.5     # fraction of the largest possible distance from mid-grey
  seed: int = 0


def _centre(net: model_lib.Sequential, layer_index: int):
  """``(row, col, box, filters)``: the centre unit of the layer's map, its receptive-field
  box ``(top, left, bottom, right)`` (:func:`patches.receptive_box`) and the filter count.

  Raises:
    ValueError: if the layer has no spatial map.
  """
  row = geometry.layer_geometry(net.layers, net.input_shape)[layer_index]
  if row.receptive_field is None or len(row.output_shape) != 3:
    raise ValueError(f"layer {net.layers[layer_index].name} has no spatial map")
  r, c = row.output_shape[0] // 2, row.output_shape[1] // 2
  box = patches.receptive_box(r, c, row.receptive_field, row.jump, row.start)
  return r, c, box, row.output_shape[-1]


def _unit(net, layer_index, images, r, c, before_activation: bool = False) -> tf.Tensor:
  """The centre unit's value ``[batch, k]``; `before_activation`: the conv layer's value
  before its activation function (so that a unit at ReLU's zero still has a gradient)."""
  x = images
  for layer in net.layers[:layer_index]:
    x = layer(x, training=False)
  conv = net.layers[layer_index]
  if before_activation and isinstance(conv, Conv2D):
    x = tf.nn.conv2d(x, conv.kernel, conv.strides, conv.padding.upper())
    x = tf.nn.bias_add(x, conv.bias) if conv.use_bias else x
  else:
    x = conv(x, training=False)
  return x[:, r, c, :]                        # [batch, k]


def maximize_units(net: model_lib.Sequential, layer_index: int,
                   config: UnitMaxConfig = UnitMaxConfig()) -> tuple[np.ndarray, np.ndarray]:
  """Receptive-field images ``[k, rf, rf, c]`` in [0, 1] (see the module docstring) and
  the centre unit's activation on each (image ``i`` for filter ``i``).

  Raises:
    ValueError: if the layer has no spatial map.
  """
  h, w, channels = net.input_shape
  r, c, (top, left, bottom, right), k = _centre(net, layer_index)
  y0, y1, x0, x1 = max(top, 0), min(bottom, h), max(left, 0), min(right, w)
  mask = np.zeros((1, h, w, channels), np.float32)
  mask[:, y0:y1, x0:x1, :] = 1.0
  mask = tf.constant(mask)
  radius = config.contrast * 0.5 * float(np.sqrt(mask.numpy().sum()))
  params = tf.Variable(tf.random.stateless_normal([k, h, w, channels], [config.seed, 1]))
  optimizer = optimizers.Adam(config.learning_rate)
  optimizer.build([params])

  def to_image(p):
    d = p * mask
    d = d * radius / tf.maximum(tf.norm(tf.reshape(d, [k, -1]), axis=1), 1e-12)[:, None, None,
                                                                              None]
    return tf.clip_by_value(0.5 + d, 0.0, 1.0)

  @tf.function
  def run():
    for _ in tf.range(config.steps):
      with tf.GradientTape() as tape:
        activation = tf.linalg.diag_part(_unit(net, layer_index, to_image(params), r, c,
                                               before_activation=True))
        loss = -tf.reduce_sum(activation)
      optimizer.apply(tape.gradient(loss, [params]), [params])
    images = to_image(params)
    return images, tf.linalg.diag_part(_unit(net, layer_index, images, r, c))

  images, activation = run()
  return images.numpy()[:, y0:y1, x0:x1, :], activation.numpy()


def test_unit_activations(net: model_lib.Sequential, layer_index: int, images: np.ndarray,
                          batch_size: int = 500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """``(median, best, firing)`` per filter ``[k]``: over `images`, each image's strongest
  single unit of the filter's map (any position) — the median image's and the best
  image's — and how often the filter fires (the fraction of image positions above 0)."""
  strongest, firing, count = [], 0.0, 0
  for start in range(0, len(images), batch_size):
    x = tf.constant(images[start:start + batch_size])
    for layer in net.layers[:layer_index + 1]:
      x = layer(x, training=False)
    strongest.append(tf.reduce_max(x, axis=[1, 2]).numpy())
    firing = firing + tf.reduce_sum(tf.cast(x > 0, tf.float64), axis=[0, 1, 2]).numpy()
    count += int(np.prod(x.shape[:3]))
  strongest = np.concatenate(strongest)
  return np.median(strongest, axis=0), strongest.max(axis=0), firing / count


def report(images: np.ndarray, achieved: np.ndarray, median: np.ndarray,
           best: np.ndarray, firing: np.ndarray | None = None) -> dict:
  """Per filter and summary, JSON-plain: the unit's activation on its image, the test
  set's median and best, which filters are dead (never positive on the test images), the
  fraction of live filters above the median / best, and the fraction of pixels within 2%
  of black or white."""
  dead = best <= 0
  live = ~dead
  return {"achieved": achieved.tolist(), "test_median": median.tolist(),
          "test_best": best.tolist(), "dead": dead.tolist(),
          "firing": (firing if firing is not None else np.zeros_like(best)).tolist(),
          "fraction_above_test_median": float(np.mean(achieved[live] > median[live]))
          if live.any() else 0.0,
          "fraction_above_test_best": float(np.mean(achieved[live] > best[live]))
          if live.any() else 0.0,
          "saturation": float(np.mean((images <= 0.02) | (images >= 0.98)))}


DEAD_RGB = (0.55, 0.0, 0.0)   # a dead filter's tile: dark red, never a picture


def grid(images: np.ndarray, dead: np.ndarray, min_tile: int = 28) -> tf.Tensor:
  """The images ``[k, rf, rf, c]`` as one RGB grid ``[H, W, 3]``, dead filters' tiles dark red."""
  colours = np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images.copy()
  colours[dead] = DEAD_RGB
  return grids.tile_images(colours, min_tile)
