"""Matching the filters of two networks, by weights or by activations.

Following Li et al., *Convergent Learning* (ICLR 2016): units of net A and
net B are compared by a similarity matrix ``S[i, j]`` (A's unit i, B's unit
j), then paired one-to-one by the assignment that maximises total
similarity (``scipy.optimize.linear_sum_assignment``), and — as a
looser view — by a greedy semi-matching in which every A unit takes its most
similar B unit, even if another A unit took it too.

A permutation ``perm`` maps A's unit ``i`` to B's unit ``perm[i]``;
``perm[i] == i`` means the runs put that filter in the same place.
"""

import dataclasses

import numpy as np
from scipy import optimize


@dataclasses.dataclass(frozen=True)
class Matching:
  """A one-to-one matching and the greedy semi-matching beside it."""
  permutation: np.ndarray          # [k] B's unit matched to A's unit i
  similarities: np.ndarray         # [k] S[i, perm[i]]
  greedy: np.ndarray               # [k] argmax_j S[i, j]
  greedy_similarities: np.ndarray  # [k] max_j S[i, j]

  def stats(self) -> dict:
    """Summary statistics (all plain floats/ints, JSON-ready)."""
    s, k = self.similarities, len(self.similarities)
    return {
        "units": k,
        "mean": float(np.mean(s)), "median": float(np.median(s)),
        "fraction_above_0.5": float(np.mean(s > 0.5)),
        "fraction_above_0.8": float(np.mean(s > 0.8)),
        "fraction_above_0.9": float(np.mean(s > 0.9)),
        "same_order_fraction": float(np.mean(self.permutation == np.arange(k))),
        "same_order_chance": 1.0 / k,
        "greedy_mean": float(np.mean(self.greedy_similarities)),
        "greedy_distinct_fraction": float(len(np.unique(self.greedy)) / k),
        "permutation": self.permutation.tolist(),
    }


def match(similarity: np.ndarray) -> Matching:
  """Matches the rows (A) to the columns (B) of a square `similarity` matrix."""
  similarity = np.asarray(similarity, np.float64)
  if similarity.ndim != 2 or similarity.shape[0] != similarity.shape[1]:
    raise ValueError(f"need a square similarity matrix, got shape {similarity.shape}")
  rows, cols = optimize.linear_sum_assignment(similarity, maximize=True)
  permutation = cols[np.argsort(rows)]
  k = len(permutation)
  greedy = np.argmax(similarity, axis=1)
  return Matching(permutation=permutation,
                  similarities=similarity[np.arange(k), permutation],
                  greedy=greedy, greedy_similarities=similarity[np.arange(k), greedy])


def weight_similarity(kernel_a: np.ndarray, kernel_b: np.ndarray,
                      input_permutation: np.ndarray | None = None) -> np.ndarray:
  """Cosine similarity ``[k_a, k_b]`` of the flattened filters of two HWIO kernels.

  `input_permutation` (the previous layer's matching) is applied to B's
  input-channel axis first, so that input channel ``c`` of both kernels
  means the same (matched) unit.
  """
  kernel_a, kernel_b = np.asarray(kernel_a, np.float64), np.asarray(kernel_b, np.float64)
  if input_permutation is not None:
    kernel_b = kernel_b[:, :, np.asarray(input_permutation), :]
  if kernel_a.shape[:3] != kernel_b.shape[:3]:
    raise ValueError(f"kernels differ in shape: {kernel_a.shape} vs {kernel_b.shape}")
  a = kernel_a.reshape(-1, kernel_a.shape[-1]).T
  b = kernel_b.reshape(-1, kernel_b.shape[-1]).T
  a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
  b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
  return a @ b.T


def activation_correlation(acts_a: np.ndarray, acts_b: np.ndarray) -> np.ndarray:
  """Pearson correlation ``[c_a, c_b]`` between the channels of two activations.

  Activations are ``[n, h, w, c]`` (or ``[n, c]``) over the same probe
  images; every image × position is one sample. A unit that never varies
  (dead) correlates 0 with everything.
  """
  a = np.asarray(acts_a, np.float64).reshape(-1, np.shape(acts_a)[-1])
  b = np.asarray(acts_b, np.float64).reshape(-1, np.shape(acts_b)[-1])
  if a.shape[0] != b.shape[0]:
    raise ValueError(f"activations have different sample counts: {a.shape[0]} vs {b.shape[0]}")
  a = a - a.mean(axis=0)
  b = b - b.mean(axis=0)
  na, nb = np.linalg.norm(a, axis=0), np.linalg.norm(b, axis=0)
  with np.errstate(invalid="ignore", divide="ignore"):
    corr = (a.T @ b) / np.outer(na, nb)
  return np.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0)
