"""Probe images: one per class, for any number of classes."""

import numpy as np

from tfcnn.summaries import probes


def test_probes_cover_every_class_in_the_labels_not_only_ten():
  labels = np.array([12, 0, 3, 12, 0, 25])
  images = np.arange(len(labels))
  chosen, chosen_labels = probes.one_per_class(images, labels)
  assert chosen_labels.tolist() == [0, 3, 12, 25] and chosen.tolist() == [1, 2, 0, 5]
  assert probes.one_per_class(images, labels, num_classes=4)[1].tolist() == [0, 3]
