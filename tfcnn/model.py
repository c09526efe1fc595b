"""The Sequential model: a stack of layers with one seed."""

import dataclasses
from typing import Callable, Sequence

import tensorflow as tf

from tfcnn import geometry
from tfcnn.errors import SpecError
from tfcnn.layers import base


@dataclasses.dataclass(frozen=True)
class Summary:
  """What :meth:`Sequential.summary` returns: the rows and the printed table."""
  input_shape: tuple[int, ...]
  layers: tuple[geometry.LayerGeometry, ...]
  num_params: int
  num_trainable_params: int
  table: str

  def __str__(self) -> str:
    return self.table

  def __repr__(self) -> str:   # a REPL shows the table, not the fields
    return self.table


class Sequential(tf.Module):
  """Layers applied one after another.

  Every layer without an explicit seed gets ``(seed, position)``, so the
  initial weights depend only on the run seed and the layer's position.

  Example:
    >>> from tfcnn import layers
    >>> model = Sequential([layers.Flatten(), layers.Dense(10)], seed=1)
    >>> model.build((28, 28, 1))
    >>> model(tf.zeros([2, 28, 28, 1])).shape
    TensorShape([2, 10])
  """

  def __init__(self, layers: Sequence[base.Layer], seed: int = 0,
               name: str = "sequential"):
    super().__init__(name=name)
    if not layers:
      raise ValueError("a Sequential model needs at least one layer")
    for position, layer in enumerate(layers):
      if not isinstance(layer, base.Layer):
        raise TypeError(
            f"layer {position} ({type(layer).__name__}) is not a tfcnn layer: subclass "
            "tfcnn.layers.Layer and define _forward(x, training) and output_shape(input_shape) "
            "(and _create_variables(input_shape) if it has weights)")
    self.layers = list(layers)
    self.seed = int(seed)
    for position, layer in enumerate(self.layers):
      if layer.seed == (0, 0):
        layer.seed = (self.seed, position)
    self.input_shape: tuple[int, ...] | None = None

  def build(self, input_shape: Sequence[int]) -> None:
    """Checks the shapes fit and creates every variable (eagerly).

    `input_shape` excludes the batch axis, e.g. ``(28, 28, 1)``.

    Raises:
      ShapeError: naming the first layer that does not fit its input.
    """
    input_shape = tuple(int(d) for d in input_shape)
    geometry.layer_geometry(self.layers, input_shape)  # fail before creating
    shape = input_shape
    for layer in self.layers:
      layer.build(shape)
      shape = layer.output_shape(shape)
    self.input_shape = input_shape

  def __call__(self, x: tf.Tensor, training: bool | tf.Tensor = False) -> tf.Tensor:
    """The model's output (logits for a classifier) for a batch `x`.

    The first call builds the model for ``x``'s shape, as :meth:`build` does.
    """
    x = tf.convert_to_tensor(x)
    input_shape = tuple(x.shape[1:])
    for layer in self.layers:
      x = layer(x, training=training)
    if self.input_shape is None and all(d is not None for d in input_shape):
      self.input_shape = tuple(int(d) for d in input_shape)
    return x

  def call_with_outputs(self, x: tf.Tensor,
                        training: bool | tf.Tensor = False) -> list[tf.Tensor]:
    """Every layer's output, in order, from one forward pass."""
    outputs = []
    for layer in self.layers:
      x = layer(x, training=training)
      outputs.append(x)
    return outputs

  @property
  def variables(self) -> tuple[tf.Variable, ...]:
    """All variables in layer order (kernel before bias within a layer)."""
    return tuple(v for layer in self.layers for v in layer.variables)

  @property
  def trainable_variables(self) -> tuple[tf.Variable, ...]:
    """Trainable variables in layer order, kernel before bias."""
    return tuple(v for layer in self.layers for v in layer.trainable_variables)

  @property
  def kernels(self) -> tuple[tf.Variable, ...]:
    """The kernels of conv and dense layers (what L1/L2 penalise)."""
    return tuple(layer.kernel for layer in self.layers if hasattr(layer, "kernel"))

  @property
  def spec(self) -> str:
    """The model in the spec grammar (canonical form).

    Raises:
      SpecError: if a layer cannot be written as a spec token (a custom
        layer without ``spec_token()``, or a custom activation function).
    """
    try:
      return "-".join(layer.spec_token() for layer in self.layers)
    except NotImplementedError as e:
      raise SpecError(str(e)) from None

  def summary(self, input_shape: Sequence[int] | None = None,
              print_fn: Callable[[str], None] | None = None) -> Summary:
    """Returns the layer table (a :class:`Summary`; printing it shows the table).

    In a REPL ``model.summary()`` shows the table once; in a program,
    ``print(model.summary())`` or pass ``print_fn=print``.

    Columns: layer, output shape, parameters, and for spatial layers the
    receptive field on the input image and the jump (effective stride).
    """
    shape = tuple(input_shape or self.input_shape or ())
    if not shape:
      raise ValueError("summary() needs an input shape: build the model, call it on a "
                       "batch, or pass input_shape, e.g. (28, 28, 1)")
    rows = geometry.layer_geometry(self.layers, shape)
    in_shapes = [shape] + [row.output_shape for row in rows[:-1]]
    trainable = sum(layer.num_trainable_params(s)
                    for layer, s in zip(self.layers, in_shapes))
    result = Summary(input_shape=shape, layers=tuple(rows),
                     num_params=sum(r.num_params for r in rows),
                     num_trainable_params=trainable,
                     table=geometry.format_table(rows, shape))
    if print_fn is not None:
      print_fn(result.table)
    return result
