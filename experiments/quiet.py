"""TensorFlow imported without its start-up chatter.

On import, TensorFlow's C++ side prints lines before its logging is set up
(so ``TF_CPP_MIN_LOG_LEVEL`` cannot hold them back): a notice that logs go
to stderr, oneDNN's rounding notice and a failed CUDA probe — twice, once
per native library — and, on a machine with no GPU, ``failed call to
cuInit`` when the devices are first listed. :func:`import_tensorflow` sends
the process's stderr to a buffer while TensorFlow loads and lists its
devices, then writes back every line that is not one of those known
notices, so a real warning or error still shows. Its Python-side INFO lines
(checkpoint sharding times, "Assets written to", the serving signature's
renamed inputs, ``tf.distribute``'s "Reduce to" lines) are held back by
raising the ``tensorflow`` logger to WARNING and by a filter on absl's
handler that drops INFO records logged from inside the TensorFlow package.

What remains: lines TensorFlow writes later from C++ at WARNING or above
(e.g. a real device problem) — as they should.
"""

import logging
import os
import re
import sys
import tempfile

from absl import logging as absl_logging

CHATTER = re.compile(
    r"All log messages before absl::InitializeLog|port\.cc:\d+\] oneDNN custom operations|"
    r"cudart_stub\.cc|cpu_feature_guard\.cc|To enable the following instructions|"
    r"cuda_platform\.cc:\d+\] failed call to cuInit|cuda_executor\.cc|cuda_diagnostics")


def import_tensorflow():
  """Imports TensorFlow quietly (see the module docstring) and returns it."""
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  if "tensorflow" in sys.modules:
    return sys.modules["tensorflow"]
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile(mode="w+b") as buffer:
    os.dup2(buffer.fileno(), 2)
    try:
      import tensorflow as tf
      tf.config.list_physical_devices()   # the CUDA probe, while stderr is held
    finally:
      os.dup2(saved, 2)
      os.close(saved)
      buffer.seek(0)
      kept = [line for line in buffer.read().decode(errors="replace").splitlines(True)
              if not CHATTER.search(line)]
      sys.stderr.write("".join(kept))
  tf.get_logger().setLevel(logging.WARNING)
  absl_logging.get_absl_handler().addFilter(_no_tensorflow_info)
  return tf


def _no_tensorflow_info(record: logging.LogRecord) -> bool:
  """Keeps a record unless it is below WARNING and comes from TensorFlow's own code."""
  return record.levelno >= logging.WARNING or \
      f"{os.sep}tensorflow{os.sep}" not in record.pathname
