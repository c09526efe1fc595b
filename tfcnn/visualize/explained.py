"""One probe image explained: the image with its true and predicted class, where the
prediction rests (saliency, Grad-CAM) and what each layer makes of it (maps with indices).

Written with matplotlib as a PNG a person reads without TensorBoard, and
returned as PNG bytes so that a script can log the same picture to it.
"""

import io
import math
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _show_image(ax, image: np.ndarray) -> None:
  if image.shape[-1] == 3:
    ax.imshow(np.clip(image, 0, 1))
  else:
    ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
  ax.axis("off")


def _maps_panel(fig, spec, maps: np.ndarray, name: str, limit: int) -> None:
  """Up to `limit` maps ``[h, w, k]`` in a grid, each titled with its filter index."""
  count = min(limit, maps.shape[-1])
  columns = math.ceil(math.sqrt(count))
  rows = math.ceil(count / columns)
  grid = spec.subgridspec(rows + 1, columns, height_ratios=[0.25] + [1] * rows,
                          hspace=0.35, wspace=0.08)
  head = fig.add_subplot(grid[0, :])
  head.axis("off")
  head.text(0.5, 0.0, f"{name}: filters 0–{count - 1} of {maps.shape[-1]}", ha="center",
            va="bottom", fontsize=8)
  for f in range(count):
    ax = fig.add_subplot(grid[1 + f // columns, f % columns])
    m = maps[..., f]
    span = m.max() - m.min()
    ax.imshow((m - m.min()) / span if span > 0 else np.full_like(m, 0.5), cmap="gray",
              vmin=0, vmax=1)
    ax.set_title(str(f), fontsize=6, pad=1)
    ax.axis("off")


def figure(image: np.ndarray, true_name: str, predicted_name: str, probability: float,
           saliency: np.ndarray, cam: np.ndarray, cam_layer: str,
           layer_maps: Sequence[tuple[str, np.ndarray]], max_maps: int = 16) -> bytes:
  """PNG bytes: the image, saliency and Grad-CAM in a row, then each layer's maps.

  Args:
    image: ``[h, w, c]`` in [0, 1].
    saliency, cam: ``[h, w]`` in [0, 1] (see :mod:`tfcnn.visualize.attribution`).
    layer_maps: ``(layer name, [h', w', k] maps)`` for each layer to show.
  """
  fig = plt.figure(figsize=(3.2 * max(3, len(layer_maps)), 3.2 + 3.4))
  outer = fig.add_gridspec(2, max(3, len(layer_maps)), height_ratios=[1, 1.15], hspace=0.25)
  ax = fig.add_subplot(outer[0, 0])
  _show_image(ax, image)
  right = "right" if true_name == predicted_name else "WRONG"
  ax.set_title(f"true {true_name}\npredicted {predicted_name} (p={probability:.2f}, {right})",
               fontsize=9)
  ax = fig.add_subplot(outer[0, 1])
  ax.imshow(saliency, cmap="inferno", vmin=0, vmax=1)
  ax.set_title("saliency |∂ logit / ∂ pixel|", fontsize=9)
  ax.axis("off")
  ax = fig.add_subplot(outer[0, 2])
  _show_image(ax, image)
  ax.imshow(cam, cmap="jet", alpha=0.45, vmin=0, vmax=1)
  ax.set_title(f"Grad-CAM at {cam_layer}", fontsize=9)
  for column, (name, maps) in enumerate(layer_maps):
    _maps_panel(fig, outer[1, column], maps, name, max_maps)
  fig.text(0.5, 0.01, "feature maps: each to its own range, black = lowest; flat grey: the "
           "filter is silent on this image", ha="center", fontsize=8)
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
  plt.close(fig)
  return buffer.getvalue()
