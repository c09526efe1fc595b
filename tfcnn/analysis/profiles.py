"""What comparing a network needs from it on a probe set, computed once.

A study compares every network with several others; :func:`profile` runs
the network on the probe images once and keeps, per conv layer, the
standardised channel activations (a correlation is then one matrix
product) and the live units, and per representation layer the ``n x n``
Gram matrix every CKA variant and SVCCA are computed from.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from tfcnn import model as model_lib
from tfcnn.analysis import cka, statistics
from tfcnn.layers import AvgPool2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D


def representation_layers(net: model_lib.Sequential) -> list[int]:
  """Layers whose outputs count as the network's representations.

  The output of every block: a conv, pool or dense layer, or the last of
  the element-wise layers (batch norm, activation) that follow it. Flatten
  and dropout (copies of their input at inference) are skipped.
  """
  layers = net.layers
  boundary = (Conv2D, MaxPool2D, AvgPool2D, Flatten, Dense, Dropout)
  chosen = []
  for i, layer in enumerate(layers):
    if isinstance(layer, (Flatten, Dropout)):
      continue
    if i + 1 == len(layers) or isinstance(layers[i + 1], boundary):
      chosen.append(i)
  return chosen


def outputs(net: model_lib.Sequential, images: np.ndarray,
            batch_size: int = 250) -> list[np.ndarray]:
  """Every layer's output on `images` (float32 ``[n, h, w, c]``), in numpy."""
  chunks = [net.call_with_outputs(tf.constant(images[i:i + batch_size]), training=False)
            for i in range(0, len(images), batch_size)]
  return [np.concatenate([c[j].numpy() for c in chunks]) for j in range(len(net.layers))]


def standardize(activations: np.ndarray) -> np.ndarray:
  """``[samples, c]`` float64: each channel centred and scaled to unit norm (dead: zeros).

  Every image × position is one sample, so ``za.T @ zb`` is the Pearson
  correlation between the channels of two layers.
  """
  flat = np.asarray(activations, np.float64).reshape(-1, np.shape(activations)[-1])
  flat = flat - flat.mean(axis=0)
  norms = np.linalg.norm(flat, axis=0)
  return flat / np.where(norms > 0, norms, np.inf)


@dataclasses.dataclass
class Profile:
  """One network seen through one probe set (see the module docstring)."""
  spec: str
  names: list[str]                   # every layer's name
  conv: list[int]                    # positions of the conv layers
  kernels: dict[int, np.ndarray]     # conv layer -> HWIO kernel
  standardized: dict[int, np.ndarray]  # conv layer -> [samples, c] (see `standardize`)
  live: dict[int, np.ndarray]        # conv layer -> [c] bool, the unit varies on the probes
  representations: list[int]         # positions of the representation layers
  grams: dict[int, np.ndarray]       # representation layer -> [n, n] uncentred Gram
  _derived: dict = dataclasses.field(default_factory=dict, repr=False)

  def kernels_of(self, i: int) -> cka.Kernels:
    """Representation layer `i`'s centred kernels and principal basis, computed once."""
    if i not in self._derived:
      self._derived[i] = cka.kernels(self.grams[i])
    return self._derived[i]


def profile(net: model_lib.Sequential, images: np.ndarray,
            with_representations: bool = True) -> Profile:
  """Runs `net` on `images` once and keeps what comparisons need."""
  acts = outputs(net, images)
  conv = [i for i, layer in enumerate(net.layers) if isinstance(layer, Conv2D)]
  chosen = representation_layers(net) if with_representations else []
  return Profile(
      spec=net.spec, names=[layer.name for layer in net.layers], conv=conv,
      kernels={i: net.layers[i].kernel.numpy() for i in conv},
      standardized={i: standardize(acts[i]) for i in conv},
      live={i: statistics.live_units(acts[i]) for i in conv},
      representations=chosen, grams={i: cka.gram(acts[i]) for i in chosen})
