"""An object that lives in a fresh process of its own, called from this one.

TensorFlow sizes its thread pools once per process, so contenders that train
with different pools (tfcnn's shards, Keras's defaults) each need a process.
Each call waits for its answer, so workers used in turn never run at once.
"""

import multiprocessing
import traceback


def _serve(connection, make, args) -> None:
  """A worker's loop: builds ``make(*args)``, then answers calls until None."""
  try:
    target = make(*args)
    connection.send(("ok", None))
  except BaseException:
    connection.send(("error", traceback.format_exc()))
    return
  while (message := connection.recv()) is not None:
    method, call_args = message
    try:
      connection.send(("ok", getattr(target, method)(*call_args)))
    except BaseException:
      connection.send(("error", traceback.format_exc()))


class Worker:
  """``make(*args)`` built in a fresh (spawned) process; its methods are
  called through this object, with picklable arguments and results.

  An exception in the worker is raised here as a RuntimeError carrying the
  worker's traceback; a worker that dies says so with its exit code.
  """

  def __init__(self, make, *args):
    context = multiprocessing.get_context("spawn")
    self._connection, child = context.Pipe()
    self._process = context.Process(target=_serve, args=(child, make, args), daemon=True)
    self._process.start()
    self._answer()

  def _answer(self):
    try:
      status, value = self._connection.recv()
    except EOFError:
      self._process.join(timeout=10)   # so that its exit code is known
      raise RuntimeError(f"worker process ended with code {self._process.exitcode}") from None
    if status == "error":
      raise RuntimeError(f"in the worker process:\n{value}")
    return value

  def __getattr__(self, method: str):
    def call(*args):
      self._connection.send((method, args))
      return self._answer()
    return call

  def close(self) -> None:
    """Ends the worker's loop and waits for its process to exit."""
    self._connection.send(None)
    self._process.join()
