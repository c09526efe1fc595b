"""Runs an experiment script in a subprocess, as a user would (tests only)."""

import os
import pathlib
import subprocess
import sys
from typing import Sequence

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run(module: str, *args: str, timeout: float = 300,
        prefix: Sequence[str] = ()) -> subprocess.CompletedProcess:
  """``python -m module args`` (after `prefix`, e.g. ``taskset -c 0``)."""
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
  return subprocess.run([*prefix, sys.executable, "-m", module, *args], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=timeout)
