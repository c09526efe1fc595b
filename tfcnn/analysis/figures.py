"""Report figures (matplotlib, written as PNG files)."""

import os
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tfcnn.summaries import grids  # noqa: E402


def heatmap(matrix: np.ndarray, path: str | os.PathLike, title: str, xlabel: str, ylabel: str,
            xticks: Sequence[str] | None = None, yticks: Sequence[str] | None = None,
            vmin: float = 0.0, vmax: float = 1.0) -> None:
  """A labelled heatmap with a colour bar."""
  matrix = np.asarray(matrix)
  size = max(4.0, min(12.0, 0.35 * max(matrix.shape) + 2))
  fig, ax = plt.subplots(figsize=(size + 1, size))
  im = ax.imshow(matrix, vmin=vmin, vmax=vmax, cmap="viridis")
  ax.set_title(title)
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  if xticks is not None:
    ax.set_xticks(range(len(xticks)), xticks, rotation=60, ha="right", fontsize=8)
  if yticks is not None:
    ax.set_yticks(range(len(yticks)), yticks, fontsize=8)
  if matrix.size <= 100:
    for (r, c), v in np.ndenumerate(matrix):
      ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7,
              color="white" if v < (vmin + vmax) / 2 else "black")
  fig.colorbar(im, ax=ax, fraction=0.046)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def _panel(tiles: np.ndarray, scale: float | None) -> np.ndarray:
  """Tiles ``[h, w, k]`` as one image: signed weights red–white–blue on `scale`
  (black separators), or maps in grey, each to its own range."""
  if scale is None:
    return grids.tile(grids.normalize_maps(tiles), min_tile=24).numpy()
  rgb = grids.diverging_rgb(tiles, scale)
  return np.stack([grids.tile(rgb[..., c], min_tile=24, separator=grids.RGB_SEPARATOR).numpy()
                   for c in range(3)], axis=-1)


def matched_filters(tiles_a: np.ndarray, tiles_b: np.ndarray, permutation: np.ndarray,
                    similarities: np.ndarray, path: str | os.PathLike, title: str,
                    signed: bool = False) -> None:
  """Run A's filters ordered by match quality, their matches in B, and B unmatched.

  `tiles_*` are ``[h, w, k]`` images of each filter (kernels, or the maps a
  filter produces on a probe image). Panel 1: A's filters, best-matched
  first; panel 2: B's matched filter for each; panel 3: B's filter with the
  same index as A's (the order training happened to give it). `signed`
  tiles (kernels) are drawn red (positive) – white (0) – blue (negative) on
  one scale for both runs.
  """
  order = np.argsort(-np.asarray(similarities))
  panels = [("run A, best matched first", tiles_a[..., order]),
            ("run B, matched to A", tiles_b[..., np.asarray(permutation)[order]]),
            ("run B, same index (unmatched)", tiles_b[..., order])]
  scale = float(max(np.abs(tiles_a).max(), np.abs(tiles_b).max())) if signed else None
  fig, axes = plt.subplots(1, 3, figsize=(15, 6.2))
  for ax, (name, tiles) in zip(axes, panels):
    ax.imshow(_panel(np.asarray(tiles, np.float32), scale), cmap="gray", vmin=0, vmax=1)
    ax.set_title(name, fontsize=10)
    ax.axis("off")
  fig.suptitle(f"{title}\nmatched similarity, best to worst: "
               f"{similarities[order[0]]:.2f} … {similarities[order[-1]]:.2f} "
               f"(mean {np.mean(similarities):.2f})", fontsize=10)
  fig.tight_layout(rect=(0, 0, 1, 0.93))
  fig.savefig(path, dpi=90)
  plt.close(fig)
