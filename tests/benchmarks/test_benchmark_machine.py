"""The benchmark's machine facts and peak arithmetic."""

import pytest

from benchmarks import benchmark_machine

CPUINFO = """processor\t: 0
model name\t: Example CPU @ 2.10GHz
cpu MHz\t\t: 2100.000
flags\t\t: fpu avx512f amx_bf16 amx_tile
"""


def test_peak_is_cores_times_nominal_clock_times_flops_per_cycle(monkeypatch):
  monkeypatch.setattr(benchmark_machine, "_cpuinfo", lambda: CPUINFO)
  machine = benchmark_machine.describe(cores=2, tensorflow_version="2.x")
  assert machine["cpu"] == "Example CPU @ 2.10GHz" and machine["amx_bf16"] is True
  assert machine["clock_ghz"] == pytest.approx(2.1)
  assert machine["peak_gflops"] == pytest.approx({"float32": 2 * 2.1 * 64,
                                                  "bfloat16": 2 * 2.1 * 1024})


def test_without_cpuinfo_the_clock_and_peak_are_unknown_not_made_up(monkeypatch):
  monkeypatch.setattr(benchmark_machine, "_cpuinfo", lambda: "")
  machine = benchmark_machine.describe(cores=4, tensorflow_version="2.x")
  assert machine["clock_ghz"] is None
  assert machine["peak_gflops"] == {"float32": None, "bfloat16": None}
  assert machine["amx_bf16"] is False and isinstance(machine["cpu"], str)


def test_peak_memory_is_reported_in_megabytes():
  assert 10 < benchmark_machine.peak_rss_mb() < 100_000
