"""Which input pixels a prediction rests on: saliency and Grad-CAM.

* Saliency (Simonyan et al. 2014): ``|∂ logit_c / ∂ x|``, the largest over
  the input channels — how much each pixel could change the class score.
* Grad-CAM (Selvaraju et al. 2017) at a conv layer with maps ``A_k``:
  weights ``α_k`` = the spatial mean of ``∂ logit_c / ∂ A_k``, map
  ``ReLU(Σ_k α_k A_k)``, resized to the input — where, at that layer's
  resolution, the evidence for class ``c`` lies.

Both are computed for a batch in one pass, for the class each image is
given (its prediction, or its true label).
"""

import numpy as np
import tensorflow as tf

from tfcnn import model as model_lib


def _normalise(maps: tf.Tensor) -> np.ndarray:
  """Each ``[h, w]`` map scaled to [0, 1] by its own maximum (zero maps stay zero)."""
  peak = tf.reduce_max(maps, axis=[1, 2], keepdims=True)
  return tf.math.divide_no_nan(maps, peak).numpy()


def _class_scores(logits: tf.Tensor, classes) -> tf.Tensor:
  return tf.gather(logits, tf.constant(np.asarray(classes), tf.int32), axis=1, batch_dims=1)


def saliency(net: model_lib.Sequential, images: np.ndarray, classes) -> np.ndarray:
  """``[n, h, w]`` in [0, 1]: the saliency of each image for its class in `classes`."""
  x = tf.convert_to_tensor(images, tf.float32)
  with tf.GradientTape() as tape:
    tape.watch(x)
    score = _class_scores(net(x, training=False), classes)
  gradient = tape.gradient(score, x)
  return _normalise(tf.reduce_max(tf.abs(gradient), axis=-1))


def grad_cam(net: model_lib.Sequential, layer_index: int, images: np.ndarray,
             classes) -> np.ndarray:
  """``[n, h, w]`` in [0, 1]: Grad-CAM of conv layer `layer_index`, at the input's size.

  Raises:
    ValueError: if the layer's output is not a ``[h, w, c]`` map.
  """
  x = tf.convert_to_tensor(images, tf.float32)
  for layer in net.layers[:layer_index + 1]:
    x = layer(x, training=False)
  if x.shape.rank != 4:
    raise ValueError(f"layer {net.layers[layer_index].name} has no spatial maps for Grad-CAM")
  maps = x
  with tf.GradientTape() as tape:
    tape.watch(maps)
    y = maps
    for layer in net.layers[layer_index + 1:]:
      y = layer(y, training=False)
    score = _class_scores(y, classes)
  weights = tf.reduce_mean(tape.gradient(score, maps), axis=[1, 2], keepdims=True)
  cam = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1))
  size = np.shape(images)[1:3]
  return _normalise(tf.image.resize(cam[..., tf.newaxis], size, method="bilinear")[..., 0])
