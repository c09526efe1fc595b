"""A plain-numpy MLP: the seed series' kind of network, as a same-machine reference.

The seed series timed its best numpy MLP (784-70-30-10, sigmoid hidden
layers, batch 500) at 7.3 s for 35 epochs of MNIST on its author's machine.
That figure says as much about the machine as about the code, so the
benchmark also trains this numpy network, doing the same work as tfcnn's
``mlp`` preset (same layers, softmax cross-entropy, Adam with TensorFlow's
update rule, float32, the same batches), on this machine in the same run:
the ratio of the two times is what carries over between machines.

No TensorFlow here: numpy's matrix products (OpenBLAS, on numpy's own
threads) and element-wise operations done in place where that saves a pass.
"""

from typing import Sequence

import numpy as np


class NumpyMLP:
  """Dense layers with sigmoid hidden units, trained by Adam on softmax cross-entropy.

  Parameters are kept as ``[kernel_0, bias_0, kernel_1, bias_1, ...]``
  (kernels ``[inputs, units]``), the order of tfcnn's
  ``model.trainable_variables``, so weights can be copied either way.
  """

  def __init__(self, sizes: Sequence[int] = (784, 70, 30, 10), seed: int = 0,
               learning_rate: float = 1e-3, beta_1: float = 0.9, beta_2: float = 0.999,
               epsilon: float = 1e-7):
    if len(sizes) < 2 or any(s < 1 for s in sizes):
      raise ValueError(f"sizes must be at least two positive layer widths, got {list(sizes)}")
    rng = np.random.default_rng(seed)
    self.params: list[np.ndarray] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
      limit = np.sqrt(6.0 / (n_in + n_out))   # Glorot uniform, as tfcnn's Dense
      self.params.append(rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32))
      self.params.append(np.zeros(n_out, np.float32))
    self.learning_rate, self.beta_1, self.beta_2 = learning_rate, beta_1, beta_2
    self.epsilon = epsilon
    self.step = 0
    self._m = [np.zeros_like(p) for p in self.params]
    self._s = [np.zeros_like(p) for p in self.params]

  def loss_and_gradients(self, x: np.ndarray, labels: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """``(per-example losses, logits, gradients of the mean loss)`` for a batch.

    `x` is float32 ``[batch, inputs]``, `labels` integer class indices.
    """
    n = len(labels)
    layers = len(self.params) // 2
    activations = [x]
    for i in range(layers):
      z = activations[-1] @ self.params[2 * i]
      z += self.params[2 * i + 1]
      if i < layers - 1:   # sigmoid, in place: 1 / (1 + exp(-z))
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1.0
        np.reciprocal(z, out=z)
      activations.append(z)
    logits = activations[-1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sums = exp.sum(axis=1)
    rows = np.arange(n)
    per_example = np.log(sums) - shifted[rows, labels]
    delta = exp
    delta /= sums[:, None]                  # softmax
    delta[rows, labels] -= 1.0
    delta *= np.float32(1.0 / n)            # d(mean loss) / d(logits)
    gradients: list[np.ndarray] = [None] * len(self.params)
    for i in reversed(range(layers)):
      gradients[2 * i] = activations[i].T @ delta
      gradients[2 * i + 1] = delta.sum(axis=0)
      if i > 0:
        h = activations[i]
        delta = delta @ self.params[2 * i].T
        delta *= h
        delta *= 1.0 - h                    # sigmoid' = h (1 - h)
    return per_example, logits, gradients

  def apply_adam(self, gradients: Sequence[np.ndarray]) -> None:
    """One Adam step, TensorFlow's rule (ε outside the bias correction)."""
    self.step += 1
    t = self.step
    alpha = self.learning_rate * np.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)
    for p, g, m, s in zip(self.params, gradients, self._m, self._s):
      m += (1.0 - self.beta_1) * (g - m)
      s += (1.0 - self.beta_2) * (g * g - s)
      p -= np.float32(alpha) * m / (np.sqrt(s) + np.float32(self.epsilon))

  def train_epoch(self, images: np.ndarray, labels: np.ndarray, order: np.ndarray,
                  batch_size: int) -> tuple[float, float]:
    """One pass over ``images[order]`` in batches; ``(mean loss, accuracy)`` of the pass.

    `images` float32 ``[n, inputs]`` (already scaled), `labels` ``[n]``.
    """
    total_loss, correct = 0.0, 0
    for start in range(0, len(order), batch_size):
      chosen = order[start:start + batch_size]
      y = labels[chosen]
      per_example, logits, gradients = self.loss_and_gradients(images[chosen], y)
      self.apply_adam(gradients)
      total_loss += float(per_example.sum())
      correct += int((logits.argmax(axis=1) == y).sum())
    return total_loss / len(order), correct / len(order)
