"""Comparing networks: filter matching, permutations, CKA/SVCCA, seed variation."""

from tfcnn.analysis import cka, matching, permute, seeds
from tfcnn.analysis.comparison import clone, compare, outputs, representation_layers, within_run_cka

__all__ = ["cka", "clone", "compare", "matching", "outputs", "permute", "representation_layers",
           "seeds", "within_run_cka"]
