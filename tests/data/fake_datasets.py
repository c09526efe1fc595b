"""Small fake datasets in MNIST's layout, and a local HTTP server (tests only)."""

import contextlib
import functools
import gzip
import hashlib
import http.server
import pathlib
import threading

import numpy as np

from tfcnn.data import idx, sources


def make_arrays(num_train: int = 40, num_test: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
  rng = np.random.default_rng(seed)
  return {
      "train_images": rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
      "train_labels": rng.integers(0, 10, num_train, dtype=np.uint8),
      "test_images": rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
      "test_labels": rng.integers(0, 10, num_test, dtype=np.uint8),
  }


def write_folder(folder: pathlib.Path, arrays: dict[str, np.ndarray]) -> pathlib.Path:
  """Writes `arrays` as the four gzip'd IDX files of MNIST into `folder`."""
  folder.mkdir(parents=True, exist_ok=True)
  for role, array in arrays.items():
    idx.write(folder / sources.DATASETS["mnist"].files[role].name, array)
  return folder


def info_for(name: str, folder: pathlib.Path, num_train: int, num_test: int,
             pin: str = "archive") -> sources.DatasetInfo:
  """A DatasetInfo called `name` whose pins match the files in `folder`."""
  files = {}
  for role, f in sources.DATASETS["mnist"].files.items():
    raw = (folder / f.name).read_bytes()
    if pin == "archive":
      files[role] = sources.FileInfo(f.name, sha256=hashlib.sha256(raw).hexdigest())
    else:
      files[role] = sources.FileInfo(
          f.name, content_sha256=hashlib.sha256(gzip.decompress(raw)).hexdigest())
  return sources.DatasetInfo(name=name, files=files, num_train=num_train, num_test=num_test,
                             class_names=tuple("0123456789"), mirrors=("https://invalid.example/",))


@contextlib.contextmanager
def http_server(folder: pathlib.Path):
  """Serves `folder` on 127.0.0.1 (a free port); yields the base URL; always stops."""
  handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
  handler.log_message = lambda *args: None
  server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  try:
    yield f"http://127.0.0.1:{server.server_address[1]}/"
  finally:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
