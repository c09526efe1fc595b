"""Probe images: a fixed set of test images whose maps are watched."""

import numpy as np


def one_per_class(images: np.ndarray, labels: np.ndarray, per_class: int = 1,
                  num_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
  """The first `per_class` images of each class, ordered by class.

  Classes are ``0 .. num_classes - 1`` (default: every class in `labels`).
  Returns ``(images, labels)``; classes absent from `labels` are skipped.
  """
  classes = range(num_classes) if num_classes is not None else np.unique(labels)
  chosen = []
  for c in classes:
    chosen.extend(np.flatnonzero(labels == c)[:per_class].tolist())
  chosen = np.asarray(chosen, dtype=np.int64)
  return images[chosen], labels[chosen]
