"""Shapes, parameter counts and receptive fields of a stack of layers.

Receptive-field arithmetic (Dumoulin & Visin 2016; Araujo et al. 2019), per
axis, for a layer with window ``k``, stride ``s`` and left padding ``p`` on an
input whose nodes are ``jump`` input pixels apart and whose first node is
centred on input pixel ``start``::

    rf_out    = rf_in + (k - 1) * jump_in
    jump_out  = jump_in * s
    start_out = start_in + ((k - 1) / 2 - p) * jump_in

Worked example (the seed CNN on 28x28 inputs)::

    conv3   26x26  rf  3  jump 1
    pool2   13x13  rf  4  jump 2
    conv3   11x11  rf  8  jump 2
    pool2    5x5   rf 10  jump 4
    conv3    3x3   rf 18  jump 4   -> each node sees 18x18 input pixels

Node ``(i, j)`` of a layer is centred on input pixel
``(start + i * jump, start + j * jump)``; its receptive field is the
``rf x rf`` square around that centre (clipped to the image where padding
reaches outside it).
"""

import dataclasses
from typing import Sequence

from tfcnn.layers import base


@dataclasses.dataclass(frozen=True)
class LayerGeometry:
  """What one layer does to shapes, and what its nodes see of the input."""
  index: int
  name: str
  token: str
  output_shape: tuple[int, ...]
  num_params: int
  receptive_field: int | None  # side of the square of input pixels, spatial layers only
  jump: int | None             # input pixels between neighbouring nodes
  start: float | None          # input pixel on which node (0, 0) is centred


def _left_padding(size: int, window: int, stride: int, padding: str) -> int:
  if padding != "same":
    return 0
  out = -(-size // stride)
  return max((out - 1) * stride + window - size, 0) // 2


def layer_geometry(layers: Sequence[base.Layer],
                   input_shape: Sequence[int]) -> list[LayerGeometry]:
  """Walks `layers` from `input_shape` (no batch axis), one entry per layer.

  Raises:
    ShapeError: naming the first layer whose input does not fit it.
  """
  shape = tuple(int(d) for d in input_shape)
  rf, jump, start, spatial = 1, 1, 0.0, len(shape) == 3
  result = []
  for index, layer in enumerate(layers):
    in_shape = shape
    shape = layer.output_shape(in_shape)
    spatial = spatial and len(shape) == 3
    if spatial and layer.window is not None:
      k, s, padding = layer.window
      p = _left_padding(in_shape[0], k, s, padding)
      start = start + ((k - 1) / 2 - p) * jump
      rf += (k - 1) * jump
      jump *= s
    result.append(LayerGeometry(
        index=index, name=layer.name, token=layer.display_token(),
        output_shape=shape, num_params=layer.num_params(in_shape),
        receptive_field=rf if spatial else None,
        jump=jump if spatial else None,
        start=start if spatial else None))
  return result


def format_table(rows: Sequence[LayerGeometry], input_shape: Sequence[int]) -> str:
  """A plain-text table of `rows`, with totals."""
  header = ("#", "layer", "spec", "output shape", "params", "receptive field", "jump")
  lines = [("", "input", "", "x".join(map(str, input_shape)), "", "1x1", "1")]
  for r in rows:
    lines.append((
        str(r.index), r.name, r.token, "x".join(map(str, r.output_shape)),
        f"{r.num_params:,}",
        f"{r.receptive_field}x{r.receptive_field}" if r.receptive_field else "",
        str(r.jump) if r.jump else ""))
  widths = [max(len(row[i]) for row in [header] + lines) for i in range(len(header))]
  fmt = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
  rule = "-" * len(fmt(header))
  total = sum(r.num_params for r in rows)
  return "\n".join([fmt(header), rule] + [fmt(l) for l in lines] +
                   [rule, f"total parameters: {total:,}"])


def forward_flops(layers: Sequence[base.Layer], input_shape: Sequence[int]) -> int:
  """Floating-point operations of one forward pass for one example.

  Counts multiply and add separately (2 per multiply-accumulate) in conv and
  dense layers, which dominate; pooling, activations and batch norm are left
  out (a few per element). :func:`train_flops` is the training step's count.
  """
  from tfcnn.layers import Conv2D, Dense  # a late import keeps geometry free of cycles
  shape, total = tuple(input_shape), 0
  for layer in layers:
    out = layer.output_shape(shape)
    if isinstance(layer, Conv2D):
      total += 2 * layer.kernel_size ** 2 * shape[-1] * out[0] * out[1] * out[2]
    elif isinstance(layer, Dense):
      total += 2 * shape[-1] * out[-1]
    shape = out
  return total


def train_flops(layers: Sequence[base.Layer], input_shape: Sequence[int]) -> int:
  """Floating-point operations of one training step for one example: 3x
  :func:`forward_flops`, the forward pass and a backward pass with two
  products of the same size (gradients for the inputs and for the weights).

  A nominal count: the first layer's input gradient, never needed, is in it.
  """
  return 3 * forward_flops(layers, input_shape)
