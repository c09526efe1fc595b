"""The watchers between steps: the progress line's speed leaves out the first call."""

import types

from tfcnn.training import hooks


def test_the_speed_leaves_out_the_epochs_first_call_which_traces_the_step(monkeypatch):
  clock = iter([0.0, 0.0,       # made, begin_epoch
                10.0,           # after call 1 (batches 0-49, with tracing): the mark
                12.0])          # after call 2 (batches 50-99): the rate is read
  monkeypatch.setattr(hooks.time, "perf_counter", lambda: next(clock))
  progress = hooks.Progress(every=100, num_examples=10_000)
  state = types.SimpleNamespace(config=types.SimpleNamespace(batch_size=10))
  progress.begin_epoch(0)
  progress.after(state, 50, True)         # no line yet; marks the end of the first call
  assert progress.rate(state, 100) == 50 * 10 / 2.0   # 50 batches of 10 in 2 s, not in 12
  assert progress.seen(state, 100) == 1000


def test_without_a_later_call_the_speed_is_the_epochs_whole():
  progress = hooks.Progress(every=1, num_examples=100)
  state = types.SimpleNamespace(config=types.SimpleNamespace(batch_size=10))
  progress.begin_epoch(0)
  assert progress.rate(state, 3) > 0


def test_the_speed_of_a_resumed_epoch_counts_from_its_mark(monkeypatch):
  clock = iter([0.0, 0.0, 10.0, 12.0])   # made, begin_epoch, mark, rate
  monkeypatch.setattr(hooks.time, "perf_counter", lambda: next(clock))
  progress = hooks.Progress(every=100, num_examples=10_000)
  state = types.SimpleNamespace(config=types.SimpleNamespace(batch_size=10))
  progress.begin_epoch(30)                # resumed at batch 30
  progress.after(state, 60, True)         # the first call: batches 30-59
  assert progress.rate(state, 100) == 40 * 10 / 2.0
  assert progress.seen(state, 100) == 700
