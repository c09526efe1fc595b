"""Statistics for comparing runs: intervals over runs, tests against chance and nulls.

The unit of replication in a reproducibility study is the *training run*:
pairwise statistics (one value per pair of runs) share runs, so their
interval comes from resampling runs, not pairs (:func:`pairwise_interval`).
"""

from typing import Callable, Mapping, Sequence

import numpy as np
from scipy import stats as scipy_stats


def bootstrap_interval(values: Sequence[float], confidence: float = 0.95,
                       resamples: int = 4000, seed: int = 0,
                       statistic: Callable[[np.ndarray], float] = np.mean) -> tuple[float, float]:
  """Percentile bootstrap interval of `statistic` over independent `values`."""
  values = np.asarray(values, np.float64)
  if len(values) < 2:
    return float(statistic(values)), float(statistic(values))
  rng = np.random.default_rng(seed)
  draws = rng.integers(0, len(values), size=(resamples, len(values)))
  estimates = np.array([statistic(values[d]) for d in draws])
  tail = (1 - confidence) / 2
  return float(np.quantile(estimates, tail)), float(np.quantile(estimates, 1 - tail))


def pairwise_interval(values: Mapping[tuple[int, int], float], confidence: float = 0.95,
                      resamples: int = 4000, seed: int = 0) -> tuple[float, float]:
  """Bootstrap interval of the mean of a pairwise statistic, resampling *runs*.

  `values` maps a pair of run indices ``(a, b)`` to the statistic of that
  pair. Each resample draws the runs with replacement and averages the
  pairs of distinct drawn runs (a run drawn twice is not paired with
  itself), so the interval reflects run-to-run variation, which is what
  the pairs share.
  """
  runs = sorted({r for pair in values for r in pair})
  point = float(np.mean(list(values.values())))
  if len(runs) < 3:
    return point, point
  index = {r: k for k, r in enumerate(runs)}
  table = np.full((len(runs), len(runs)), np.nan)
  for (a, b), v in values.items():
    table[index[a], index[b]] = table[index[b], index[a]] = v
  draws = np.random.default_rng(seed).integers(0, len(runs), size=(resamples, len(runs)))
  picked = table[draws[:, :, None], draws[:, None, :]]          # [resamples, runs, runs]
  upper = np.triu(np.ones((len(runs), len(runs)), bool), k=1)
  usable = upper & (draws[:, :, None] != draws[:, None, :]) & ~np.isnan(picked)
  counts = usable.sum(axis=(1, 2))
  estimates = np.where(usable, picked, 0.0).sum(axis=(1, 2))[counts > 0] / counts[counts > 0]
  tail = (1 - confidence) / 2
  return float(np.quantile(estimates, tail)), float(np.quantile(estimates, 1 - tail))


def same_order_test(fixed_points: int, units: int, pairs: int = 1) -> float:
  """One-sided p-value that filters keep their index more often than chance.

  Under the null (filter order arbitrary), each of a layer's `units`
  filters lands at the same index in the other run with probability
  ``1/units``. `fixed_points` is the count of such filters summed over
  `pairs` pairs; the test is binomial over ``units × pairs`` trials (the
  count of fixed points of a random permutation is close to binomial, and
  pairs sharing a run are treated as independent: a slight approximation).
  """
  if units < 1 or pairs < 1:
    raise ValueError("need at least one unit and one pair")
  return float(scipy_stats.binomtest(int(fixed_points), units * pairs, 1.0 / units,
                                     alternative="greater").pvalue)


def against_null(observed: float, null_values: Sequence[float]) -> dict:
  """Where `observed` lies against a null distribution of the same statistic.

  Returns the null's mean and central 95% range, the one-sided empirical
  p-value ``(1 + #{null ≥ observed}) / (1 + n)`` and the distance in null
  standard deviations (``z``; infinite when the null does not vary).
  """
  null = np.asarray(null_values, np.float64)
  if null.size == 0:
    raise ValueError("an empty null distribution")
  spread = float(null.std(ddof=1)) if null.size > 1 else 0.0
  gap = observed - float(null.mean())
  z = gap / spread if spread > 0 else (0.0 if gap == 0 else float(np.sign(gap)) * np.inf)
  return {"null_mean": float(null.mean()), "null_low": float(np.quantile(null, 0.025)),
          "null_high": float(np.quantile(null, 0.975)), "null_count": int(null.size),
          "p_value": float((1 + np.sum(null >= observed)) / (1 + null.size)), "z": float(z)}


def live_units(activations: np.ndarray, tolerance: float = 1e-6) -> np.ndarray:
  """Which channels vary over the probe set (a dead unit outputs one constant, e.g. ReLU 0).

  `activations` is ``[..., c]``; a channel is dead when its range over all
  samples is at most `tolerance` times the largest absolute activation of
  the layer.
  """
  flat = np.asarray(activations).reshape(-1, np.shape(activations)[-1])
  scale = max(float(np.max(np.abs(flat))), 1e-30)
  return (flat.max(axis=0) - flat.min(axis=0)) > tolerance * scale
