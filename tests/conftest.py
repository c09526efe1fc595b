"""Shared test set-up: quiet TensorFlow, and small helpers."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
  """A seeded NumPy generator, fresh per test."""
  return np.random.default_rng(1234)


def max_abs_diff(a, b) -> float:
  """Largest absolute element difference of two tensors/arrays."""
  return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
