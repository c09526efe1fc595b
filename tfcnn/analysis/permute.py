"""Re-ordering a trained network's filters without changing its function.

Permuting the output filters of a conv layer, and the input channels of the
next weight layer the same way, is a re-parameterisation: the network
computes exactly the same logits (up to float rounding). Element-wise layers
in between (activations, pooling, dropout, batch norm — whose parameters are
permuted along) keep channels where they are; a Flatten turns channel ``c``
of an ``[h, w, C]`` map into features ``(y * w + x) * C + c``.
"""

from typing import Sequence

import numpy as np
import tensorflow as tf

from tfcnn import model as model_lib
from tfcnn.layers import BatchNorm, Conv2D, Dense, Flatten


def permute_layer(net: model_lib.Sequential, layer_index: int, permutation: Sequence[int]) -> None:
  """Re-orders the filters of conv layer `layer_index` of `net` in place.

  New filter ``i`` is old filter ``permutation[i]``.

  Raises:
    ValueError: if the layer is not a conv layer or the permutation is bad.
  """
  layers = net.layers
  conv = layers[layer_index]
  if not isinstance(conv, Conv2D):
    raise ValueError(f"layer {layer_index} ({conv.name}) is not a conv layer")
  perm = np.asarray(permutation)
  if sorted(perm.tolist()) != list(range(conv.filters)):
    raise ValueError(f"not a permutation of {conv.filters} filters")
  conv.kernel.assign(tf.gather(conv.kernel, perm, axis=3))
  if conv.use_bias:
    conv.bias.assign(tf.gather(conv.bias, perm))
  shape = conv.output_shape(conv._input_shape)
  for layer in layers[layer_index + 1:]:
    if isinstance(layer, BatchNorm):
      for v in layer.variables:
        v.assign(tf.gather(v, perm))
    elif isinstance(layer, Flatten):
      h, w, c = shape
      perm = (np.arange(h * w)[:, None] * c + perm[None, :]).reshape(-1)
    elif isinstance(layer, Conv2D):
      layer.kernel.assign(tf.gather(layer.kernel, perm, axis=2))
      return
    elif isinstance(layer, Dense):
      layer.kernel.assign(tf.gather(layer.kernel, perm, axis=0))
      return
    shape = layer.output_shape(shape)


def conv_layer_indices(net: model_lib.Sequential) -> list[int]:
  """Positions of the conv layers of `net`."""
  return [i for i, layer in enumerate(net.layers) if isinstance(layer, Conv2D)]
