"""A worker process: an object built and called in a fresh process of its own."""

import os

import pytest

from benchmarks.worker_process import Worker


class Counter:
  """What the tests run in a worker."""

  def __init__(self, start: int):
    if start < 0:
      raise ValueError("start must be >= 0")
    self.value = start

  def add(self, n: int) -> int:
    self.value += n
    return self.value

  def pid(self) -> int:
    return os.getpid()

  def fail(self) -> None:
    raise KeyError("no such thing")

  def exit(self) -> None:
    os._exit(3)


def test_calls_reach_one_object_in_another_process_and_keep_its_state():
  worker = Worker(Counter, 5)
  try:
    assert worker.add(2) == 7 and worker.add(3) == 10
    assert worker.pid() != os.getpid()
  finally:
    worker.close()


def test_an_error_in_the_worker_comes_back_with_its_traceback_and_the_worker_lives_on():
  worker = Worker(Counter, 0)
  try:
    with pytest.raises(RuntimeError, match="(?s)in the worker process.*KeyError: 'no such thing'"):
      worker.fail()
    assert worker.add(1) == 1
  finally:
    worker.close()


def test_a_failed_build_or_a_dead_worker_is_an_error_not_a_hang():
  with pytest.raises(RuntimeError, match="(?s)ValueError: start must be >= 0"):
    Worker(Counter, -1)
  worker = Worker(Counter, 0)
  with pytest.raises(RuntimeError, match="worker process ended with code 3"):
    worker.exit()
