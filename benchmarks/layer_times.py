"""Where a training step's time goes, layer by layer.

Each layer of a model is timed alone on a batch of random inputs of the shape
it gets in the model: its forward pass, and its forward and backward pass as
a training step computes them (gradients for its variables, and for its
input except at the first layer, whose input gradient training never needs).
With the layers' multiply-adds counted from their shapes
(:func:`tfcnn.geometry.forward_flops`), this says how fast each layer's
kernels run against the machine's peak. The benchmark calls it in its
one-core worker (``--layer_times``), so the figures are one core's.
"""

import time
from typing import Sequence

import numpy as np
import tensorflow as tf

from tfcnn import geometry, spec


def serial_loop(body, steps: int):
  """A compiled loop calling `body` (-> float32 scalar) `steps` times, summed.

  One iteration at a time (``parallel_iterations=1``), like training steps,
  whose variable updates chain them: a loop of independent calls would
  otherwise overlap iterations and look cheaper. Summing what each call
  returns keeps the graph optimiser from pruning the work.
  """
  @tf.function
  def run():
    return tf.while_loop(lambda i, total: i < steps, lambda i, total: (i + 1, total + body()),
                         (tf.constant(0), tf.constant(0.0)), parallel_iterations=1)[1]
  return run


def _first(t: tf.Tensor) -> tf.Tensor:
  """One element of `t` as float32: depends on all of `t`'s op, costs nothing."""
  return tf.cast(tf.reshape(t, [-1])[0], tf.float32)


def _seconds(fn, repeats: int) -> float:
  """The fastest of `repeats` calls of `fn` (the least disturbed), in seconds."""
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    float(fn())
    best = min(best, time.perf_counter() - start)
  return best


def layer_times(model_spec: str, input_shape: Sequence[int], batch: int,
                compute_dtype: str = "float32", steps: int = 20,
                repeats: int = 5) -> list[dict]:
  """Per layer of `model_spec`, seconds per batch of `batch` examples.

  Returns one dict per layer: ``layer`` (its spec token), ``output_shape``,
  ``forward_s``, ``forward_backward_s`` (the fastest of `repeats` loops of
  `steps` calls, per call), ``train_flops`` (the batch's FLOPs in conv and
  dense products: the forward pass's, twice that again for the two gradient
  products, once at the first layer; 0 for other layers) and ``gflops``
  (``train_flops / forward_backward_s / 1e9``).
  """
  dtype = tf.as_dtype(compute_dtype)
  net = spec.build(model_spec)
  net.build(input_shape)
  rng = np.random.default_rng(0)
  shape, rows = tuple(input_shape), []
  for position, layer in enumerate(net.layers):
    out_shape = tuple(layer.output_shape(shape))
    # A variable, not a constant: the graph optimiser would fold a
    # weightless layer's work on a constant input into a constant.
    x = tf.Variable(tf.constant(rng.standard_normal((batch, *shape)), dtype), trainable=False)
    probe = tf.constant(rng.standard_normal((batch, *out_shape)), dtype)
    sources = list(layer.trainable_variables) + ([] if position == 0 else [x])

    def forward(layer=layer, x=x):
      return _first(layer(x, training=True))

    def forward_backward(layer=layer, x=x, probe=probe, sources=sources):
      with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
      total = _first(y)   # keeps the forward pass even where no gradient needs it
      for gradient in tape.gradient(y, sources, output_gradients=probe) if sources else []:
        total += _first(gradient)
      return total

    timings = {}
    for name, body in (("forward_s", forward), ("forward_backward_s", forward_backward)):
      loop = serial_loop(body, steps)
      float(loop())   # trace and warm up
      timings[name] = _seconds(loop, repeats) / steps
    products = 3 if position else 2   # forward, weight gradient, input gradient
    flops = products * geometry.forward_flops([layer], shape) * batch
    rows.append({"layer": layer.spec_token(), "output_shape": list(out_shape), **timings,
                 "train_flops": flops, "gflops": flops / timings["forward_backward_s"] / 1e9})
    shape = out_shape
  return rows
