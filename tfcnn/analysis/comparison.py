"""Comparing two trained networks of the same architecture on a probe set.

:func:`compare` answers, per conv layer: do the runs learn the same filters
(matched by weights and by activations), in the same order (the
same-order fraction against chance 1/k), and how does that compare with an
untrained network (the null baseline)? It checks that the found alignment is
a true re-parameterisation (B's logits unchanged) and reports
representational similarity (CKA variants, SVCCA) for every layer pair.
"""

import numpy as np
import tensorflow as tf

from tfcnn import model as model_lib
from tfcnn.analysis import cka, matching, permute
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


def clone(net: model_lib.Sequential) -> model_lib.Sequential:
  """A copy of `net` with its own variables (same spec, seed and values)."""
  from tfcnn import spec
  copy = spec.build(net.spec, seed=net.seed, input_shape=net.input_shape)
  for target, source in zip(copy.variables, net.variables):
    target.assign(source)
  return copy


def outputs(net: model_lib.Sequential, images: np.ndarray,
            batch_size: int = 250) -> list[np.ndarray]:
  """Every layer's output on `images` (float32 ``[n, h, w, 1]``), in numpy."""
  chunks = [net.call_with_outputs(tf.constant(images[i:i + batch_size]), training=False)
            for i in range(0, len(images), batch_size)]
  return [np.concatenate([c[j].numpy() for c in chunks]) for j in range(len(net.layers))]


def _relative_distance(a: np.ndarray, b: np.ndarray) -> float:
  return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-12))


def compare(net_a: model_lib.Sequential, net_b: model_lib.Sequential, images: np.ndarray,
            with_representations: bool = True) -> dict:
  """Compares two nets of one architecture on probe `images`; JSON-ready dict.

  Keys: ``layers`` (per conv layer: ``weights`` and ``activations`` matching
  statistics with permutations, ``weight_distance`` before/after alignment),
  ``permutation_check`` (max |Δ logits| after aligning B); not JSON:
  ``aligned_model`` (B re-ordered to A) and ``activation_correlations``
  (conv layer index → ``[k_a, k_b]`` matrix); ``cka`` (layer
  names, linear CKA matrix, per-layer linear/RBF/minibatch CKA and SVCCA of
  corresponding layers, sanity accuracy).
  """
  if net_a.spec != net_b.spec:
    raise ValueError(f"different architectures: {net_a.spec!r} vs {net_b.spec!r}")
  acts_a, acts_b = outputs(net_a, images), outputs(net_b, images)
  aligned = clone(net_b)
  report = {"layers": [], "activation_correlations": {}}
  previous_weight_perm = None
  for i in permute.conv_layer_indices(net_a):
    conv_a, conv_b = net_a.layers[i], net_b.layers[i]
    by_weights = matching.match(matching.weight_similarity(
        conv_a.kernel.numpy(), conv_b.kernel.numpy(), previous_weight_perm))
    previous_weight_perm = by_weights.permutation
    correlation = matching.activation_correlation(acts_a[i], acts_b[i])
    by_acts = matching.match(correlation)
    permute.permute_layer(aligned, i, by_acts.permutation)
    report["activation_correlations"][i] = correlation
    report["layers"].append({
        "index": i, "name": conv_a.name, "filters": conv_a.filters,
        "weights": by_weights.stats(), "activations": by_acts.stats()})
  # Weight distances once every layer is aligned (inputs included).
  for entry in report["layers"]:
    i = entry["index"]
    unaligned = _relative_distance(net_a.layers[i].kernel.numpy(), net_b.layers[i].kernel.numpy())
    entry["weight_distance"] = {
        "before_alignment": unaligned,
        "after_alignment": _relative_distance(net_a.layers[i].kernel.numpy(),
                                              aligned.layers[i].kernel.numpy())}
  logits_b = net_b(tf.constant(images[:500]), training=False).numpy()
  logits_aligned = aligned(tf.constant(images[:500]), training=False).numpy()
  report["permutation_check"] = {
      "max_abs_logit_change": float(np.max(np.abs(logits_b - logits_aligned)))}
  report["aligned_model"] = aligned
  if with_representations:
    chosen = representation_layers(net_a)
    reps_a, reps_b = [acts_a[i] for i in chosen], [acts_b[i] for i in chosen]
    linear = cka.similarity_matrix(reps_a, reps_b)
    report["cka"] = {
        "layers": [net_a.layers[i].name for i in chosen],
        "linear_matrix": linear.tolist(),
        "sanity_accuracy": cka.sanity_accuracy(linear),
        "per_layer": [{"layer": net_a.layers[i].name,
                       "linear_cka": float(linear[k, k]),
                       "rbf_cka": cka.rbf_cka(a, b),
                       "minibatch_cka": cka.minibatch_cka(a, b),
                       "svcca": cka.svcca(a, b)}
                      for k, (i, a, b) in enumerate(zip(chosen, reps_a, reps_b))],
    }
  return report


def within_run_cka(net: model_lib.Sequential, images: np.ndarray) -> dict:
  """Linear CKA between every pair of one network's representation layers."""
  chosen = representation_layers(net)
  acts = outputs(net, images)
  reps = [acts[i] for i in chosen]
  return {"layers": [net.layers[i].name for i in chosen],
          "linear_matrix": cka.similarity_matrix(reps, reps).tolist()}
