"""Run outputs: the weights' fingerprint and atomically written JSON."""

import hashlib
import json
import os
import tempfile
from typing import Any, Sequence

import tensorflow as tf


def weights_sha256(variables: Sequence[tf.Variable]) -> str:
  """SHA-256 over the raw bytes of `variables`, in order.

  Equal digests mean bitwise-equal weights; this is how reproducibility is
  judged.
  """
  digest = hashlib.sha256()
  for variable in variables:
    digest.update(variable.numpy().tobytes())
  return digest.hexdigest()


def write_json(path: str | os.PathLike, data: Any) -> None:
  """Writes `data` as indented JSON, atomically (temporary file + rename)."""
  path = os.fspath(path)
  folder = os.path.dirname(os.path.abspath(path))
  fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
  try:
    with os.fdopen(fd, "w") as f:
      json.dump(data, f, indent=2, sort_keys=False)
      f.write("\n")
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.unlink(tmp)
    raise


def read_json(path: str | os.PathLike) -> Any:
  """Reads a JSON file."""
  with open(path) as f:
    return json.load(f)
