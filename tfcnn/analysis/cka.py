"""Representational similarity: CKA (Kornblith et al. 2019) and its variants.

Representations are ``[n, features]`` over the same ``n`` probe inputs (a
conv layer's ``[n, h, w, c]`` output is flattened per input). All values
are in [0, 1]; 1 means the same representation up to an orthogonal
transform and isotropic scaling (and, for RBF CKA, up to the kernel's notion
of distance).
"""

import numpy as np


def _flat(x) -> np.ndarray:
  x = np.asarray(x, np.float64)
  return x.reshape(x.shape[0], -1)


def _center_gram(gram: np.ndarray) -> np.ndarray:
  means = gram.mean(axis=0)
  return gram - means[None, :] - means[:, None] + means.mean()


def linear_cka(x, y) -> float:
  """Linear CKA: ``‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F)`` on centred features.

  Computed through ``n x n`` Gram matrices, so wide conv layers are cheap.
  """
  x, y = _flat(x), _flat(y)
  if x.shape[0] != y.shape[0]:
    raise ValueError(f"different numbers of examples: {x.shape[0]} vs {y.shape[0]}")
  gx, gy = _center_gram(x @ x.T), _center_gram(y @ y.T)
  denominator = np.sqrt(np.sum(gx * gx) * np.sum(gy * gy))
  return float(np.sum(gx * gy) / denominator) if denominator > 0 else 0.0


def _rbf_gram(x: np.ndarray, sigma_fraction: float) -> np.ndarray:
  sq = np.sum(x * x, axis=1)
  distances = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
  median = np.median(np.sqrt(distances[np.triu_indices(len(x), k=1)]))
  sigma = sigma_fraction * median if median > 0 else 1.0
  return np.exp(-distances / (2 * sigma ** 2))


def rbf_cka(x, y, sigma_fraction: float = 0.8) -> float:
  """CKA with RBF kernels whose width σ is `sigma_fraction` of the median distance."""
  x, y = _flat(x), _flat(y)
  gx, gy = _center_gram(_rbf_gram(x, sigma_fraction)), _center_gram(_rbf_gram(y, sigma_fraction))
  denominator = np.sqrt(np.sum(gx * gx) * np.sum(gy * gy))
  return float(np.sum(gx * gy) / denominator) if denominator > 0 else 0.0


def unbiased_hsic(k: np.ndarray, l: np.ndarray) -> float:
  """The unbiased HSIC estimator of Song et al. (2012) for Gram matrices k, l (n > 3)."""
  n = k.shape[0]
  if n < 4:
    raise ValueError("unbiased HSIC needs at least 4 examples per batch")
  k, l = k.copy(), l.copy()
  np.fill_diagonal(k, 0.0)
  np.fill_diagonal(l, 0.0)
  ones = np.ones(n)
  term = np.sum(k * l) + (ones @ k @ ones) * (ones @ l @ ones) / ((n - 1) * (n - 2)) \
      - 2.0 / (n - 2) * (ones @ k @ l @ ones)
  return float(term / (n * (n - 3)))


def minibatch_cka(x, y, batch_size: int = 100) -> float:
  """Unbiased minibatch linear CKA (Nguyen, Raghu & Kornblith 2021).

  Unbiased HSIC is averaged over consecutive minibatches of `batch_size`
  examples before forming the ratio, so the estimate does not depend on the
  batch size the way a biased per-batch CKA would.
  """
  x, y = _flat(x), _flat(y)
  xy = xx = yy = 0.0
  for start in range(0, x.shape[0] - 3, batch_size):
    bx, by = x[start:start + batch_size], y[start:start + batch_size]
    if len(bx) < 4:
      break
    kx, ky = bx @ bx.T, by @ by.T
    xy += unbiased_hsic(kx, ky)
    xx += unbiased_hsic(kx, kx)
    yy += unbiased_hsic(ky, ky)
  denominator = np.sqrt(max(xx, 0.0) * max(yy, 0.0))
  return float(xy / denominator) if denominator > 0 else 0.0


def svcca(x, y, keep_variance: float = 0.99, max_dims: int | None = None) -> float:
  """SVCCA (Raghu et al. 2017): mean canonical correlation after an SVD cut.

  Each representation is centred and reduced to the top singular directions
  that explain `keep_variance` of its variance (at most `max_dims`, by
  default a quarter of the examples, so CCA is not fitted to noise); the
  result is the mean of the canonical correlations of the two subspaces.
  """
  x, y = _flat(x), _flat(y)
  n = x.shape[0]
  max_dims = max_dims or max(1, n // 4)

  def reduce(a):
    a = a - a.mean(axis=0)
    u, s, _ = np.linalg.svd(a, full_matrices=False)
    if not s.any():
      return u[:, :0]
    explained = np.cumsum(s ** 2) / np.sum(s ** 2)
    dims = min(int(np.searchsorted(explained, keep_variance) + 1), max_dims, len(s))
    return u[:, :dims]  # an orthonormal basis of the kept subspace

  qx, qy = reduce(x), reduce(y)
  if qx.shape[1] == 0 or qy.shape[1] == 0:
    return 0.0
  correlations = np.linalg.svd(qx.T @ qy, compute_uv=False)
  return float(np.mean(np.clip(correlations[:min(qx.shape[1], qy.shape[1])], 0.0, 1.0)))


def similarity_matrix(reps_a, reps_b, measure=linear_cka) -> np.ndarray:
  """``[len(reps_a), len(reps_b)]`` of `measure` between every pair of layers."""
  return np.array([[measure(a, b) for b in reps_b] for a in reps_a])


def sanity_accuracy(matrix: np.ndarray) -> float:
  """Kornblith's test: fraction of A's layers whose most similar B layer is the same one."""
  matrix = np.asarray(matrix)
  return float(np.mean(np.argmax(matrix, axis=1) == np.arange(matrix.shape[0])))
