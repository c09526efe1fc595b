"""Run outputs: the weights' fingerprint and atomically written JSON."""

import hashlib
import json
import math
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


def finite_json(data: Any) -> Any:
  """`data` with every NaN or infinite float replaced by None, and the top
  level (a dict) told which: ``"non_finite": {"epochs[0].train_loss": "nan"}``.

  Strict JSON has no NaN or Infinity; many parsers reject them.
  """
  found = {}

  def clean(value, where):
    if isinstance(value, float) and not math.isfinite(value):
      found[where] = repr(value)
      return None
    if isinstance(value, dict):
      return {k: clean(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
      return [clean(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value

  cleaned = clean(data, "")
  if found and isinstance(cleaned, dict):
    cleaned["non_finite"] = found
  return cleaned


def write_json(path: str | os.PathLike, data: Any) -> None:
  """Writes `data` as indented, strict JSON (see :func:`finite_json`),
  atomically (temporary file + rename)."""
  data = finite_json(data)
  path = os.fspath(path)
  folder = os.path.dirname(os.path.abspath(path))
  fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
  try:
    with os.fdopen(fd, "w") as f:
      json.dump(data, f, indent=2, sort_keys=False, allow_nan=False)
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
