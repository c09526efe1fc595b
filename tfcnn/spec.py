"""The architecture grammar: a compact string that describes a Sequential.

A spec is layer tokens joined by ``-``::

    conv32k3-pool2-conv64k3-pool2-conv64k3-flatten-dense64-dense10

Tokens (``<n>`` a positive integer, ``[...]`` optional)::

    conv<filters>[k<size>][s<stride>][same|valid][nobias][:<act>]
        2-D convolution; defaults k3, s1, valid padding, relu.
    maxpool<size>[s<stride>][same|valid]   (``pool<size>`` is the same)
    avgpool<size>[s<stride>][same|valid]
        pooling; the stride defaults to the window size, padding to valid.
    dense<units>[nobias][:<act>]
        fully connected; relu, except the *last* dense layer of the spec,
        which defaults to linear (it produces the logits).
    flatten
    dropout<rate>      e.g. dropout0.25; rate in [0, 1)
    bn                 batch normalisation
    relu | selu | elu | sigmoid | tanh | softmax | linear
        an activation on its own, e.g. ``conv32k3:linear-bn-relu``

``<act>`` is one of the activation names. Layers with a SELU activation are
initialised with ``lecun_normal``, all others with ``glorot_uniform``.

:func:`canonical` writes every default out, so ``canonical(s)`` parses to the
same model as ``s`` and is a fixed point. Named presets (:data:`PRESETS`)
may be used wherever a spec is expected.
"""

import re
from typing import Sequence

from tfcnn import activations, model
from tfcnn.errors import SpecError
from tfcnn.layers import (Activation, AvgPool2D, BatchNorm, Conv2D, Dense,
                          Dropout, Flatten, Layer, MaxPool2D)

PRESETS: dict[str, str] = {
    # The seed CNN of the series this project grew from.
    "seed_cnn": "conv32k3-maxpool2-conv64k3-maxpool2-conv64k3-flatten-dense64-dense10",
    # The seed's dense-only network, 784-70-30-10 with sigmoids.
    "mlp": "flatten-dense70:sigmoid-dense30:sigmoid-dense10",
    # A stronger net for Fashion-MNIST: VGG-style blocks, batch norm, dropout.
    "fashion_cnn": (
        "conv32k3same:linear-bn-relu-conv32k3same:linear-bn-relu-maxpool2-dropout0.25-"
        "conv64k3same:linear-bn-relu-conv64k3same:linear-bn-relu-maxpool2-dropout0.25-"
        "flatten-dense256:linear-bn-relu-dropout0.5-dense10"),
}

_ACT = "|".join(activations.ACTIVATIONS)
_PATTERNS = {
    "conv": re.compile(
        rf"conv(?P<n>\d+)(?:k(?P<k>\d+))?(?:s(?P<s>\d+))?(?P<pad>same|valid)?"
        rf"(?P<nobias>nobias)?(?::(?P<act>{_ACT}))?"),
    "pool": re.compile(
        r"(?P<kind>maxpool|avgpool|pool)(?P<n>\d+)(?:s(?P<s>\d+))?(?P<pad>same|valid)?"),
    "dense": re.compile(rf"dense(?P<n>\d+)(?P<nobias>nobias)?(?::(?P<act>{_ACT}))?"),
    "dropout": re.compile(r"dropout(?P<rate>\d*\.?\d+)"),
}
_EXPECTED = {
    "conv": "conv<filters>[k<size>][s<stride>][same|valid][nobias][:<activation>]",
    "pool": "maxpool<size>[s<stride>][same|valid] or avgpool<size>[...]",
    "dense": "dense<units>[nobias][:<activation>]",
    "dropout": "dropout<rate> with 0 <= rate < 1, e.g. dropout0.25",
}
_GRAMMAR_HINT = ("a layer token: conv..., maxpool..., avgpool..., dense..., "
                 "flatten, dropout<rate>, bn, or an activation "
                 f"({', '.join(activations.ACTIVATIONS)})")


def _family(token: str) -> str | None:
  for family in ("conv", "dense", "dropout"):
    if token.startswith(family):
      return family
  if token.startswith(("maxpool", "avgpool", "pool")):
    return "pool"
  return None


def _kernel_init(act: str) -> str:
  return "lecun_normal" if act == "selu" else "glorot_uniform"


def _positive(value: str | None, default: int, what: str, fail) -> int:
  if value is None:
    return default
  number = int(value)
  if number < 1:
    fail(f"{what} must be at least 1")
  return number


def resolve(spec_or_preset: str) -> str:
  """Returns the spec a preset name stands for, or `spec_or_preset` itself."""
  return PRESETS.get(spec_or_preset.strip(), spec_or_preset.strip())


def parse(spec_or_preset: str) -> list[Layer]:
  """Parses a spec (or preset name) into fresh, unbuilt layers.

  Raises:
    SpecError: naming the bad token, its position and what was expected.
  """
  spec = resolve(spec_or_preset)
  if not spec:
    raise SpecError("empty architecture spec; give a preset "
                    f"({', '.join(PRESETS)}) or tokens joined by '-'")
  tokens = spec.split("-")
  dense_positions = [i for i, t in enumerate(tokens) if t.strip().startswith("dense")]
  last_dense = dense_positions[-1] if dense_positions else -1
  result = []
  for position, raw in enumerate(tokens):
    token = raw.strip()

    def fail(why: str, token=token, position=position):
      raise SpecError(f"in spec {spec!r}: token {position + 1} {token!r}: {why}")

    family = _family(token)
    kind = re.match(r"[a-z]*", token).group(0).replace("nobias", "")
    kind = "maxpool" if kind == "pool" else kind.removesuffix("k")
    name = f"{kind or 'layer'}_{position}"
    if not token:
      fail("empty token (two '-' in a row, or a '-' at an end)")
    if token == "flatten":
      result.append(Flatten(name=name))
    elif token == "bn":
      result.append(BatchNorm(name=name))
    elif token in activations.ACTIVATIONS:
      result.append(Activation(token, name=name))
    elif family is None:
      fail(f"not {_GRAMMAR_HINT}")
    else:
      match = _PATTERNS[family].fullmatch(token)
      if match is None:
        fail(f"expected {_EXPECTED[family]}")
      g = match.groupdict()
      if family == "conv":
        act = g["act"] or "relu"
        result.append(Conv2D(
            _positive(g["n"], 1, "filters", fail), _positive(g["k"], 3, "kernel size", fail),
            strides=_positive(g["s"], 1, "stride", fail), padding=g["pad"] or "valid",
            activation=act, use_bias=not g["nobias"], kernel_init=_kernel_init(act), name=name))
      elif family == "pool":
        size = _positive(g["n"], 2, "pool size", fail)
        cls = AvgPool2D if g["kind"] == "avgpool" else MaxPool2D
        result.append(cls(size, strides=_positive(g["s"], size, "stride", fail),
                          padding=g["pad"] or "valid", name=name))
      elif family == "dense":
        act = g["act"] or ("linear" if position == last_dense else "relu")
        result.append(Dense(_positive(g["n"], 1, "units", fail), activation=act,
                            use_bias=not g["nobias"], kernel_init=_kernel_init(act),
                            name=name))
      else:
        rate = float(g["rate"])
        if not 0.0 <= rate < 1.0:
          fail(f"dropout rate {rate:g} is outside [0, 1)")
        result.append(Dropout(rate, name=name))
  return result


def canonical(spec_or_preset: str) -> str:
  """The spec with every default written out (a fixed point of itself)."""
  return "-".join(layer.spec_token() for layer in parse(spec_or_preset))


def build(spec_or_preset: str, seed: int = 0,
          input_shape: Sequence[int] = (28, 28, 1)) -> model.Sequential:
  """Parses `spec_or_preset` and returns a built, seeded Sequential.

  Raises:
    SpecError: for a spec that does not parse.
    ShapeError: for a spec whose shapes do not fit `input_shape`, naming the
      layer and the shapes.
  """
  net = model.Sequential(parse(spec_or_preset), seed=seed)
  net.build(input_shape)
  return net


def widen(spec_or_preset: str, factor: float) -> str:
  """The canonical spec with every conv layer's filters and every hidden dense layer's units
  multiplied by `factor` (rounded, at least 1); the output layer keeps its size.

  Raises:
    SpecError: for a spec that does not parse or a factor that is not positive.
  """
  if not factor > 0:
    raise SpecError(f"a width factor must be positive, got {factor}")
  tokens = canonical(spec_or_preset).split("-")
  last_dense = max((i for i, t in enumerate(tokens) if t.startswith("dense")), default=-1)
  widened = []
  for i, token in enumerate(tokens):
    match = re.match(r"(conv|dense)(\d+)(.*)", token)
    if match and i != last_dense:
      size = max(1, int(round(int(match.group(2)) * factor)))
      token = f"{match.group(1)}{size}{match.group(3)}"
    widened.append(token)
  return "-".join(widened)
