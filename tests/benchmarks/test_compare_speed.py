"""The compare benchmark runs and reports both timings (figures live in docs/performance.md)."""

from benchmarks import compare_speed


def test_measure_reports_both_timings_for_a_small_probe_set():
  result = compare_speed.measure(probes=20, repeats=1)
  assert result["probes"] == 20 and result["goal_seconds"] == 10.0
  assert result["compare_seconds"] > result["compare_profiles_seconds"] > 0
