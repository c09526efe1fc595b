"""Weights kept after every epoch of a run, for the study of training dynamics.

:class:`EpochSnapshots` is a training hook that writes the model's
variables before training (``epoch_000.npz``) and after each epoch
(``epoch_001.npz``, …) into a folder; :func:`load` rebuilds the network of
a snapshot. Files are written whole (temporary name, then rename), so a run
killed while saving leaves either the old set or the new file, never half a
file; a resumed run keeps the snapshots it wrote before.
"""

import os
import pathlib

import numpy as np

from tfcnn import model as model_lib, spec as spec_lib


def path(folder: str | os.PathLike, epoch: int) -> pathlib.Path:
  """The snapshot file of `epoch` (0: the initial weights)."""
  return pathlib.Path(folder) / f"epoch_{epoch:03d}.npz"


def save(net: model_lib.Sequential, file: pathlib.Path) -> None:
  """Writes `net`'s variables, in order, to `file` (atomically)."""
  file.parent.mkdir(parents=True, exist_ok=True)
  temporary = file.with_name(file.name + ".tmp.npz")
  np.savez(temporary, *[v.numpy() for v in net.variables])
  os.replace(temporary, file)


def load(file: str | os.PathLike, spec: str, seed: int = 0,
         input_shape: tuple[int, int, int] = (28, 28, 1)) -> model_lib.Sequential:
  """The network `spec` with the snapshot's weights.

  Raises:
    ValueError: if the snapshot does not fit the architecture.
  """
  net = spec_lib.build(spec, seed=seed, input_shape=input_shape)
  with np.load(file, allow_pickle=False) as arrays:
    values = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
  if [v.shape for v in values] != [tuple(v.shape) for v in net.variables]:
    raise ValueError(f"{file} does not fit {spec!r}")
  for variable, value in zip(net.variables, values):
    variable.assign(value)
  return net


class EpochSnapshots:
  """A training hook: the model's weights before training and after every epoch."""

  def __init__(self, folder: str | os.PathLike):
    self.folder = pathlib.Path(folder)

  def on_train_begin(self, state) -> None:
    if state.step_count() == 0 and not path(self.folder, 0).exists():
      save(state.model, path(self.folder, 0))

  def on_epoch_end(self, state, stats: dict) -> None:
    del stats
    save(state.model, path(self.folder, int(state.epoch)))

  def on_train_end(self, state, results: dict) -> None:
    del state, results
