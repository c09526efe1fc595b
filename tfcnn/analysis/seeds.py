"""Variation across seeds: accuracy spread and prediction disagreement."""

from typing import Sequence

import numpy as np


def accuracy_spread(accuracies: Sequence[float]) -> dict:
  """Mean, standard deviation (ddof 1), min and max of test accuracies."""
  a = np.asarray(accuracies, np.float64)
  return {"runs": len(a), "mean": float(a.mean()),
          "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
          "min": float(a.min()), "max": float(a.max())}


def disagreement(predictions_a, predictions_b) -> float:
  """Fraction of test examples on which two runs predict different classes."""
  a, b = np.asarray(predictions_a), np.asarray(predictions_b)
  if a.shape != b.shape:
    raise ValueError(f"prediction shapes differ: {a.shape} vs {b.shape}")
  return float(np.mean(a != b))
