"""Labelled pictures for TensorBoard: which image, which class, which filter, what scale.

:mod:`tfcnn.summaries.grids` tiles maps into bare grids (fast, TensorFlow
ops). A person looking at them in TensorBoard also needs words: which probe
image this is and what the network made of it, which tile is which filter,
what colour means what. These panels add them, drawn with Pillow on NumPy
arrays — milliseconds per panel, so every epoch can have them.

All panels are ``uint8 [H, W, 3]`` on a dark teal background
(:data:`BACKGROUND`), a colour neither a grey feature map nor a red–white–blue
weight tile ever takes, so gaps cannot be mistaken for pixels. Each tile has
its index written in a band above it, never on its pixels.
"""

import dataclasses
import functools
import math
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tfcnn.summaries import grids

BACKGROUND = (22, 60, 52)
TEXT = (235, 235, 235)
RIGHT = (130, 225, 130)
WRONG = (255, 125, 110)
GAP = 3          # pixels between tiles and around the panel
FONT_SIZE = 11
BAND = FONT_SIZE + 3   # the label band above each tile


@functools.lru_cache(maxsize=4)
def _font(size: int = FONT_SIZE) -> ImageFont.ImageFont:
  return ImageFont.load_default(size=size)


def text_width(text: str, size: int = FONT_SIZE) -> int:
  """Width in pixels of `text` in the panels' font."""
  left, _, right, _ = _font(size).getbbox(text)
  return int(math.ceil(right - left))


@dataclasses.dataclass(frozen=True)
class TileGrid:
  """A labelled grid: the picture and where each tile's pixels start."""
  image: np.ndarray                       # uint8 [H, W, 3]
  positions: tuple[tuple[int, int], ...]  # (top, left) of tile i's pixels
  scale: int                              # whole-pixel upscaling of every tile


def _canvas(height: int, width: int) -> np.ndarray:
  return np.broadcast_to(np.asarray(BACKGROUND, np.uint8), (height, width, 3)).copy()


def _write(image: np.ndarray, lines: Sequence[tuple[str, tuple[int, int, int]]],
           top: int, left: int) -> np.ndarray:
  """`image` with `lines` of ``(text, colour)`` written from (top, left) down."""
  picture = Image.fromarray(image)
  draw = ImageDraw.Draw(picture)
  for n, (text, colour) in enumerate(lines):
    draw.text((left, top + n * BAND), text, fill=colour, font=_font())
  return np.asarray(picture)


def tile_grid(tiles: np.ndarray, labels: Sequence[str], columns: int | None = None,
              min_tile: int = 28) -> TileGrid:
  """Tiles ``[n, h, w, 3]`` (floats in [0, 1] or uint8) in a near-square grid,
  each scaled up by whole pixels to at least `min_tile` high, with its label
  in a band above it, row-major."""
  tiles = np.asarray(tiles)
  if tiles.dtype != np.uint8:
    tiles = np.round(np.clip(tiles, 0.0, 1.0) * 255.0).astype(np.uint8)
  n, h, w, _ = tiles.shape
  columns = columns or grids.grid_columns(n)
  rows = math.ceil(n / columns)
  scale = grids.upscale_factor(h, min_tile)
  th, tw = h * scale, w * scale
  cell_w = max(tw, max(text_width(label) for label in labels) if labels else 0) + GAP
  cell_h = BAND + th + GAP
  image = _canvas(GAP + rows * cell_h, GAP + columns * cell_w)
  positions = []
  for i in range(n):
    row, column = divmod(i, columns)
    top, left = GAP + row * cell_h + BAND, GAP + column * cell_w
    image[top:top + th, left:left + tw] = np.repeat(np.repeat(tiles[i], scale, 0), scale, 1)
    positions.append((top, left))
  picture = Image.fromarray(image)
  draw = ImageDraw.Draw(picture)
  for (top, left), label in zip(positions, labels):
    draw.text((left, top - BAND + 1), label, fill=TEXT, font=_font())
  return TileGrid(np.asarray(picture), tuple(positions), scale)


def beside(*parts: np.ndarray) -> np.ndarray:
  """Pictures left to right, top-aligned, on the background."""
  height = max(p.shape[0] for p in parts)
  out = _canvas(height, sum(p.shape[1] for p in parts))
  left = 0
  for p in parts:
    out[:p.shape[0], left:left + p.shape[1]] = p
    left += p.shape[1]
  return out


def with_header(image: np.ndarray, lines: Sequence[str]) -> np.ndarray:
  """`image` below `lines` of text; as wide as the wider of the two."""
  width = max([image.shape[1]] + [text_width(line) + 2 * GAP for line in lines])
  head = GAP + BAND * len(lines)
  out = _canvas(head + image.shape[0], width)
  out[head:, :image.shape[1]] = image
  return _write(out, [(line, TEXT) for line in lines], GAP, GAP)


def pad_to_same_size(images: Sequence[np.ndarray]) -> np.ndarray:
  """Pictures of different sizes as one ``[n, H, W, 3]`` stack, padded with background."""
  height = max(p.shape[0] for p in images)
  width = max(p.shape[1] for p in images)
  out = np.stack([_canvas(height, width) for _ in images])
  for o, p in zip(out, images):
    o[:p.shape[0], :p.shape[1]] = p
  return out


def _as_rgb(image: np.ndarray) -> np.ndarray:
  image = np.asarray(image, np.float32)
  return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def feature_maps(image: np.ndarray, maps: np.ndarray, layer: str, true_name: str,
                 predicted_name: str, probability: float, min_tile: int = 28) -> TileGrid:
  """One probe image beside one layer's maps of it.

  Left: the input image (``[h, w, c]`` in [0, 1]) with its true class and the
  network's prediction and probability (green when right, red when wrong).
  Right: every map of `maps` (``[h', w', k]``), each min–max scaled to its own
  range (black = its lowest value; a silent filter is flat black), labelled
  with its filter index. The returned positions are the maps'.
  """
  maps = np.asarray(maps, np.float32)
  low = maps.min(axis=(0, 1), keepdims=True)
  span = maps.max(axis=(0, 1), keepdims=True) - low
  normalised = np.divide(maps - low, span, out=np.zeros_like(maps), where=span > 0)
  tiles = np.repeat(np.moveaxis(normalised, -1, 0)[..., np.newaxis], 3, axis=-1)
  maps_grid = tile_grid(tiles, [str(f) for f in range(maps.shape[-1])], min_tile=min_tile)
  colour = RIGHT if true_name == predicted_name else WRONG
  caption = [(f"true {true_name}", TEXT),
             (f"predicted {predicted_name}", colour), (f"p = {probability:.2f}", colour)]
  shown = np.asarray(image, np.float32)
  zoom = grids.upscale_factor(shown.shape[0], 84)
  picture = np.round(np.clip(_as_rgb(shown), 0, 1) * 255).astype(np.uint8)
  picture = np.repeat(np.repeat(picture, zoom, 0), zoom, 1)
  width = max(picture.shape[1], max(text_width(t) for t, _ in caption)) + 2 * GAP
  left = _canvas(GAP + BAND + picture.shape[0] + GAP + BAND * len(caption), width)
  left[GAP + BAND:GAP + BAND + picture.shape[0], GAP:GAP + picture.shape[1]] = picture
  left = _write(left, caption, GAP + BAND + picture.shape[0] + GAP, GAP)
  body = beside(left, maps_grid.image)
  lines = [f"{layer}: {maps.shape[-1]} maps of this image, numbered by filter",
           "each map scaled to its own range: black = its lowest; all black = silent"]
  image_out = with_header(body, lines)
  head = GAP + BAND * len(lines)
  positions = tuple((top + head, l + left.shape[1]) for top, l in maps_grid.positions)
  return TileGrid(image_out, positions, maps_grid.scale)


def colour_bar(height: int, scale: float) -> np.ndarray:
  """A vertical red–white–blue bar from ``+scale`` (top) to ``-scale``, with its values."""
  labels = [f"+{scale:.2g}", "0", f"-{scale:.2g}"]
  bar_w = 10
  width = GAP + bar_w + GAP + max(text_width(t) for t in labels) + GAP
  height = max(height, 3 * BAND + 2 * GAP)
  out = _canvas(height, width)
  span = height - 2 * GAP - BAND
  values = np.linspace(scale, -scale, span, dtype=np.float32)
  colours = grids.diverging_rgb(values, np.float32(scale)).numpy()
  rgb = np.round(colours * 255).astype(np.uint8)
  out[GAP + BAND // 2:GAP + BAND // 2 + span, GAP:GAP + bar_w] = rgb[:, np.newaxis, :]
  x = GAP + bar_w + GAP
  ys = [GAP, GAP + BAND // 2 + span // 2 - BAND // 2, GAP + span - BAND // 2]
  picture = Image.fromarray(out)
  draw = ImageDraw.Draw(picture)
  for y, text in zip(ys, labels):
    draw.text((x, y), text, fill=TEXT, font=_font())
  return np.asarray(picture)


def weights(kernel: np.ndarray, layer: str, count: int, min_tile: int = 28) -> list[np.ndarray]:
  """A conv layer's weights ``[k, k, c_in, c_out]`` as labelled panels.

  One scale for the whole layer (its largest ``|w|``), so tiles compare in
  sign and size. One input channel (a first layer on grey images): one panel,
  a tile per filter, red positive, blue negative, with a colour bar. Three (a
  first layer on RGB images): one panel of colour tiles, each the colour its
  filter responds to (mid-grey = 0). Otherwise: a panel for each of the first
  `count` filters, a tile per input channel, with a colour bar.
  """
  kernel = np.asarray(kernel, np.float32)
  size, _, channels, filters = kernel.shape
  scale = float(np.abs(kernel).max()) or 1.0
  if channels == 3:
    tiles = np.moveaxis(0.5 + 0.5 * kernel / scale, -1, 0)
    grid = tile_grid(tiles, [str(f) for f in range(filters)], min_tile=min_tile)
    return [with_header(grid.image, [f"{layer}: {filters} filters, each drawn as the colour "
                                     f"it responds to (mid-grey = 0)"])]
  if channels == 1:
    groups = [(np.moveaxis(kernel[:, :, 0, :], -1, 0),
               f"{layer}: {filters} filters ({size}x{size}), one scale for the layer")]
  else:
    groups = [(np.moveaxis(kernel[:, :, :, f], -1, 0),
               f"{layer} filter {f}: its {size}x{size} weights on each of {channels} inputs")
              for f in range(min(count, filters))]
  panels = []
  for maps, title in groups:
    tiles = grids.diverging_rgb(maps, np.float32(scale)).numpy()
    grid = tile_grid(tiles, [str(i) for i in range(len(maps))], min_tile=min_tile)
    panels.append(with_header(beside(grid.image, colour_bar(grid.image.shape[0], scale)),
                              [title]))
  return panels
