"""A run's progress as a person sees it: a live bar on a terminal, plain lines elsewhere.

The loop's :class:`~tfcnn.training.hooks.Progress` watcher measures;
every hook with an ``on_progress(info)`` method receives a
:class:`ProgressInfo` at the start of each epoch and every few batches, so
a program can follow a run without parsing text. :class:`ConsoleProgress`
is the hook that shows it: on a TTY, one ``tqdm`` bar per epoch with loss,
accuracy, images/s and an ETA that leaves out the epoch's first call
("compiling…" while the first epoch's first call traces the step); when
stderr is not a TTY (a log file, CI), a plain line every ``every`` batches.
Both print one line per finished epoch.
"""

import dataclasses
import sys
from typing import TextIO

from tqdm import tqdm


@dataclasses.dataclass(frozen=True)
class ProgressInfo:
  """Where a run is, what its loss and accuracy are, and how fast it goes."""
  epoch: int          # 1-based
  epochs: int
  batch: int          # batches done in this epoch
  batches: int        # batches per epoch
  step: int           # optimiser steps done in the run
  loss: float         # mean training loss of the epoch so far
  accuracy: float
  images_per_second: float | None   # None until the epoch's first call (which may trace) ends
  eta_seconds: float | None         # the run's remaining time at that speed

  def line(self) -> str:
    """The plain progress line."""
    head = (f"epoch {self.epoch}/{self.epochs} batch {self.batch}/{self.batches} "
            f"step {self.step}: loss {self.loss:.4f} accuracy {self.accuracy:.4f}")
    if self.images_per_second is None:
      return head + (", compiling the step (speed after the first call)" if self.epoch == 1
                     else ", speed after the epoch's first call")
    return head + f", {self.images_per_second:.0f} images/s, ETA {self.eta_seconds:.0f} s"


def epoch_line(stats: dict, epochs: int) -> str:
  """The line a finished epoch prints (``stats`` as the loop records them)."""
  return (f"epoch {stats['epoch']}/{epochs}: train loss {stats['train_loss']:.4f} accuracy "
          f"{stats['train_accuracy']:.4f} | test loss {stats['test_loss']:.4f} accuracy "
          f"{stats['test_accuracy']:.4f} | {stats['seconds']:.1f} s, "
          f"{stats['images_per_second']:.0f} images/s")


class ConsoleProgress:
  """A training hook that shows progress on `stream` (stderr by default)."""

  def __init__(self, every: int = 200, stream: TextIO | None = None, live: bool | None = None):
    self.every = every
    self.stream = stream or sys.stderr
    self.live = self.stream.isatty() if live is None else live
    self._bar: tqdm | None = None

  def progress_every(self, batches_per_epoch: int) -> int:
    """How often (in batches) this display wants an update."""
    return max(1, min(self.every, batches_per_epoch // 50)) if self.live else self.every

  def on_train_begin(self, state) -> None:
    del state

  def on_progress(self, info: ProgressInfo) -> None:
    if not self.live:
      if info.batch and info.batch % self.every == 0:
        print(info.line(), file=self.stream, flush=True)
      return
    if self._bar is None or self._bar.desc != f"epoch {info.epoch}/{info.epochs}":
      self._close()
      self._bar = tqdm(total=info.batches, initial=info.batch, file=self.stream,
                       desc=f"epoch {info.epoch}/{info.epochs}", leave=False,
                       bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                                  "{postfix}", dynamic_ncols=True)
    self._bar.n = info.batch
    if info.images_per_second is None:
      self._bar.set_postfix_str("compiling…" if info.epoch == 1 and info.batch == 0
                                else "measuring…", refresh=False)
    else:
      self._bar.set_postfix_str(
          f"loss {info.loss:.4f} acc {info.accuracy:.4f}, {info.images_per_second:.0f} img/s, "
          f"ETA {info.eta_seconds:.0f} s", refresh=False)
    self._bar.refresh()

  def on_epoch_end(self, state, stats: dict) -> None:
    self._close()
    print(epoch_line(stats, state.config.epochs), file=self.stream, flush=True)

  def on_train_end(self, state, results: dict) -> None:
    del state, results
    self._close()

  def _close(self) -> None:
    if self._bar is not None:
      self._bar.close()
      self._bar = None


class CallbackProgress:
  """A training hook that hands every :class:`ProgressInfo` to `callback`."""

  def __init__(self, callback):
    self.on_progress = callback

  def on_train_begin(self, state) -> None:
    del state

  def on_epoch_end(self, state, stats: dict) -> None:
    del state, stats

  def on_train_end(self, state, results: dict) -> None:
    del state, results
