"""A designed reproducibility study: which source of randomness makes filters differ?

A *condition* says which seeds vary between a study's runs (everything
else, the architecture, data, optimiser and schedule, is fixed):

  init   the initial weights (``init_seed``); data order and augmentation fixed
  data   the data order and augmentation (``data_seed``); initial weights fixed
  both   both, as two fully independent runs
  none   neither: the same run twice, which deterministic kernels must make
         bitwise identical (the control)

:func:`design` lays out the runs of each (width, condition) cell;
:func:`summarize` turns the comparisons of every pair of runs in a cell,
and of the runs against untrained networks (the null), into per-layer
statistics with 95% intervals over runs, nulls and tests;
:func:`dynamics` follows the same statistics through the epochs.
"""

import dataclasses
import itertools
from typing import Callable, Sequence

import numpy as np

from tfcnn.analysis import matching, statistics
from tfcnn.analysis.profiles import Profile

CONDITIONS: dict[str, str] = {
    "init": "initial weights vary; data order and augmentation fixed",
    "data": "data order and augmentation vary; initial weights fixed",
    "both": "initial weights, data order and augmentation all vary",
    "none": "nothing varies: the same run twice (the determinism control)",
}


@dataclasses.dataclass(frozen=True)
class Run:
  """One training run of a study."""
  width: float      # the factor applied to the model's filters and hidden units
  init_seed: int
  data_seed: int
  repeat: bool = False   # the second copy of a run, for the determinism control

  @property
  def name(self) -> str:
    """Folder name: unique per run (a run shared by several conditions trains once)."""
    return (f"w{self.width:g}-init{self.init_seed}-data{self.data_seed}"
            + ("-repeat" if self.repeat else ""))


@dataclasses.dataclass(frozen=True)
class Cell:
  """The runs of one condition at one width."""
  width: float
  condition: str
  runs: tuple[Run, ...]

  @property
  def name(self) -> str:
    return f"w{self.width:g}-{self.condition}"


def design(conditions: Sequence[str], seeds: Sequence[int],
           widths: Sequence[float] = (1.0,)) -> list[Cell]:
  """The runs of every (width, condition): the first seed is the fixed one.

  Raises:
    ValueError: for an unknown condition, fewer than two distinct seeds, or
      a repeated width.
  """
  unknown = [c for c in conditions if c not in CONDITIONS]
  if unknown:
    raise ValueError(f"unknown condition(s) {', '.join(unknown)}; use {', '.join(CONDITIONS)}")
  if len(set(seeds)) != len(seeds) or len(seeds) < 2:
    raise ValueError("a study needs at least two distinct seeds")
  if len(set(widths)) != len(widths) or min(widths) <= 0:
    raise ValueError("widths must be distinct and positive")
  base = seeds[0]
  cells = []
  for width in widths:
    for condition in dict.fromkeys(conditions):
      runs = {"init": [Run(width, s, base) for s in seeds],
              "data": [Run(width, base, s) for s in seeds],
              "both": [Run(width, s, s) for s in seeds],
              "none": [Run(width, base, base), Run(width, base, base, repeat=True)]}[condition]
      cells.append(Cell(width, condition, tuple(runs)))
  return cells


# Per conv layer: how each statistic is read from one comparison's layer entry.
FILTER_STATISTICS: dict[str, Callable[[dict], float]] = {
    "matched_activations": lambda e: e["activations"]["mean"],
    "matched_activations_live": lambda e: e["activations"]["live_mean"],
    "semi_matched_activations": lambda e: e["activations"]["greedy_mean"],
    "same_index_activations": lambda e: e["activations"]["same_index_mean"],
    "same_order_fraction": lambda e: e["activations"]["same_order_fraction"],
    "best_between_live": lambda e: e["activations"]["best_between_live"],
    "between_minus_within": lambda e: (e["activations"]["best_between_live"]
                                       - e["activations"]["best_within_live"]),
    "matched_weights": lambda e: e["weights"]["mean"],
    "same_index_weights": lambda e: e["weights"]["same_index_mean"],
    "same_order_fraction_weights": lambda e: e["weights"]["same_order_fraction"],
}
# Properties of one network, not of a pair: an interval, no null.
UNIT_STATISTICS: dict[str, Callable[[dict], float]] = {
    "best_within_live": lambda e: e["activations"]["best_within_live"],
    "live_units": lambda e: float(np.mean(e["live"])),
}
REPRESENTATION_STATISTICS = ("linear_cka", "rbf_cka", "minibatch_cka", "svcca")


def _statistic(values: dict[tuple[int, int], float], null: Sequence[float] | None) -> dict:
  mean = float(np.mean(list(values.values())))
  low, high = statistics.pairwise_interval(values)
  result = {"mean": mean, "low": low, "high": high, "pairs": len(values)}
  if null is not None:
    result.update(statistics.against_null(mean, null))
  return result


def summarize(pairs: dict[tuple[int, int], dict], nulls: Sequence[dict]) -> dict:
  """Per-layer statistics of one cell.

  Args:
    pairs: ``(run a, run b)`` → :func:`tfcnn.analysis.compare_profiles` of
      the two runs (run indices within the cell).
    nulls: comparisons of the cell's trained runs with untrained networks
      of other seeds, the null distribution of every pairwise statistic.

  Returns:
    ``{"layers": [...], "representations": [...]}``: per conv layer, each
    statistic of :data:`FILTER_STATISTICS` as mean, 95% interval over runs
    (:func:`statistics.pairwise_interval`) and its place in the null
    (:func:`statistics.against_null`), the same-order test against chance,
    :data:`UNIT_STATISTICS`; per representation layer, each CKA variant and
    SVCCA likewise, with SVCCA's kept/needed dimensions.
  """
  first = next(iter(pairs.values()))
  layers = []
  for k, entry in enumerate(first["layers"]):
    stats = {}
    for name, read in FILTER_STATISTICS.items():
      stats[name] = _statistic({p: read(c["layers"][k]) for p, c in pairs.items()},
                               [read(n["layers"][k]) for n in nulls] if nulls else None)
    for name, read in UNIT_STATISTICS.items():
      stats[name] = _statistic({p: read(c["layers"][k]) for p, c in pairs.items()}, None)
    units = entry["filters"]
    fixed = sum(round(c["layers"][k]["activations"]["same_order_fraction"] * units)
                for c in pairs.values())
    layers.append({"name": entry["name"], "filters": units, "statistics": stats,
                   "same_order_test": {"fixed_points": int(fixed), "pairs": len(pairs),
                                       "chance": 1.0 / units,
                                       "p_value": statistics.same_order_test(fixed, units,
                                                                             len(pairs))}})
  representations = []
  if "cka" in first:
    for k, layer in enumerate(first["cka"]["per_layer"]):
      row = {"name": layer["layer"]}
      for name in REPRESENTATION_STATISTICS:
        row[name] = _statistic({p: c["cka"]["per_layer"][k][name] for p, c in pairs.items()},
                               [n["cka"]["per_layer"][k][name] for n in nulls if "cka" in n]
                               or None)
      row["svcca_needed"] = int(max(max(c["cka"]["per_layer"][k]["svcca_needed"])
                                    for c in pairs.values()))
      row["svcca_cap"] = layer["svcca_cap"]
      representations.append(row)
  return {"layers": layers, "representations": representations}


def _filter_distance(kernel: np.ndarray, initial: np.ndarray) -> float:
  """Mean over filters of ‖w − w₀‖ / ‖w₀‖ (HWIO kernels, filters on the last axis)."""
  k = kernel.reshape(-1, kernel.shape[-1])
  k0 = initial.reshape(-1, initial.shape[-1])
  return float(np.mean(np.linalg.norm(k - k0, axis=0)
                       / np.maximum(np.linalg.norm(k0, axis=0), 1e-12)))


def dynamics(snapshots: Sequence[Sequence[Profile]]) -> dict:
  """How filter identity settles: statistics per epoch from every run's snapshots.

  Args:
    snapshots: ``snapshots[r][e]`` is run r's profile after epoch e (e = 0:
      its initial weights), every run with the same epochs.

  Returns:
    ``{"epochs": [0, 1, …], "layers": [...]}``; per conv layer and epoch:
    ``matched`` (mean matched activation correlation between the runs, with
    ``matched_low``/``matched_high`` over runs), ``same_order`` (fraction of
    filters at the same index), ``distance_from_init`` (a filter's relative
    distance from its initial value, mean over filters and runs) and
    ``same_as_final`` (fraction of a run's filters whose activation matching
    to its own final epoch is the identity: the filter already *is* the one
    it ends as).
  """
  epochs = len(snapshots[0])
  layers = []
  for i in snapshots[0][0].conv:
    row = {"name": snapshots[0][0].names[i], "matched": [], "matched_low": [],
           "matched_high": [], "same_order": [], "distance_from_init": [], "same_as_final": []}
    for e in range(epochs):
      matched, order = {}, []
      for a, b in itertools.combinations(range(len(snapshots)), 2):
        m = matching.match(snapshots[a][e].standardized[i].T @ snapshots[b][e].standardized[i])
        matched[(a, b)] = float(np.mean(m.similarities))
        order.append(float(np.mean(m.permutation == np.arange(len(m.permutation)))))
      low, high = statistics.pairwise_interval(matched)
      row["matched"].append(float(np.mean(list(matched.values()))))
      row["matched_low"].append(low)
      row["matched_high"].append(high)
      row["same_order"].append(float(np.mean(order)))
      row["distance_from_init"].append(float(np.mean(
          [_filter_distance(run[e].kernels[i], run[0].kernels[i]) for run in snapshots])))
      settled = []
      for run in snapshots:
        m = matching.match(run[e].standardized[i].T @ run[-1].standardized[i])
        settled.append(float(np.mean(m.permutation == np.arange(len(m.permutation)))))
      row["same_as_final"].append(float(np.mean(settled)))
    layers.append(row)
  return {"epochs": list(range(epochs)), "layers": layers}
