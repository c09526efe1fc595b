"""What happens between the loop's calls of the step: each concern a watcher.

The epoch loop (:func:`tfcnn.training.loop.run_epoch`) asks every watcher how
many batches may run before it needs to look (a checkpoint or log boundary),
runs that many, then lets each watcher look, in order: the non-finite guard,
the step checkpoint, the stop signal, the progress line.
"""

import signal
import threading
import time
from typing import Callable, Sequence

import tensorflow as tf
from absl import logging

from tfcnn.errors import TfcnnError
from tfcnn.training import display


class TrainingInterrupted(TfcnnError):
  """SIGTERM or SIGINT arrived; a checkpoint was saved, the run can resume."""


class TrainingDiverged(TfcnnError):
  """A non-finite loss or gradient; the last good checkpoint is kept."""


class Watcher:
  """Looks at the run between calls of the step; by default, never."""

  def batches_until_next(self, state, position: int) -> int:
    """How many batches may run before this watcher must look again."""
    del state, position
    return 2**62

  def after(self, state, position: int, finite: bool) -> None:
    """Called after each call of the step, with the epoch's `position`."""


class NonFiniteGuard(Watcher):
  """Stops the run at a non-finite batch (``stop``) or warns (``skip``)."""

  def __init__(self, policy: str, manager: tf.train.CheckpointManager):
    self.policy, self.manager = policy, manager

  def after(self, state, position: int, finite: bool) -> None:
    if finite:
      return
    if self.policy == "stop":
      where = (f"epoch {int(state.epoch) + 1}, batch {position + 1} "
               f"(after step {state.step_count()})")
      last = self.manager.latest_checkpoint or "none yet"
      raise TrainingDiverged(
          f"non-finite loss, gradient or weight at {where}; stopped without saving, the last "
          f"good checkpoint ({last}) is kept; lower the learning rate, or pass "
          "--nonfinite=skip to skip such batches")
    logging.warning("skipped %d batch(es) with a non-finite loss, gradient or weight so far",
                    state.skipped_count())


class StepCheckpoints(Watcher):
  """Saves a checkpoint every `every` batches of the run (0: never here)."""

  def __init__(self, manager: tf.train.CheckpointManager, every: int):
    self.manager, self.every = manager, every

  def batches_until_next(self, state, position: int) -> int:
    if not self.every:
      return super().batches_until_next(state, position)
    return self.every - (int(state.epoch) * state.steps_per_epoch + position) % self.every

  def after(self, state, position: int, finite: bool) -> None:
    done = int(state.epoch) * state.steps_per_epoch + position
    if self.every and done % self.every == 0 and position < state.steps_per_epoch:
      self.manager.save()
      logging.info("checkpoint saved at epoch %d, batch %d", int(state.epoch) + 1, position)


class StopSignal(Watcher):
  """Remembers SIGTERM / SIGINT; at the next look, saves and stops the run."""

  def __init__(self, manager: tf.train.CheckpointManager):
    self.manager = manager
    self.signum: int | None = None
    self._previous = {}

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for signum in (signal.SIGTERM, signal.SIGINT):
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def _handle(self, signum, frame):
    del frame
    self.signum = signum

  def __exit__(self, *exc):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)

  def after(self, state, position: int, finite: bool) -> None:
    if self.signum is None:
      return
    self.manager.save()
    name = signal.Signals(self.signum).name
    raise TrainingInterrupted(
        f"interrupted by {name} at epoch {int(state.epoch) + 1}, batch "
        f"{int(state.position)} (step {state.step_count()}); checkpoint saved in "
        f"{self.manager.directory}; run the same command to resume",
        exit_code=128 + self.signum)


class Progress(Watcher):
  """Measures the epoch (speed, ETA) and tells `listeners` every `every` batches.

  Each listener is called with a :class:`~tfcnn.training.display.ProgressInfo`
  at the start of an epoch and every `every` batches. The speed leaves out
  the epoch's first call of the step, which in the first epoch also traces
  and compiles it (counting that made the first ETA about twice too long);
  until that call ends the speed is unknown (None).
  """

  def __init__(self, every: int, num_examples: int, listeners: Sequence[Callable] = ()):
    self.every, self.num_examples, self.listeners = every, num_examples, list(listeners)
    self.start, self.first = time.perf_counter(), None
    self._mark = None   # (time, position) after the epoch's first call

  def begin_epoch(self, position: int, state=None) -> None:
    """Starts the clock for the speed of this epoch (and tells the listeners)."""
    self.start, self.first, self._mark = time.perf_counter(), position, None
    if state is not None:
      self._tell(state, position)

  def elapsed(self) -> float:
    """Seconds since :meth:`begin_epoch`."""
    return time.perf_counter() - self.start

  def seen(self, state, position: int, since: int | None = None) -> int:
    """Images trained on since :meth:`begin_epoch` (or since batch `since`)."""
    batch = state.config.batch_size
    since = (self.first or 0) if since is None else since
    return min(position * batch, self.num_examples) - min(since * batch, self.num_examples)

  def rate(self, state, position: int) -> float:
    """Images per second this epoch, after its first call if there was one since."""
    now = time.perf_counter()
    if self._mark is not None and position > self._mark[1]:
      return self.seen(state, position, since=self._mark[1]) / max(now - self._mark[0], 1e-9)
    return self.seen(state, position) / max(now - self.start, 1e-9)

  def info(self, state, position: int) -> display.ProgressInfo:
    """Where the run is now."""
    config, steps = state.config, state.steps_per_epoch
    rate = eta = None
    if self._mark is not None and position > self._mark[1]:
      rate = self.rate(state, position)
      left = steps * config.epochs - (int(state.epoch) * steps + position)
      eta = left * config.batch_size / max(rate, 1e-9)
    return display.ProgressInfo(
        epoch=int(state.epoch) + 1, epochs=config.epochs, batch=position, batches=steps,
        step=state.step_count(), loss=float(state.train_loss.result()),
        accuracy=float(state.train_accuracy.result()), images_per_second=rate,
        eta_seconds=eta)

  def _tell(self, state, position: int) -> None:
    if self.listeners:
      info = self.info(state, position)
      for listener in self.listeners:
        listener(info)

  def batches_until_next(self, state, position: int) -> int:
    return self.every - position % self.every

  def after(self, state, position: int, finite: bool) -> None:
    if position % self.every == 0:
      self._tell(state, position)
    if self._mark is None:
      self._mark = (time.perf_counter(), position)
