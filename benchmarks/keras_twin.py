"""The benchmark's reference: a Keras model of a tfcnn spec's architecture.

Only the experiment scripts and tests use Keras, as a yardstick; the library
never imports it. The twin has the same layers, shapes, activations, biases
and optimiser (Adam, learning rate 1e-3, the loss on logits), with Keras's own
initialisers: it is built to be timed and trained beside tfcnn, not to give
the same numbers.
"""

from typing import Sequence

from tfcnn import spec


def keras_model(model_spec: str, compute_dtype: str = "float32", jit: str = "false",
                input_shape: Sequence[int] = (28, 28, 1), optimizer: str = "adam",
                learning_rate: float = 1e-3):
  """A compiled Keras ``Sequential`` twin of `model_spec`.

  Args:
    model_spec: a spec or preset (see :mod:`tfcnn.spec`).
    compute_dtype: "float32", or "bfloat16" for Keras's ``mixed_bfloat16``
      policy (bfloat16 compute, float32 weights), set globally as Keras does.
    jit: Keras's ``compile(jit_compile=...)``: "false", or "auto" (Keras's
      default, XLA where Keras thinks it helps).
    input_shape: one example's shape.
    optimizer: "adam" or "rmsprop" (Keras's own, at `learning_rate`).

  Raises:
    ValueError: for a layer kind without a Keras twin (never silently left out).
  """
  import keras  # the reference only; the library never imports Keras
  twins = [keras.Input(tuple(input_shape))]
  for layer in spec.build(model_spec).layers:
    kind = type(layer).__name__
    if kind == "Conv2D":
      twins.append(keras.layers.Conv2D(layer.filters, layer.kernel_size, layer.strides,
                                       layer.padding, activation=layer.activation_name,
                                       use_bias=layer.use_bias))
    elif kind in ("MaxPool2D", "AvgPool2D"):
      cls = keras.layers.MaxPooling2D if kind == "MaxPool2D" else keras.layers.AveragePooling2D
      twins.append(cls(layer.pool_size, layer.strides, layer.padding))
    elif kind == "Flatten":
      twins.append(keras.layers.Flatten())
    elif kind == "Dense":
      twins.append(keras.layers.Dense(layer.units, activation=layer.activation_name,
                                      use_bias=layer.use_bias))
    elif kind == "Dropout":
      twins.append(keras.layers.Dropout(layer.rate))
    elif kind == "BatchNorm":
      twins.append(keras.layers.BatchNormalization(momentum=layer.momentum,
                                                   epsilon=layer.epsilon))
    elif kind == "Activation":
      twins.append(keras.layers.Activation(layer.activation_name))
    else:
      raise ValueError(f"no Keras twin for tfcnn layer {kind} ({layer.name})")
  keras.mixed_precision.set_global_policy(
      "mixed_bfloat16" if compute_dtype == "bfloat16" else "float32")
  model = keras.Sequential(twins)
  optimizers = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}
  model.compile(optimizer=optimizers[optimizer](learning_rate),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"], jit_compile="auto" if jit == "auto" else False)
  return model
