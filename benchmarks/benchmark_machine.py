"""What the benchmark says about the machine it ran on, and its peak.

The peak is arithmetic, not a measurement: cores x clock x FLOPs per cycle per
core. float32 with AVX-512: 2 FMA units x 16 lanes x 2 FLOPs = 64; bfloat16
with AMX: 1024 (Intel's figure for one AMX tile unit). The clock is the
nominal one from /proc/cpuinfo; turbo is not counted, so fractions of this
peak are upper bounds.
"""

import functools
import platform
import resource

FLOPS_PER_CYCLE = {"float32": 64, "bfloat16": 1024}


@functools.cache   # read once per process, not once per fact
def _cpuinfo() -> str:
  try:
    with open("/proc/cpuinfo") as f:
      return f.read()
  except OSError:
    return ""


def _field(name: str) -> str | None:
  """The first value of `name` in /proc/cpuinfo, or None."""
  for line in _cpuinfo().splitlines():
    if line.startswith(name):
      return line.split(":", 1)[1].strip()
  return None


def clock_ghz() -> float | None:
  """The nominal clock ("cpu MHz" in /proc/cpuinfo) in GHz; None if unknown."""
  mhz = _field("cpu MHz")
  return float(mhz) / 1000 if mhz else None


def cpu_name() -> str:
  """The processor's model name."""
  return _field("model name") or platform.processor()


def has_amx() -> bool:
  """Whether the CPU has AMX's bfloat16 tile instructions."""
  return "amx_bf16" in _cpuinfo()


def peak_rss_mb() -> float:
  """This process's peak resident memory so far, in MB."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def describe(cores: int, tensorflow_version: str) -> dict:
  """The report's ``"machine"`` entry: CPU, cores, clock and peak GFLOP/s
  (None per precision where the clock is unknown)."""
  clock = clock_ghz()
  return {"cpu": cpu_name(), "cores": cores, "clock_ghz": clock, "amx_bf16": has_amx(),
          "tensorflow": tensorflow_version,
          "peak_gflops": {d: cores * clock * f if clock else None
                          for d, f in FLOPS_PER_CYCLE.items()},
          "peak_method": "cores x nominal clock x FLOPs/cycle/core (float32: "
                         "2 AVX-512 FMA x 16 lanes x 2 = 64; bfloat16: AMX 1024)"}
