"""Activation maximisation: synthesise the input a filter responds to most.

Gradient ascent on the input (Erhan et al. 2009; Chollet, *Deep Learning
with Python* 5.4), with the regularisers that make readable images on small
grey inputs (Olah et al., *Feature Visualization*, Distill 2017): random
jitter (transformation robustness), an L2 penalty on the pixels and a total
variation penalty. Pixels are ``sigmoid(parameters)``, so they stay in
[0, 1] like real inputs; the optional Fourier parameterisation describes the
image by its spectrum scaled by 1/frequency (a decorrelated basis), which
favours smooth, large-scale structure.

All filters of a layer are optimised together as one batch (image ``i``
maximises filter ``i``) in a single ``tf.function``, so a layer takes
seconds on a CPU. Everything is drawn from stateless seeds: the same seed
gives the same images.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from tfcnn import model as model_lib, optimizers


@dataclasses.dataclass(frozen=True)
class MaximizeConfig:
  """Settings of :func:`maximize`; the defaults suit 28x28 grey inputs."""
  steps: int = 200
  learning_rate: float = 0.1
  jitter: int = 2                    # random shift in pixels per step (0: off)
  l2: float = 1e-3                   # penalty on (pixel - 0.5)^2, mean over pixels
  total_variation: float = 0.05      # penalty on neighbouring-pixel differences
  parameterization: str = "fourier"  # "fourier" (default: measured better) or "pixel"
  seed: int = 0
  init_scale: float = 0.1            # std of the seeded noise the parameters start from


def _fourier_scale(h: int, w: int) -> np.ndarray:
  fy = np.fft.fftfreq(h)[:, None]
  fx = np.fft.rfftfreq(w)[None, :]
  freq = np.sqrt(fx * fx + fy * fy)
  return (1.0 / np.maximum(freq, 1.0 / max(h, w))).astype(np.float32)


def filter_objective(net: model_lib.Sequential, layer_index: int, images: tf.Tensor) -> tf.Tensor:
  """``[k]``: mean activation of filter ``i`` of `layer_index` on image ``i``."""
  x = images
  for layer in net.layers[:layer_index + 1]:
    x = layer(x, training=False)
  k = images.shape[0]
  return tf.reduce_mean(x[..., :k] * tf.eye(k)[:, None, None, :] if x.shape.rank == 4
                        else x[:, :k] * tf.eye(k), axis=list(range(1, x.shape.rank))) * k


def maximize(net: model_lib.Sequential, layer_index: int,
             config: MaximizeConfig = MaximizeConfig()) -> tuple[np.ndarray, np.ndarray]:
  """Images ``[k, h, w, 1]`` in [0, 1] maximising each filter of a layer, and the
  filters' mean activations ``[k]`` on them (without jitter).
  """
  if config.parameterization not in ("pixel", "fourier"):
    raise ValueError("parameterization must be 'pixel' or 'fourier', "
                     f"got {config.parameterization!r}")
  h, w, c = net.input_shape
  out = net.layers[layer_index].output_shape(_shape_before(net, layer_index))
  k = out[-1]
  if config.parameterization == "pixel":
    shape = [k, h, w, c]
  else:
    shape = [k, c, h, w // 2 + 1, 2]
    scale = tf.constant(_fourier_scale(h, w))
  params = tf.Variable(tf.random.stateless_normal(shape, [config.seed, 0]) * config.init_scale)
  optimizer = optimizers.Adam(config.learning_rate)
  optimizer.build([params])

  def to_image(p):
    if config.parameterization == "pixel":
      return tf.sigmoid(p)
    spectrum = tf.complex(p[..., 0], p[..., 1]) * tf.cast(scale, tf.complex64)
    x = tf.signal.irfft2d(spectrum, fft_length=[h, w]) * float(h)
    return tf.sigmoid(tf.transpose(x, [0, 2, 3, 1]))

  @tf.function
  def run():
    for step in tf.range(config.steps):
      with tf.GradientTape() as tape:
        images = to_image(params)
        if config.jitter:
          shifts = tf.random.stateless_uniform([2], [config.seed, step + 1], -config.jitter,
                                               config.jitter + 1, dtype=tf.int32)
          images = tf.roll(images, shifts, axis=[1, 2])
        activation = filter_objective(net, layer_index, images)
        tv = tf.reduce_mean(tf.abs(images[:, 1:] - images[:, :-1])) + \
            tf.reduce_mean(tf.abs(images[:, :, 1:] - images[:, :, :-1]))
        l2 = tf.reduce_mean(tf.square(images - 0.5))
        loss = -tf.reduce_sum(activation) + k * (config.total_variation * tv + config.l2 * l2)
      optimizer.apply(tape.gradient(loss, [params]), [params])
    images = to_image(params)
    return images, filter_objective(net, layer_index, images)

  images, activation = run()
  return images.numpy(), activation.numpy()


def _shape_before(net: model_lib.Sequential, layer_index: int):
  shape = net.input_shape
  for layer in net.layers[:layer_index]:
    shape = layer.output_shape(shape)
  return shape


def best_dataset_activation(net: model_lib.Sequential, layer_index: int, images: np.ndarray,
                            batch_size: int = 500) -> np.ndarray:
  """``[k]``: the highest mean activation of each filter over `images`."""
  best = None
  for start in range(0, len(images), batch_size):
    x = tf.constant(images[start:start + batch_size])
    for layer in net.layers[:layer_index + 1]:
      x = layer(x, training=False)
    means = tf.reduce_max(tf.reduce_mean(x, axis=list(range(1, x.shape.rank - 1)))
                          if x.shape.rank == 4 else x, axis=0).numpy()
    best = means if best is None else np.maximum(best, means)
  return best
