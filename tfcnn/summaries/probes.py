"""Probe images: a fixed set of test images whose maps are watched."""

import numpy as np


def one_per_class(images: np.ndarray, labels: np.ndarray, per_class: int = 1,
                  num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
  """The first `per_class` images of each class, ordered by class.

  Returns ``(images, labels)``; classes absent from `labels` are skipped.
  """
  chosen = []
  for c in range(num_classes):
    chosen.extend(np.flatnonzero(labels == c)[:per_class].tolist())
  chosen = np.asarray(chosen, dtype=np.int64)
  return images[chosen], labels[chosen]
