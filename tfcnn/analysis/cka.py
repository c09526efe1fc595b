"""Representational similarity: CKA (Kornblith et al. 2019), its variants, and SVCCA.

Representations are ``[n, features]`` over the same ``n`` probe inputs (a
conv layer's ``[n, h, w, c]`` output is flattened per input). Every measure
here needs only the ``n x n`` Gram matrix ``X Xᵀ`` of each representation,
so a study computes it once per network and layer (:func:`gram`) and
compares through the ``*_from_grams`` functions; the ``x, y`` functions are
the same measures on raw features.

Ranges: linear and RBF CKA lie in [0, 1] (1: the same representation up to
an orthogonal transform and isotropic scaling; for RBF, up to the kernel's
notion of distance). The *unbiased* minibatch estimate of linear CKA can
fall slightly below 0 (or above 1) by sampling noise, as any unbiased
estimate of a non-negative quantity can. SVCCA lies in [0, 1].
"""

import dataclasses

import numpy as np


def _flat(x) -> np.ndarray:
  x = np.asarray(x, np.float64)
  return x.reshape(x.shape[0], -1)


def gram(x) -> np.ndarray:
  """The uncentred linear Gram matrix ``X Xᵀ`` (float64, ``[n, n]``)."""
  x = _flat(x)
  return x @ x.T


def center_gram(g: np.ndarray) -> np.ndarray:
  """``H G H`` with ``H = I - 11ᵀ/n``: the Gram matrix of centred features."""
  means = g.mean(axis=0)
  return g - means[None, :] - means[:, None] + means.mean()


def _cka(kx: np.ndarray, ky: np.ndarray) -> float:
  return _cka_of_centered(center_gram(kx), center_gram(ky))


def _check_examples(gx: np.ndarray, gy: np.ndarray) -> None:
  if gx.shape != gy.shape:
    raise ValueError(f"different numbers of examples: {gx.shape[0]} vs {gy.shape[0]}")


def linear_cka_from_grams(gx: np.ndarray, gy: np.ndarray) -> float:
  """Linear CKA ``‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F)`` (centred) from the two Gram matrices."""
  _check_examples(gx, gy)
  return _cka(gx, gy)


def linear_cka(x, y) -> float:
  """Linear CKA on raw features ``[n, ...]``."""
  return linear_cka_from_grams(gram(x), gram(y))


def _rbf_kernel(g: np.ndarray, sigma_fraction: float) -> np.ndarray:
  sq = np.diag(g)
  distances = np.maximum(sq[:, None] + sq[None, :] - 2 * g, 0.0)
  median = np.median(np.sqrt(distances[np.triu_indices(len(g), k=1)]))
  sigma = sigma_fraction * median if median > 0 else 1.0
  return np.exp(-distances / (2 * sigma ** 2))


def rbf_cka_from_grams(gx: np.ndarray, gy: np.ndarray, sigma_fraction: float = 0.8) -> float:
  """CKA with RBF kernels whose width σ is `sigma_fraction` of the median distance.

  Distances come from the Gram matrix: ``‖xᵢ − xⱼ‖² = Gᵢᵢ + Gⱼⱼ − 2Gᵢⱼ``.
  """
  _check_examples(gx, gy)
  return _cka(_rbf_kernel(gx, sigma_fraction), _rbf_kernel(gy, sigma_fraction))


def rbf_cka(x, y, sigma_fraction: float = 0.8) -> float:
  """RBF CKA on raw features ``[n, ...]``."""
  return rbf_cka_from_grams(gram(x), gram(y), sigma_fraction)


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


def minibatch_cka_from_grams(gx: np.ndarray, gy: np.ndarray, batch_size: int = 100) -> float:
  """Unbiased minibatch linear CKA (Nguyen, Raghu & Kornblith 2021) from uncentred Grams.

  Unbiased HSIC is averaged over consecutive minibatches of `batch_size`
  examples (the diagonal blocks of the Gram matrices) before forming the
  ratio, so the estimate does not depend on the batch size the way a biased
  per-batch CKA would. Being unbiased, it can be slightly negative.
  """
  _check_examples(gx, gy)
  xy = xx = yy = 0.0
  for start in range(0, gx.shape[0], batch_size):
    block = slice(start, start + batch_size)
    kx, ky = gx[block, block], gy[block, block]
    if len(kx) < 4:
      break
    xy += unbiased_hsic(kx, ky)
    xx += unbiased_hsic(kx, kx)
    yy += unbiased_hsic(ky, ky)
  denominator = np.sqrt(max(xx, 0.0) * max(yy, 0.0))
  return float(xy / denominator) if denominator > 0 else 0.0


def minibatch_cka(x, y, batch_size: int = 100) -> float:
  """Unbiased minibatch linear CKA on raw features ``[n, ...]``."""
  return minibatch_cka_from_grams(gram(x), gram(y), batch_size)


def principal_basis(g: np.ndarray, keep_variance: float, max_dims: int) -> tuple[np.ndarray, int]:
  """An orthonormal ``[n, d]`` basis of the top principal directions, and how many were needed.

  From the centred Gram matrix ``U S² Uᵀ`` (the left singular vectors of
  the centred features), so no ``[n, features]`` SVD is needed. ``d`` is
  the number of directions that explain `keep_variance` of the variance,
  capped at `max_dims`; the second value is that number before the cap.
  """
  eigenvalues, vectors = np.linalg.eigh(center_gram(g))
  order = np.argsort(eigenvalues)[::-1]
  eigenvalues, vectors = np.maximum(eigenvalues[order], 0.0), vectors[:, order]
  total = eigenvalues.sum()
  if total <= 0:
    return vectors[:, :0], 0
  positive = int(np.sum(eigenvalues > total * 1e-12))
  needed = min(int(np.searchsorted(np.cumsum(eigenvalues) / total, keep_variance) + 1), positive)
  return vectors[:, :min(needed, max_dims)], needed


def svcca_from_grams(gx: np.ndarray, gy: np.ndarray, keep_variance: float = 0.99,
                     max_dims: int | None = None) -> dict:
  """SVCCA (Raghu et al. 2017): mean canonical correlation after an SVD cut.

  Each representation is reduced to the top principal directions that
  explain `keep_variance` of its variance, *capped* at `max_dims` (by
  default a quarter of the examples, so that CCA is not fitted to noise);
  the value is the mean canonical correlation of the two subspaces.

  Returns:
    ``{"value", "dims": [d_x, d_y] (kept), "needed": [..] (before the cap),
    "cap"}`` — a report says when the cap bit (``needed > dims``).
  """
  _check_examples(gx, gy)
  cap = max_dims or max(1, gx.shape[0] // 4)
  qx, needed_x = principal_basis(gx, keep_variance, cap)
  qy, needed_y = principal_basis(gy, keep_variance, cap)
  value = 0.0
  if qx.shape[1] and qy.shape[1]:
    correlations = np.linalg.svd(qx.T @ qy, compute_uv=False)
    value = float(np.mean(np.clip(correlations[:min(qx.shape[1], qy.shape[1])], 0.0, 1.0)))
  return {"value": value, "dims": [qx.shape[1], qy.shape[1]], "needed": [needed_x, needed_y],
          "cap": cap}


def svcca(x, y, keep_variance: float = 0.99, max_dims: int | None = None) -> float:
  """SVCCA on raw features ``[n, ...]`` (see :func:`svcca_from_grams`)."""
  return svcca_from_grams(gram(x), gram(y), keep_variance, max_dims)["value"]


@dataclasses.dataclass(frozen=True)
class Kernels:
  """What every measure needs from one representation, derived from its Gram matrix once."""
  gram: np.ndarray      # uncentred linear Gram (minibatch CKA works on its blocks)
  linear: np.ndarray    # centred linear Gram
  rbf: np.ndarray       # centred RBF kernel (σ = 0.8 × median distance)
  basis: np.ndarray     # principal basis for SVCCA (99% of the variance, capped at n/4)
  needed: int           # directions 99% of the variance needs, before the cap


def kernels(g: np.ndarray) -> Kernels:
  """:class:`Kernels` of the uncentred Gram matrix `g`."""
  basis, needed = principal_basis(g, 0.99, max(1, g.shape[0] // 4))
  return Kernels(gram=g, linear=center_gram(g), rbf=center_gram(_rbf_kernel(g, 0.8)),
                 basis=basis, needed=needed)


def _cka_of_centered(cx: np.ndarray, cy: np.ndarray) -> float:
  denominator = np.sqrt(np.sum(cx * cx) * np.sum(cy * cy))
  return float(np.sum(cx * cy) / denominator) if denominator > 0 else 0.0


def compare_kernels(x: Kernels, y: Kernels) -> dict:
  """Linear, RBF and minibatch CKA and SVCCA of two representations (defaults as above)."""
  _check_examples(x.gram, y.gram)
  value = 0.0
  if x.basis.shape[1] and y.basis.shape[1]:
    correlations = np.linalg.svd(x.basis.T @ y.basis, compute_uv=False)
    value = float(np.mean(np.clip(correlations, 0.0, 1.0)))
  return {"linear_cka": _cka_of_centered(x.linear, y.linear),
          "rbf_cka": _cka_of_centered(x.rbf, y.rbf),
          "minibatch_cka": minibatch_cka_from_grams(x.gram, y.gram),
          "svcca": value, "svcca_dims": [x.basis.shape[1], y.basis.shape[1]],
          "svcca_needed": [x.needed, y.needed], "svcca_cap": max(1, x.gram.shape[0] // 4)}


def similarity_matrix(grams_a, grams_b, measure=linear_cka_from_grams) -> np.ndarray:
  """``[len(grams_a), len(grams_b)]`` of `measure` between every pair of layers' Grams."""
  return np.array([[measure(a, b) for b in grams_b] for a in grams_a])


def sanity_accuracy(matrix: np.ndarray) -> float:
  """Kornblith's test: fraction of A's layers whose most similar B layer is the same one."""
  matrix = np.asarray(matrix)
  return float(np.mean(np.argmax(matrix, axis=1) == np.arange(matrix.shape[0])))
