"""Comparing networks: filter matching, permutations, CKA/SVCCA, statistics, studies."""

from tfcnn.analysis import cka, matching, permute, seeds, statistics
from tfcnn.analysis.comparison import (aligned_copy, clone, compare, compare_profiles,
                                       permutation_check, within_run_cka)
from tfcnn.analysis.profiles import Profile, outputs, profile, representation_layers

__all__ = ["Profile", "aligned_copy", "cka", "clone", "compare", "compare_profiles", "matching",
           "outputs", "permutation_check", "permute", "profile", "representation_layers",
           "seeds", "statistics", "within_run_cka"]
