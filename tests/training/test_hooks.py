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


def _state(epoch=0, steps=10, epochs=2, batch_size=10):
  import tensorflow as tf
  metric = types.SimpleNamespace(result=lambda: tf.constant(0.5))
  return types.SimpleNamespace(
      config=types.SimpleNamespace(batch_size=batch_size, epochs=epochs), steps_per_epoch=steps,
      epoch=epoch, step_count=lambda: 3, train_loss=metric, train_accuracy=metric)


def test_listeners_hear_the_epoch_start_and_every_few_batches_with_speed_after_the_first_call(
    monkeypatch):
  clock = iter([0.0, 0.0, 4.0, 5.0, 5.0])
  monkeypatch.setattr(hooks.time, "perf_counter", lambda: next(clock))
  heard = []
  progress = hooks.Progress(every=5, num_examples=100, listeners=[heard.append])
  state = _state()
  progress.begin_epoch(0, state)          # epoch start: no speed yet
  progress.after(state, 5, True)          # end of the first call (traced): no speed yet
  progress.after(state, 10, True)         # 5 batches of 10 in 1 s
  assert [i.batch for i in heard] == [0, 5, 10]
  assert heard[0].images_per_second is None and heard[1].images_per_second is None
  assert heard[2].images_per_second == 50.0
  assert heard[2].eta_seconds == 10 * 10 / 50.0     # the second epoch's 10 batches
  assert "compiling the step" in heard[1].line() and "50 images/s, ETA 2 s" in heard[2].line()


def test_the_console_prints_plain_lines_when_not_a_terminal():
  import io
  from tfcnn.training import display
  stream = io.StringIO()
  console = display.ConsoleProgress(every=5, stream=stream)
  assert not console.live and console.progress_every(1000) == 5
  info = dict(epoch=1, epochs=2, batches=10, step=5, loss=0.5, accuracy=0.8,
              images_per_second=100.0, eta_seconds=3.0)
  for batch in (0, 3, 5):
    console.on_progress(display.ProgressInfo(batch=batch, **info))
  assert stream.getvalue().splitlines() == [
      "epoch 1/2 batch 5/10 step 5: loss 0.5000 accuracy 0.8000, 100 images/s, ETA 3 s"]


def test_the_console_draws_a_live_bar_on_a_terminal_that_says_when_it_compiles():
  import io
  from tfcnn.training import display
  stream = io.StringIO()
  console = display.ConsoleProgress(every=200, stream=stream, live=True)
  assert console.progress_every(1000) == 20          # finer than the log cadence
  info = dict(epoch=1, epochs=2, batches=10, step=0, loss=0.5, accuracy=0.8)
  console.on_progress(display.ProgressInfo(batch=0, images_per_second=None, eta_seconds=None,
                                           **info))
  assert "epoch 1/2" in stream.getvalue() and "compiling…" in stream.getvalue()
  console.on_progress(display.ProgressInfo(batch=6, images_per_second=90.0, eta_seconds=7.0,
                                           **info))
  assert "90 img/s, ETA 7 s" in stream.getvalue() and "6/10" in stream.getvalue()
  stats = dict(epoch=1, train_loss=0.4, train_accuracy=0.9, test_loss=0.3, test_accuracy=0.91,
               seconds=2.0, images_per_second=80.0)
  console.on_epoch_end(types.SimpleNamespace(config=types.SimpleNamespace(epochs=2)), stats)
  assert stream.getvalue().endswith(display.epoch_line(stats, 2) + "\n")
