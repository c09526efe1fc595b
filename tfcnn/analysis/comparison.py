"""Comparing two networks of one architecture on a probe set.

:func:`compare_profiles` answers, per conv layer: do the runs learn the
same filters (matched one-to-one by activations and by weights, and
semi-matched many-to-one), in the same order (the same-order fraction, and
the similarity of same-index filters without matching), how well a filter's
best partner in the *other* network compares with its best partner inside
its *own* network (Li et al. 2016's baseline), and which units are dead;
and, per representation layer, linear / RBF / minibatch CKA and SVCCA.
Its result is plain JSON (floats, ints, lists, dicts).

:func:`compare` does the same from two networks and also checks that the
activation matching is a true re-parameterisation (B re-ordered by it
computes the same logits).
"""

import numpy as np
import tensorflow as tf

from tfcnn import model as model_lib
from tfcnn.analysis import cka, matching, permute
from tfcnn.analysis.profiles import Profile, outputs, profile, representation_layers

__all__ = ["aligned_copy", "clone", "compare", "compare_profiles", "outputs", "profile",
           "representation_layers", "within_run_cka"]


def clone(net: model_lib.Sequential) -> model_lib.Sequential:
  """A copy of `net` with its own variables (same spec, seed and values)."""
  from tfcnn import spec
  copy = spec.build(net.spec, seed=net.seed, input_shape=net.input_shape)
  for target, source in zip(copy.variables, net.variables):
    target.assign(source)
  return copy


def aligned_copy(net: model_lib.Sequential,
                 permutations: dict[int, list[int]]) -> model_lib.Sequential:
  """A copy of `net` whose conv layer ``i`` has its filters re-ordered by ``permutations[i]``."""
  copy = clone(net)
  for i, permutation in permutations.items():
    permute.permute_layer(copy, i, permutation)
  return copy


def _relative_distance(a: np.ndarray, b: np.ndarray) -> float:
  return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-12))


def _filter_entry(a: Profile, b: Profile, i: int, previous: np.ndarray | None) -> dict:
  """Everything about conv layer `i`; `previous` is the last layer's weight matching."""
  correlation = a.standardized[i].T @ b.standardized[i]
  by_acts = matching.match(correlation)
  by_weights = matching.match(matching.weight_similarity(a.kernels[i], b.kernels[i], previous))
  live_a, live_b = a.live[i], b.live[i]
  live_pairs = live_a & live_b[by_acts.permutation]
  within = a.standardized[i].T @ a.standardized[i]
  np.fill_diagonal(within, -np.inf)
  best_within = within.max(axis=1) if len(within) > 1 else np.zeros(1)
  acts = by_acts.stats()
  acts.update({
      "same_index_mean": float(np.mean(np.diag(correlation))),
      "live_pairs": int(live_pairs.sum()),
      "live_mean": float(np.mean(by_acts.similarities[live_pairs])) if live_pairs.any() else 0.0,
      "best_between_live": float(np.mean(correlation.max(axis=1)[live_a])) if live_a.any()
      else 0.0,
      "best_within_live": float(np.mean(best_within[live_a])) if live_a.any() else 0.0})
  weights = by_weights.stats()
  weights["same_index_mean"] = float(np.mean(np.diag(
      matching.weight_similarity(a.kernels[i], b.kernels[i]))))
  return {"index": i, "name": a.names[i], "filters": len(live_a),
          "live": [int(live_a.sum()), int(live_b.sum())],
          "weights": weights, "activations": acts}


def _weight_distances(a: Profile, b: Profile, layers: list[dict]) -> None:
  previous = None
  for entry in layers:
    i, perm = entry["index"], np.asarray(entry["activations"]["permutation"])
    kernel_b = b.kernels[i] if previous is None else b.kernels[i][:, :, previous, :]
    entry["weight_distance"] = {
        "before_alignment": _relative_distance(a.kernels[i], b.kernels[i]),
        "after_alignment": _relative_distance(a.kernels[i], kernel_b[..., perm])}
    previous = perm


def compare_profiles(a: Profile, b: Profile, with_representations: bool = True) -> dict:
  """Compares two profiled networks of one architecture; a JSON-plain dict.

  Keys: ``layers`` — per conv layer: ``weights`` and ``activations``
  (:meth:`matching.Matching.stats` plus ``same_index_mean``; activations
  also ``live_pairs``, ``live_mean`` over pairs of live units,
  ``best_between_live`` and ``best_within_live``), ``live`` unit counts,
  ``weight_distance`` before/after aligning B by the activation matching;
  and, if `with_representations`, ``cka``: layer names, the linear CKA
  matrix across layers, Kornblith's sanity accuracy, and per
  representation layer linear/RBF/minibatch CKA and SVCCA (with its kept
  and needed dimensions and cap).

  Raises:
    ValueError: if the architectures differ.
  """
  if a.spec != b.spec:
    raise ValueError(f"different architectures: {a.spec!r} vs {b.spec!r}")
  layers, previous = [], None
  for i in a.conv:
    entry = _filter_entry(a, b, i, previous)
    previous = np.asarray(entry["weights"]["permutation"])
    layers.append(entry)
  _weight_distances(a, b, layers)
  report = {"layers": layers}
  if with_representations and a.representations and b.representations:
    linear = np.array([[cka.linear_cka_from_grams(a.grams[i], b.grams[j])
                        for j in b.representations] for i in a.representations])
    per_layer = [{"layer": a.names[i], **cka.compare_kernels(a.kernels_of(i), b.kernels_of(i))}
                 for i in a.representations]
    report["cka"] = {"layers": [a.names[i] for i in a.representations],
                     "linear_matrix": linear.tolist(),
                     "sanity_accuracy": cka.sanity_accuracy(linear), "per_layer": per_layer}
  return report


def permutation_check(net_b: model_lib.Sequential, report: dict, images: np.ndarray) -> float:
  """Max |Δ logits| of `net_b` re-ordered by the report's activation matchings."""
  aligned = aligned_copy(net_b, {e["index"]: e["activations"]["permutation"]
                                 for e in report["layers"]})
  x = tf.constant(images[:500])
  return float(np.max(np.abs(net_b(x, training=False).numpy()
                             - aligned(x, training=False).numpy())))


def compare(net_a: model_lib.Sequential, net_b: model_lib.Sequential, images: np.ndarray,
            with_representations: bool = True) -> dict:
  """:func:`compare_profiles` of two networks, plus ``permutation_check``.

  ``permutation_check.max_abs_logit_change``: B re-ordered by the activation
  matching should compute the same logits (float rounding aside).
  """
  if net_a.spec != net_b.spec:
    raise ValueError(f"different architectures: {net_a.spec!r} vs {net_b.spec!r}")
  report = compare_profiles(profile(net_a, images, with_representations),
                            profile(net_b, images, with_representations), with_representations)
  report["permutation_check"] = {
      "max_abs_logit_change": permutation_check(net_b, report, images)}
  return report


def within_run_cka(net: model_lib.Sequential, images: np.ndarray) -> dict:
  """Linear CKA between every pair of one network's representation layers."""
  p = profile(net, images)
  grams = [p.grams[i] for i in p.representations]
  return {"layers": [p.names[i] for i in p.representations],
          "linear_matrix": cka.similarity_matrix(grams, grams).tolist()}
