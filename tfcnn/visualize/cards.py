"""A filter card: everything about one conv filter on one picture, and an index of them.

A card shows the filter's weights (red positive, blue negative, one scale
for the layer, with a colour bar; a deeper filter as one small map per
input channel), the pattern its centre unit prefers
(:mod:`tfcnn.visualize.unit_max`), its top patches from the test set, and
its statistics: how often it fires, and its preferred pattern's activation
against the median and best test image. A dead filter says so. For a run of
a study, a last row shows the filter's partner in each other run
(:mod:`tfcnn.analysis.partners`): its index there, the activation
correlation of the match, and its weights with input channels in this run's
order, on this card's scale. :func:`index_page` lays out a layer's cards
small in one HTML page.
"""

import html
import io
import math
import os
import pathlib
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _weights_image(kernel: np.ndarray) -> np.ndarray:
  """``[k, k, c_in]`` as one 2-D array: the input channels' k×k maps in a grid, NaN gaps."""
  k, _, channels = kernel.shape
  columns = math.ceil(math.sqrt(channels))
  rows = math.ceil(channels / columns)
  out = np.full((rows * (k + 1) - 1, columns * (k + 1) - 1), np.nan)
  for c in range(channels):
    r, q = divmod(c, columns)
    out[r * (k + 1):r * (k + 1) + k, q * (k + 1):q * (k + 1) + k] = kernel[..., c]
  return out


def _draw_weights(ax, kernel: np.ndarray, scale: float):
  """A filter's ``[k, k, c_in]`` weights on `ax`: red–white–blue on ``±scale``, or for an RGB
  first layer the colour it responds to (mid-grey = 0). Returns the drawn image."""
  if kernel.shape[-1] == 3:
    return ax.imshow(np.clip(0.5 + 0.5 * kernel / max(scale, 1e-12), 0, 1))
  return ax.imshow(_weights_image(kernel), cmap="RdBu_r", vmin=-scale, vmax=scale)


def _show(ax, image: np.ndarray, title: str) -> None:
  ax.imshow(np.clip(image, 0, 1) if image.shape[-1] == 3 else image[..., 0], cmap="gray",
            vmin=0, vmax=1)
  ax.set_title(title, fontsize=8)
  ax.axis("off")


def _partners_row(fig, spec, partners: Sequence, scale: float) -> None:
  """The partner filters in a row, each titled with its run, index and similarity."""
  columns = max(6, len(partners))
  row = spec.subgridspec(1, columns, wspace=0.3)
  for j, p in enumerate(partners):
    ax = fig.add_subplot(row[0, j])
    _draw_weights(ax, p.kernel, scale)
    ax.set_title(f"{p.run}\nfilter {p.filter}, r = {p.similarity:.2f}", fontsize=6.5,
                 color="black" if p.similarity >= 0.5 else "darkred")
    ax.axis("off")


def card(layer: str, index: int, kernel: np.ndarray, scale: float, preferred: np.ndarray,
         patches: np.ndarray, stats: dict, partners: Sequence = ()) -> bytes:
  """PNG bytes of the card of filter `index` of `layer`.

  Args:
    kernel: ``[k, k, c_in]``, this filter's weights; `scale`: the layer's largest |w|.
    preferred: ``[rf, rf, c]`` in [0, 1]; patches: ``[n, rf, rf, c]`` in [0, 1].
    stats: ``firing``, ``achieved``, ``test_median``, ``test_best``, ``dead`` of this filter.
    partners: :class:`tfcnn.analysis.partners.Partner` of this filter in other runs.
  """
  fig = plt.figure(figsize=(10.5, 3.2 + 1.9 * bool(partners)))
  if partners:
    outer = fig.add_gridspec(2, 1, height_ratios=[3.2, 1.5], hspace=0.75)
    grid = outer[0].subgridspec(2, 5, width_ratios=[1.8, 1.2, 1, 1, 1], hspace=0.3,
                                wspace=0.35)
    _partners_row(fig, outer[1], partners, scale)
    fig.text(0.5, outer[1].get_position(fig).y1 + 0.12, "the matched filter in each other "
             "run of the study (activation correlation r; weights on this card's scale, "
             "inputs in this run's order)", ha="center", fontsize=8)
  else:
    grid = fig.add_gridspec(2, 5, width_ratios=[1.8, 1.2, 1, 1, 1], hspace=0.3, wspace=0.35)
  ax = fig.add_subplot(grid[:, 0])
  shown = _draw_weights(ax, kernel, scale)
  if kernel.shape[-1] != 3:
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.02).ax.tick_params(labelsize=6)
  ax.set_title(f"weights ({kernel.shape[-1]} input channel{'s' * (kernel.shape[-1] > 1)})",
               fontsize=8)
  ax.axis("off")
  if stats["dead"]:
    ax = fig.add_subplot(grid[:, 1])
    ax.text(0.5, 0.5, "DEAD\nnever fires on\nthe test images", ha="center", va="center",
            color="darkred", fontsize=11)
    ax.axis("off")
  else:
    _show(fig.add_subplot(grid[:, 1]), preferred, "preferred pattern\n(receptive field)")
    for j in range(min(6, len(patches))):
      _show(fig.add_subplot(grid[j // 3, 2 + j % 3]), patches[j], f"top {j + 1}")
  fig.suptitle(f"{layer} filter {index}: fires at {stats['firing']:.0%} of positions; "
               f"preferred pattern {stats['achieved']:.2f} vs test median "
               f"{stats['test_median']:.2f}, best {stats['test_best']:.2f}", fontsize=9)
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=70, bbox_inches="tight")
  plt.close(fig)
  return buffer.getvalue()


def index_page(folder: str | os.PathLike, layers: dict[str, Sequence[str]]) -> pathlib.Path:
  """Writes ``index.html`` in `folder`: per layer, its cards (file names) small, linked."""
  folder = pathlib.Path(folder)
  parts = ["<!doctype html><meta charset='utf-8'><title>filter cards</title>",
           "<style>img{width:300px;margin:2px;border:1px solid #ccc}</style>"]
  for layer, files in layers.items():
    parts.append(f"<h2>{html.escape(layer)}: {len(files)} filters</h2>")
    parts += [f"<a href='{html.escape(f)}'><img src='{html.escape(f)}' alt='{html.escape(f)}'>"
              "</a>" for f in files]
  path = folder / "index.html"
  path.write_text("\n".join(parts) + "\n")
  return path
