"""``jit_compile``: each unit's forward and backward pass as one XLA computation
computes what the plain update does, up to XLA's rounding (under a strategy:
tests/training/mirrored_check.py)."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from tfcnn import fast, summaries, training
from tfcnn.data import pipeline, sources

CONFIG = training.TrainConfig(model="conv4k3-maxpool2-flatten-dense10", batch_size=48, seed=5)


def _train(config: training.TrainConfig, jit: bool, steps: int = 6, writer=None):
  """`steps` updates on sample digits; returns the state."""
  data = sources.load("mnist_sample")
  n = steps * config.batch_size
  state = training.TrainState(config, (28, 28, 1), steps)
  step_summaries = (summaries.StepSummaries(writer, every_steps=2, gradient_histograms_every=3)
                    if writer is not None else None)
  runner = fast.make_runner(state, training.RunConfig(jit_compile=jit), data.train_images[:n],
                            data.train_labels[:n], step_summaries)
  assert runner.run(0, 0, steps) == (steps, True)
  return state


@pytest.mark.parametrize("model", ["conv4k3-maxpool2-flatten-dense10", "mlp"])
def test_xla_update_equals_the_plain_update(model):
  config = dataclasses.replace(CONFIG, model=model)
  plain = _train(config, jit=False)
  xla = _train(config, jit=True)
  assert float(xla.train_loss.result()) == pytest.approx(float(plain.train_loss.result()),
                                                        rel=1e-5)
  assert xla.step_count() == plain.step_count() == 6
  for a, b in zip(plain.model.trainable_variables, xla.model.trainable_variables):
    np.testing.assert_allclose(b.numpy(), a.numpy(), atol=1e-5, err_msg=a.name)


def test_xla_runs_with_dropout_repeat_exactly():
  # XLA draws its own dropout masks (not the TensorFlow kernels' ones), but
  # the same seed draws the same masks every time.
  config = dataclasses.replace(CONFIG, model="conv4k3-maxpool2-dropout0.5-flatten-dense10")
  first, second = _train(config, jit=True), _train(config, jit=True)
  for a, b in zip(first.model.trainable_variables, second.model.trainable_variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_xla_steps_still_write_their_summaries(tmp_path):
  writer = tf.summary.create_file_writer(str(tmp_path))
  _train(CONFIG, jit=True, writer=writer)
  writer.flush()
  events = event_accumulator.EventAccumulator(
      str(tmp_path), size_guidance={event_accumulator.TENSORS: 0})
  events.Reload()
  assert [e.step for e in events.Tensors("batch/loss")] == [2, 4, 6]
  assert [e.step for e in events.Tensors("histograms/gradients/conv_0/kernel")] == [3, 6]


def test_xla_skips_non_finite_batches(monkeypatch, tmp_path):
  from tfcnn import losses
  original = losses.sparse_softmax_cross_entropy

  def poisoned(labels, logits):   # NaN for the batches whose first label is 0
    loss = original(labels, logits)
    return tf.where(tf.equal(labels[0], 0), tf.fill(tf.shape(loss), float("nan")), loss)

  monkeypatch.setattr(losses, "sparse_softmax_cross_entropy", poisoned)
  config = dataclasses.replace(CONFIG, batch_size=8, train_limit=400, epochs=1)
  assert training.TrainState(config, (28, 28, 1), 1).unit_size == 8   # one unit a batch
  results = training.train(config, tmp_path,
                           run=training.RunConfig(jit_compile=True, nonfinite="skip"))
  _, (_, train_labels), _, _ = training.prepare_data(config)
  order = pipeline.epoch_order(400, config.seed, 0)
  poisoned_batches = int(np.sum(train_labels[order[::8]] == 0))
  assert poisoned_batches > 0
  assert results["skipped_batches"] == poisoned_batches
  assert results["steps"] == 50 - poisoned_batches
  for v in training.load_model(tmp_path).trainable_variables:
    assert np.all(np.isfinite(v.numpy()))
