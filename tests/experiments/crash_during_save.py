"""experiments.train, killed with SIGKILL in the middle of its Nth checkpoint save.

The checkpoint's data files are written, then truncated (a torn write), and
the process is killed before the checkpoint's state file is updated — the
worst moment: new files on disk that nothing points to yet. Tests only.
Usage: python -m tests.experiments.crash_during_save N [train flags...]
"""

import os
import pathlib
import signal
import sys

import tensorflow as tf
from absl import app

from experiments import common, train

TARGET = int(sys.argv.pop(1))
_calls = [0]
_original_write = tf.train.Checkpoint._write


def _write(self, file_prefix, options=None):
  _calls[0] += 1
  if _calls[0] == TARGET:
    def tear_and_die(path):
      for f in pathlib.Path(path).parent.glob(pathlib.Path(path).name + ".*"):
        f.write_bytes(f.read_bytes()[: max(1, f.stat().st_size // 2)])
      os.kill(os.getpid(), signal.SIGKILL)
    callbacks = list(options.experimental_write_callbacks or []) if options else []
    options = tf.train.CheckpointOptions(experimental_write_callbacks=[tear_and_die] + callbacks)
  return _original_write(self, file_prefix, options=options)


tf.train.Checkpoint._write = _write

if __name__ == "__main__":
  app.run(train.main, flags_parser=common.parse_flags)
