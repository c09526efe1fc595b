"""SavedModel export with the serving signature other tools rely on.

``serving_default``: ``images`` float32 ``[None, h, w, 1]`` in [0, 1] →
``logits`` and ``probabilities``, both float32 ``[None, classes]``. Images
holding NaN or Inf are refused (``InvalidArgumentError``): a network's
output for them is meaningless, yet can look plausible. A batch of no
images gives ``[0, classes]`` outputs.
"""

import os
import shutil
import tempfile

import tensorflow as tf

from tfcnn import geometry, model as model_lib


class _Serving(tf.Module):

  def __init__(self, net: model_lib.Sequential, input_shape):
    super().__init__(name="serving")
    self.net = net
    self.classes = geometry.layer_geometry(net.layers, input_shape)[-1].output_shape[-1]
    self.serve = tf.function(
        self._serve,
        input_signature=[tf.TensorSpec([None, *input_shape], tf.float32, name="images")])

  def _serve(self, images):
    # A signature call does not check shapes against its input signature;
    # without this a wrong-shaped input reaches the conv kernels and aborts
    # the process instead of raising an error.
    images = tf.ensure_shape(images, [None, *self.net.input_shape])
    images = tf.debugging.assert_all_finite(images, "images hold NaN or Inf pixels")
    logits = tf.cond(tf.shape(images)[0] > 0,   # convolutions refuse empty batches
                     lambda: tf.cast(self.net(images, training=False), tf.float32),
                     lambda: tf.zeros([0, self.classes]))
    return {"logits": logits, "probabilities": tf.nn.softmax(logits)}


def export_saved_model(net: model_lib.Sequential, path: str | os.PathLike) -> None:
  """Writes `net` as a SavedModel at `path`, replacing any old one atomically.

  The model is written to a temporary folder beside `path` and renamed into
  place, so a crash never leaves a half-written SavedModel there.
  """
  if net.input_shape is None:
    raise ValueError("build the model before exporting it")
  path = os.fspath(path)
  parent = os.path.dirname(os.path.abspath(path))
  os.makedirs(parent, exist_ok=True)
  tmp = tempfile.mkdtemp(dir=parent, prefix=".saved_model.")
  try:
    module = _Serving(net, net.input_shape)
    tf.saved_model.save(module, tmp, signatures={"serving_default": module.serve})
    if os.path.exists(path):
      old = tmp + ".old"
      os.replace(path, old)
      os.replace(tmp, path)
      shutil.rmtree(old)
    else:
      os.replace(tmp, path)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
