"""Scalars (and gradient histograms) written from inside the compiled train step."""

import tensorflow as tf


class StepSummaries:
  """Called by the train step with its values; writes every N applied steps.

  Every `every_steps` steps: ``batch/loss``, ``batch/accuracy``,
  ``batch/learning_rate``, ``batch/gradient_norm``; every
  `gradient_histograms_every` steps (0: never) a histogram per gradient
  (``histograms/gradients/...``). A skipped (non-finite) batch writes nothing.
  """

  def __init__(self, writer: tf.summary.SummaryWriter, every_steps: int = 100,
               gradient_histograms_every: int = 0):
    self.writer = writer
    self.every_steps = every_steps
    self.gradient_histograms_every = gradient_histograms_every

  def __call__(self, state, loss: tf.Tensor, accuracy: tf.Tensor, finite: tf.Tensor,
               gradients) -> None:
    step = state.step + tf.cast(finite, tf.int64)  # the step this update makes
    every = lambda n: tf.logical_and(finite, step % n == 0)
    # Summary tags take the enclosing name scope ("while/cond/loss" inside the
    # multi-step loop); reset it so the tags are the same in every code path.
    with tf.compat.v1.name_scope(None), self.writer.as_default(step=step):
      with tf.summary.record_if(every(self.every_steps)):
        tf.summary.scalar("batch/loss", loss)
        tf.summary.scalar("batch/accuracy", accuracy)
        tf.summary.scalar("batch/learning_rate", state.optimizer.learning_rate(step - 1))
        tf.summary.scalar("batch/gradient_norm", tf.linalg.global_norm(gradients))
      if self.gradient_histograms_every:
        with tf.summary.record_if(every(self.gradient_histograms_every)):
          for gradient, variable in zip(gradients, state.model.trainable_variables):
            tf.summary.histogram(f"histograms/gradients/{variable.name.split(':')[0]}", gradient)
