"""The study's statistics on cases with known answers."""

import numpy as np
import pytest

from tfcnn.analysis import statistics


def test_the_bootstrap_interval_covers_the_true_mean_about_95_percent_of_the_time():
  rng = np.random.default_rng(0)
  covered = 0
  for trial in range(200):
    low, high = statistics.bootstrap_interval(rng.normal(1.0, 2.0, size=40), resamples=1000,
                                              seed=trial)
    covered += low <= 1.0 <= high
  assert 0.88 <= covered / 200 <= 0.99


def test_the_pairwise_interval_resamples_runs_and_covers_the_truth():
  # Pair value = 0.5 + run effect of a + run effect of b + noise: runs matter.
  rng = np.random.default_rng(1)
  covered = 0
  for trial in range(100):
    effects = rng.normal(0, 0.05, size=6)
    values = {(a, b): 0.5 + effects[a] + effects[b] + rng.normal(0, 0.01)
              for a in range(6) for b in range(a + 1, 6)}
    low, high = statistics.pairwise_interval(values, resamples=1000, seed=trial)
    covered += low <= 0.5 <= high
  assert covered / 100 >= 0.8


def test_the_pairwise_interval_is_wider_when_runs_differ_than_when_pairs_are_noisy_only():
  rng = np.random.default_rng(2)
  effects = rng.normal(0, 0.1, size=5)
  by_runs = {(a, b): effects[a] + effects[b] for a in range(5) for b in range(a + 1, 5)}
  constant = {pair: 0.3 for pair in by_runs}
  low, high = statistics.pairwise_interval(by_runs)
  assert high - low > 0.05
  assert statistics.pairwise_interval(constant) == pytest.approx((0.3, 0.3))
  assert statistics.pairwise_interval({(0, 1): 0.7}) == (0.7, 0.7)   # two runs: no interval


def test_the_same_order_test_rejects_the_identity_and_not_a_random_permutation():
  k = 32
  assert statistics.same_order_test(fixed_points=k, units=k) < 1e-10
  permutation = np.random.default_rng(3).permutation(k)
  fixed = int(np.sum(permutation == np.arange(k)))
  assert statistics.same_order_test(fixed, k) > 0.05
  assert statistics.same_order_test(fixed_points=3, units=k, pairs=3) > 0.05   # about chance


def test_against_null_places_a_value_in_the_null_distribution():
  null = np.linspace(0.0, 1.0, 19)
  far = statistics.against_null(5.0, null)
  assert far["p_value"] == pytest.approx(1 / 20) and far["z"] > 10
  middle = statistics.against_null(0.5, null)
  assert 0.4 < middle["p_value"] < 0.6 and abs(middle["z"]) < 1e-9
  assert far["null_low"] == pytest.approx(0.025) and far["null_count"] == 19
  with pytest.raises(ValueError, match="empty"):
    statistics.against_null(1.0, [])


def test_a_dead_unit_is_detected():
  acts = np.random.default_rng(4).normal(size=(10, 5, 5, 4))
  acts = np.maximum(acts, 0.0)
  acts[..., 2] = 0.0            # a ReLU unit that never fires
  acts[..., 3] = 0.7            # or one that outputs a constant
  assert statistics.live_units(acts).tolist() == [True, True, False, False]
