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
INPUT_HEIGHT = 84      # a feature-map panel shows its input at least this high


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
  out = np.empty((height, width, 3), np.uint8)
  out[...] = BACKGROUND
  return out


def _write(image: np.ndarray, lines: Sequence[tuple[str, tuple[int, int, int]]],
           top: int, left: int) -> np.ndarray:
  """`image` with `lines` of ``(text, colour)`` written from (top, left) down
  (drawn on the lines' strip only: a panel is not copied through Pillow)."""
  height = min(BAND * len(lines) + 2, image.shape[0] - top)
  width = min(max(text_width(t) for t, _ in lines) + 2, image.shape[1] - left)
  picture = Image.fromarray(np.ascontiguousarray(image[top:top + height, left:left + width]))
  draw = ImageDraw.Draw(picture)
  for n, (text, colour) in enumerate(lines):
    draw.text((0, n * BAND), text, fill=colour, font=_font())
  out = image if image.flags.writeable else image.copy()
  out[top:top + height, left:left + width] = np.asarray(picture)
  return out


@functools.lru_cache(maxsize=64)
def _grid_template(n: int, h: int, w: int, labels: tuple[str, ...], columns: int,
                   min_tile: int) -> TileGrid:
  """A :func:`tile_grid` with black tiles: background, labels and positions, drawn once."""
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
    image[top:top + th, left:left + tw] = 0
    positions.append((top, left))
  picture = Image.fromarray(image)
  draw = ImageDraw.Draw(picture)
  for (top, left), label in zip(positions, labels):
    draw.text((left, top - BAND + 1), label, fill=TEXT, font=_font())
  image = np.asarray(picture)
  image.setflags(write=False)
  return TileGrid(image, tuple(positions), scale)


def _paste(image: np.ndarray, tiles: np.ndarray, positions: Sequence[tuple[int, int]],
           scale: int) -> np.ndarray:
  """`image` with uint8 tiles ``[n, h, w, 1 or 3]`` scaled up `scale` times at `positions`."""
  _, h, w, _ = tiles.shape
  scaled = np.repeat(np.repeat(tiles, scale, 1), scale, 2)
  for tile, (top, left) in zip(scaled, positions):
    image[top:top + h * scale, left:left + w * scale] = tile
  return image


def tile_grid(tiles: np.ndarray, labels: Sequence[str], columns: int | None = None,
              min_tile: int = 24) -> TileGrid:
  """Tiles ``[n, h, w, 3]`` (floats in [0, 1] or uint8) in a near-square grid,
  each scaled up by whole pixels to at least `min_tile` high, with its label
  in a band above it, row-major. The layout and labels are drawn once per
  shape and reused."""
  tiles = np.asarray(tiles)
  if tiles.dtype != np.uint8:
    tiles = np.round(np.clip(tiles, 0.0, 1.0) * 255.0).astype(np.uint8)
  n, h, w, _ = tiles.shape
  template = _grid_template(n, h, w, tuple(labels), columns or grids.grid_columns(n), min_tile)
  image = _paste(template.image.copy(), tiles, template.positions, template.scale)
  return TileGrid(image, template.positions, template.scale)


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
  if all(p.shape[:2] == (height, width) for p in images):
    return np.stack(images)
  out = np.stack([_canvas(height, width) for _ in images])
  for o, p in zip(out, images):
    o[:p.shape[0], :p.shape[1]] = p
  return out


def _as_rgb(image: np.ndarray) -> np.ndarray:
  image = np.asarray(image, np.float32)
  return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


@dataclasses.dataclass(frozen=True)
class _MapsTemplate:
  """What a feature-map panel's values do not change, drawn once per layer."""
  image: np.ndarray                       # background, header and tile numbers
  positions: tuple[tuple[int, int], ...]  # (top, left) of each map
  scale: int                              # upscaling of the maps
  zoom: int                               # upscaling of the input image
  picture_at: tuple[int, int]
  caption_at: tuple[int, int]


@functools.lru_cache(maxsize=64)
def _maps_template(image_shape: tuple[int, ...], maps_shape: tuple[int, ...], layer: str,
                   left_width: int, min_tile: int) -> _MapsTemplate:
  h, w, k = maps_shape
  grid = _grid_template(k, h, w, tuple(str(f) for f in range(k)), grids.grid_columns(k),
                        min_tile)
  zoom = grids.upscale_factor(image_shape[0], INPUT_HEIGHT)
  left = _canvas(GAP + BAND + image_shape[0] * zoom + GAP + BAND * 3, left_width)
  lines = [f"{layer}: {k} maps of this image, numbered by filter",
           "each map scaled to its own range: black = its lowest; all black = silent"]
  image = with_header(beside(left, grid.image), lines)
  head = GAP + BAND * len(lines)
  image.setflags(write=False)
  return _MapsTemplate(
      image, tuple((top + head, x + left_width) for top, x in grid.positions), grid.scale, zoom,
      (head + GAP + BAND, GAP), (head + GAP + BAND + image_shape[0] * zoom + GAP, GAP))


def feature_maps(image: np.ndarray, maps: np.ndarray, layer: str, true_name: str,
                 predicted_name: str, probability: float, min_tile: int = 24) -> TileGrid:
  """One probe image beside one layer's maps of it.

  Left: the input image (``[h, w, c]`` in [0, 1]) with its true class and the
  network's prediction and probability (green when right, red when wrong).
  Right: every map of `maps` (``[h', w', k]``), each min–max scaled to its own
  range (black = its lowest value; a silent filter is flat black), labelled
  with its filter index. The returned positions are the maps'. What does not
  depend on the values (header, numbers) is drawn once per layer and reused:
  a panel costs about a millisecond, so every epoch can have them.
  """
  normalised = grids.normalize_maps(np.asarray(maps, np.float32)).numpy()
  colour = RIGHT if true_name == predicted_name else WRONG
  caption = [(f"true {true_name}", TEXT),
             (f"predicted {predicted_name}", colour), (f"p = {probability:.2f}", colour)]
  shown = np.asarray(image, np.float32)
  zoom = grids.upscale_factor(shown.shape[0], INPUT_HEIGHT)
  left_width = max(shown.shape[1] * zoom, max(text_width(t) for t, _ in caption)) + 2 * GAP
  template = _maps_template(tuple(shown.shape), tuple(maps.shape), layer, left_width, min_tile)
  out = template.image.copy()
  picture = np.round(np.clip(_as_rgb(shown), 0, 1) * 255).astype(np.uint8)
  out = _paste(out, picture[np.newaxis], [template.picture_at], template.zoom)
  tiles = np.round(np.moveaxis(normalised, -1, 0) * 255).astype(np.uint8)[..., np.newaxis]
  out = _paste(out, tiles, template.positions, template.scale)
  top, left = template.caption_at
  return TileGrid(_write(out, caption, top, left), template.positions, template.scale)


def colour_bar(height: int, scale: float) -> np.ndarray:
  """A vertical red–white–blue bar from ``+scale`` (top) to ``-scale``, with its values."""
  labels = [f"+{scale:.2g}", "0", f"-{scale:.2g}"]
  bar_w = 10
  width = GAP + bar_w + GAP + max(text_width(t) for t in labels) + GAP
  height = max(height, 3 * BAND + 2 * GAP)
  out = _canvas(height, width)
  span = height - 2 * GAP - BAND
  colours = grids.diverging_rgb(np.linspace(1.0, -1.0, span), 1.0)
  rgb = np.round(colours * 255).astype(np.uint8)
  out[GAP + BAND // 2:GAP + BAND // 2 + span, GAP:GAP + bar_w] = rgb[:, np.newaxis, :]
  x = GAP + bar_w + GAP
  ys = [GAP, GAP + BAND // 2 + span // 2 - BAND // 2, GAP + span - BAND // 2]
  for y, text in zip(ys, labels):
    out = _write(out, [(text, TEXT)], y, x)
  return out


def _headed(grid: TileGrid, body: np.ndarray, title: str) -> TileGrid:
  """`body` (with `grid` at its top left) under a `title`; positions moved along."""
  head = GAP + BAND
  return TileGrid(with_header(body, [title]),
                  tuple((top + head, left) for top, left in grid.positions), grid.scale)


def weights(kernel: np.ndarray, layer: str, count: int, min_tile: int = 24) -> list[TileGrid]:
  """A conv layer's weights ``[k, k, c_in, c_out]`` as labelled panels.

  One scale for the whole layer (its largest ``|w|``), so tiles compare in
  sign and size. One input channel (a first layer on grey images): one panel,
  a tile per filter, red positive, blue negative, with a colour bar. Three (a
  first layer on RGB images): one panel of colour tiles, each the colour its
  filter responds to (mid-grey = 0). Otherwise: a panel for each of the first
  `count` filters, a tile per input channel, with a colour bar. Positions are
  the tiles' (row-major: filters, or input channels).
  """
  kernel = np.asarray(kernel, np.float32)
  size, _, channels, filters = kernel.shape
  scale = float(np.abs(kernel).max()) or 1.0
  if channels == 3:
    tiles = np.moveaxis(0.5 + 0.5 * kernel / scale, -1, 0)
    grid = tile_grid(tiles, [str(f) for f in range(filters)], min_tile=min_tile)
    return [_headed(grid, grid.image, f"{layer}: {filters} filters, each drawn as the colour "
                                      f"it responds to (mid-grey = 0)")]
  if channels == 1:
    groups = [(np.moveaxis(kernel[:, :, 0, :], -1, 0),
               f"{layer}: {filters} filters ({size}x{size}), one scale for the layer")]
  else:
    groups = [(np.moveaxis(kernel[:, :, :, f], -1, 0),
               f"{layer} filter {f}: its {size}x{size} weights on each of {channels} inputs")
              for f in range(min(count, filters))]
  panels = []
  for maps, title in groups:
    grid = tile_grid(grids.diverging_rgb(maps, scale), [str(i) for i in range(len(maps))],
                     min_tile=min_tile)
    panels.append(_headed(grid, beside(grid.image, colour_bar(grid.image.shape[0], scale)),
                          title))
  return panels
