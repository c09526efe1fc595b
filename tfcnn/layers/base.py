"""The base class of every tfcnn layer.

A layer is a ``tf.Module`` that creates its variables once, lazily, on its
first call (or on :meth:`Layer.build`), inside its own name scope and with
explicit names (``kernel``, ``bias``, ...). Its variables are seeded from a
``(run_seed, position)`` pair, so the initial values depend on the run seed
and the layer's position only — never on what was built before.

Subclasses implement four small pieces:

* ``_create_variables(input_shape)`` — make the variables with
  :meth:`Layer._add_variable`;
* ``_forward(x, training)`` — the computation;
* ``output_shape(input_shape)`` — the shape arithmetic, raising
  :class:`~tfcnn.errors.ShapeError` when the input does not fit;
* ``spec_token()`` — the layer as a token of the spec grammar.
"""

import re
from typing import Sequence

import tensorflow as tf

from tfcnn import activations, initializers
from tfcnn.errors import ShapeError

Shape = tuple[int, ...]  # without the batch dimension


def _snake(name: str) -> str:
  return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Layer(tf.Module):
  """A lazily built layer with ordered, seeded variables."""

  # For the receptive-field arithmetic: (window, stride, padding) of spatial
  # layers, None for layers that do not slide a window.
  window: tuple[int, int, str] | None = None

  def __init__(self, name: str | None = None, seed: initializers.Seed | None = None):
    super().__init__(name=name or _snake(type(self).__name__))
    self.seed: initializers.Seed = tuple(seed) if seed is not None else (0, 0)
    self._ordered_variables: list[tf.Variable] = []
    self._input_shape: Shape | None = None

  # -- building ---------------------------------------------------------------

  @property
  def built(self) -> bool:
    """Whether the variables exist."""
    return self._input_shape is not None

  def build(self, input_shape: Sequence[int]) -> None:
    """Creates the variables for inputs of `input_shape` (no batch axis).

    Idempotent: a second call with the same shape does nothing, a call with a
    different shape is an error.
    """
    input_shape = tuple(int(d) for d in input_shape)
    if self.built:
      self._check_input_shape(input_shape)
      return
    self.output_shape(input_shape)  # raises ShapeError for misfits
    with self.name_scope, tf.init_scope():
      self._create_variables(input_shape)
    self._input_shape = input_shape

  def _create_variables(self, input_shape: Shape) -> None:
    """Creates the layer's variables; layers without variables keep this."""

  def _add_variable(self, name: str, shape: Sequence[int], initializer: str,
                    trainable: bool = True) -> tf.Variable:
    """Creates a variable named `name`, seeded from this layer's seed."""
    index = len(self._ordered_variables)
    seed = (self.seed[0], self.seed[1] * 64 + index)
    value = initializers.get(initializer)(tuple(shape), seed, tf.float32)
    # Under a distribution strategy every replica applies the same (all-reduced)
    # update; ONLY_FIRST_REPLICA lets replicas assign and keeps one value.
    # Statistics that differ per replica (batch norm's) are averaged instead.
    aggregation = (tf.VariableAggregation.ONLY_FIRST_REPLICA if trainable
                   else tf.VariableAggregation.MEAN)
    variable = tf.Variable(value, trainable=trainable, name=name, aggregation=aggregation)
    self._ordered_variables.append(variable)
    return variable

  def _check_input_shape(self, input_shape: Shape) -> None:
    expected = self._input_shape
    if len(input_shape) != len(expected) or input_shape[-1] != expected[-1]:
      raise ShapeError(
          f"layer {self.name}: built for inputs of shape {list(expected)} "
          f"(without batch), called with {list(input_shape)}")

  # -- calling ----------------------------------------------------------------

  def __call__(self, x: tf.Tensor, training: bool | tf.Tensor = False) -> tf.Tensor:
    """Applies the layer to a batch `x` (first axis is the batch)."""
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
      raise ShapeError(f"layer {self.name}: expects float inputs (images scaled to [0, 1]), "
                       f"got {x.dtype.name}; see tfcnn.data.pipeline.scale")
    shape = x.shape[1:]
    if not shape.is_fully_defined():
      raise ShapeError(f"layer {self.name}: input shape {x.shape} must be "
                       "fully known apart from the batch dimension")
    self.build(shape.as_list())
    with self.name_scope:
      return self._forward(x, training)

  def _forward(self, x: tf.Tensor, training: bool | tf.Tensor) -> tf.Tensor:
    raise NotImplementedError(
        f"layer {self.name} ({type(self).__name__}) does not define "
        "_forward(self, x, training), where a tfcnn layer computes its output")

  # -- description ------------------------------------------------------------

  def output_shape(self, input_shape: Shape) -> Shape:
    """The output shape (no batch axis) for inputs of `input_shape`."""
    return tuple(input_shape)

  def num_params(self, input_shape: Shape) -> int:
    """The number of scalars in the layer's variables for `input_shape`.

    By default counted from the variables themselves (building the layer
    for `input_shape` if needed), so a custom layer need not override it.
    """
    self.build(input_shape)
    return sum(int(v.shape.num_elements()) for v in self.variables)

  def num_trainable_params(self, input_shape: Shape) -> int:
    """The number of trainable scalars for `input_shape` (from the variables)."""
    self.build(input_shape)
    return sum(int(v.shape.num_elements()) for v in self.trainable_variables)

  def spec_token(self) -> str:
    """This layer as one token of the spec grammar (see :mod:`tfcnn.spec`)."""
    raise NotImplementedError(
        f"layer {self.name} ({type(self).__name__}) does not define spec_token(), so a model "
        "holding it has no spec: define spec_token() to train it with tfcnn.train, save a "
        "workdir or export it (build, calls and summary work without)")

  def display_token(self) -> str:
    """:meth:`spec_token`, or the nearest description where the grammar cannot name
    the layer (a custom function's name; a custom layer's class name)."""
    self._describing = True
    try:
      return self.spec_token()
    except NotImplementedError:
      return type(self).__name__
    finally:
      self._describing = False

  def _activation_token(self) -> str:
    """``:<name>`` of this layer's activation, or the error for a custom function."""
    if not self.activation_known and not getattr(self, "_describing", False):
      raise NotImplementedError(
          f"layer {self.name}: activation {self.activation_name!r} is a Python function the "
          "spec grammar cannot name, so the model has no spec; use one of "
          f"{', '.join(activations.ACTIVATIONS)} to train or export it")
    return f":{self.activation_name}"

  # -- variables in layer order -----------------------------------------------

  @property
  def variables(self) -> tuple[tf.Variable, ...]:
    """All variables, in creation order (kernel before bias)."""
    return tuple(self._ordered_variables)

  @property
  def trainable_variables(self) -> tuple[tf.Variable, ...]:
    """Trainable variables, in creation order (kernel before bias)."""
    return tuple(v for v in self._ordered_variables if v.trainable)

  def _spatial_output_shape(self, input_shape: Shape, channels: int, what: str) -> Shape:
    """Output ``(h', w', channels)`` of a sliding `window`, or ShapeError if it does not fit."""
    self._require_rank(input_shape, 3, "[height, width, channels]")
    h, w, _ = input_shape
    size, stride, padding = self.window
    oh, ow = (spatial_output(d, size, stride, padding) for d in (h, w))
    if oh < 1 or ow < 1:
      raise ShapeError(
          f"layer {self.name}: input {h}x{w} is smaller than its {size}x{size} {what} "
          f"(output would be {oh}x{ow}); use padding 'same' or a smaller {what}")
    return (oh, ow, channels)

  def _require_rank(self, input_shape: Shape, rank: int, what: str) -> None:
    if len(input_shape) != rank:
      raise ShapeError(
          f"layer {self.name}: expects {what} inputs, got shape "
          f"{list(input_shape)} (without batch)")


def check_positive_int(value: int, what: str) -> int:
  """Returns `value` if it is an int ≥ 1, else raises ValueError."""
  if isinstance(value, bool) or not isinstance(value, int) or value < 1:
    raise ValueError(f"{what} must be a positive integer, got {value!r}")
  return value


def check_window(value: "int | Sequence[int]", what: str) -> int:
  """An int ≥ 1, or a pair of equal ones (``(3, 3)``): tfcnn's windows are square."""
  if isinstance(value, (tuple, list)):
    if len(value) != 2 or value[0] != value[1]:
      raise ValueError(f"{what} must be an int or a pair of equal ints (square windows), "
                       f"got {tuple(value)!r}")
    value = value[0]
  return check_positive_int(value, what)


def check_padding(padding: str) -> str:
  """Returns `padding` lower-cased if it is 'valid' or 'same'."""
  if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
  return padding.lower()


def spatial_output(size: int, window: int, stride: int, padding: str) -> int:
  """Output length of a sliding window along one axis (TensorFlow's rule)."""
  if padding == "same":
    return -(-size // stride)
  return (size - window) // stride + 1 if size >= window else 0
