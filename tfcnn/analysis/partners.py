"""Each filter's partner in other networks: the filter it is matched to, and how well.

The study (:mod:`tfcnn.analysis.study`) reports matchings as statistics over
pairs of runs; a filter card (:mod:`tfcnn.visualize.cards`) wants them per
filter: "filter 5 of this run is filter 12 of that run, activation
correlation 0.93, and these are its weights". :func:`partners` computes that
with the study's own method (Hungarian matching of activation correlations
on the probe images, :func:`tfcnn.analysis.matching.match`), and returns the
partner's kernel with its input channels put in this network's order (the
previous layers re-ordered by their matchings), so the two kernels can be
compared tile by tile.
"""

import dataclasses
from typing import Mapping

import numpy as np

from tfcnn import model as model_lib
from tfcnn.analysis import comparison, matching, profiles
from tfcnn.layers import Conv2D


@dataclasses.dataclass(frozen=True)
class Partner:
  """The filter of network `run` matched to one filter of ours."""
  run: str               # the other run's name (as given in `others`)
  filter: int            # its index in `run`
  similarity: float      # activation correlation on the probe images
  kernel: np.ndarray     # [k, k, c_in]: its weights, input channels in our order


def partners(net: model_lib.Sequential, others: Mapping[str, model_lib.Sequential],
             images: np.ndarray) -> dict[str, list[list[Partner]]]:
  """For each conv layer of `net` (by name), per filter, its partner in each of `others`.

  Args:
    net: the network whose filters get partners.
    others: networks of the same architecture, by run name.
    images: the probe images, float32 ``[n, h, w, c]`` in [0, 1].

  Raises:
    ValueError: if a network in `others` has another architecture.
  """
  convs = [i for i, layer in enumerate(net.layers) if isinstance(layer, Conv2D)]
  ours = profiles.profile(net, images, with_representations=False)
  result = {net.layers[i].name: [[] for _ in range(net.layers[i].filters)] for i in convs}
  for name, other in others.items():
    if other.spec != net.spec:
      raise ValueError(f"run {name} has another architecture: {other.spec!r} vs {net.spec!r}")
    theirs = profiles.profile(other, images, with_representations=False)
    matched = {i: matching.match(ours.standardized[i].T @ theirs.standardized[i]) for i in convs}
    aligned = comparison.aligned_copy(other, {i: m.permutation.tolist()
                                              for i, m in matched.items()})
    for i in convs:
      kernel = aligned.layers[i].kernel.numpy()
      for f, (partner, similarity) in enumerate(zip(matched[i].permutation,
                                                    matched[i].similarities)):
        result[net.layers[i].name][f].append(
            Partner(name, int(partner), float(similarity), kernel[..., f]))
  return result


def relation(ours: Mapping[str, object], theirs: Mapping[str, object]) -> str:
  """How run configuration `theirs` differs from `ours` in its sources of randomness:
  ``"same init"`` (only the data order differs), ``"same data"`` (only the
  initial weights), ``"both differ"``, or ``"same seeds"``."""
  init = ours.get("init_seed", ours.get("seed")) == theirs.get("init_seed", theirs.get("seed"))
  data = ours.get("data_seed", ours.get("seed")) == theirs.get("data_seed", theirs.get("seed"))
  return {(True, False): "same init", (False, True): "same data",
          (False, False): "both differ"}.get((init, data), "same seeds")


def choose_runs(ours: Mapping[str, object], candidates: Mapping[str, Mapping[str, object]],
                limit: int) -> dict[str, str]:
  """Up to `limit` of `candidates` (run name → configuration) to show partners
  from, taken in turn from each :func:`relation` (same init, same data, both
  differ; by name within each), so that a short list still shows every kind of
  difference. Runs of another model, and runs with our seeds, are left out.
  Returns run name → relation, in the chosen order."""
  groups = {"same init": [], "same data": [], "both differ": []}
  for name in sorted(candidates):
    config = candidates[name]
    kind = relation(ours, config)
    if config.get("model") == ours.get("model") and kind in groups:
      groups[kind].append(name)
  chosen = {}
  while len(chosen) < limit and any(groups.values()):
    for kind, names in groups.items():
      if names and len(chosen) < limit:
        chosen[names.pop(0)] = kind
  return chosen
